// `almanac doctor` through the real binary: a loopback DNS server named by ALMANAC_DNS_SERVER or
// --resolver, a real SMTP relay with a login, the text and --json reports and the exit codes.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DoctorReport } from '../src/cli/doctor.ts';
import { dkimRecord, zoneLine } from '../src/mail/dkim-record.ts';
import { almanac, tempSite, writeFiles } from './helpers/cli.ts';
import { silentDnsServer, startDnsServer, type Zone } from './helpers/dns-server.ts';
import { smtpSink } from './helpers/smtp.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RECORD = dkimRecord(rsa.publicKey, 's1', 'example.org');
const KEY = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PASSWORD = 'relay-password-7f3a';

function zone(withKey: boolean): Zone {
  return {
    TXT: {
      ...(withKey ? { [RECORD.name]: [RECORD.strings] } : {}),
      'example.org': ['v=spf1 ip4:127.0.0.1 -all'],
      '_dmarc.example.org': ['v=DMARC1; p=reject'],
    },
    A: { 'mx.example.org': ['192.0.2.25'] },
    MX: { 'example.org': [{ exchange: 'mx.example.org', priority: 10 }] },
  };
}

async function site(): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, { 'almanac.config.json': JSON.stringify({ from: 'The Letter <letters@example.org>', sending: { dkim: { domain: 'example.org', selector: 's1' } } }) });
  return root;
}

describe('almanac doctor (the CLI)', () => {
  it('all good, as JSON, with ALMANAC_DNS_SERVER: exit 0 and every finding ok; the relay password never shown', async () => {
    const dns = await startDnsServer(zone(true));
    const relay = await smtpSink({ auth: { user: 'almanac', pass: PASSWORD } });
    try {
      const run = await almanac(['doctor', '--json', '--root', await site()], { env: { ALMANAC_DNS_SERVER: dns.address, SMTP_URL: `smtp://almanac:${PASSWORD}@127.0.0.1:${relay.port}`, DKIM_PRIVATE_KEY: KEY } });
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const report = JSON.parse(run.stdout) as DoctorReport;
      // The documented shape, and nothing else: scripts read these names.
      assert.deepEqual(Object.keys(report), ['from', 'resolver', 'findings', 'errors', 'warnings', 'dnsAnswered']);
      for (const f of report.findings) assert.deepEqual(Object.keys(f).filter((k) => !['check', 'subject', 'status', 'found', 'publish'].includes(k)), [], JSON.stringify(f));
      assert.deepEqual(report.resolver, [dns.address]);
      assert.equal(report.errors, 0);
      assert.equal(report.dnsAnswered, true);
      assert.deepEqual(report.findings.map((f) => [f.check, f.status]), [['smtp', 'ok'], ['dkim', 'ok'], ['spf', 'ok'], ['dmarc', 'ok'], ['dmarc', 'ok'], ['mx', 'ok']]);
      assert.ok(!run.stdout.includes(PASSWORD) && !run.stderr.includes(PASSWORD));
      assert.ok(!run.stdout.includes(KEY.split('\n')[1]!.slice(0, 24)));
      assert.ok(dns.queries.includes(`TXT ${RECORD.name}`), 'the key was asked of the loopback server');
      assert.equal(relay.messages.length, 0, 'the preflight sends nothing');
    } finally {
      await relay.close();
      await dns.close();
    }
  });

  it('a missing key record and a refused login: exit 1, each line with the server\'s words or the record to publish', async () => {
    const dns = await startDnsServer(zone(false));
    const relay = await smtpSink({ auth: { user: 'almanac', pass: PASSWORD } });
    try {
      // --resolver wins over ALMANAC_DNS_SERVER.
      const run = await almanac(['doctor', '--resolver', dns.address, '--root', await site()], { env: { ALMANAC_DNS_SERVER: '192.0.2.1', SMTP_URL: `smtp://almanac:wrong@127.0.0.1:${relay.port}`, DKIM_PRIVATE_KEY: KEY } });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stdout, /^error {4}SMTP {3}smtp:\/\/almanac:\*\*\*@127\.0\.0\.1:\d+\/?: .*535 Authentication credentials invalid/m);
      assert.match(run.stdout, /^error {4}DKIM {3}s1\._domainkey\.example\.org: no DKIM key record/m);
      assert.ok(run.stdout.includes(`to fix: ${zoneLine(RECORD)}`), run.stdout);
      assert.match(run.stdout, /^ok {7}SPF {4}example\.org: authorizes the relay 127\.0\.0\.1/m);
      assert.match(run.stdout, /^2 errors, 0 warnings\.$/m);
    } finally {
      await relay.close();
      await dns.close();
    }
  });

  it('a resolver that never answers: exit 2 within a bounded time, saying why', async () => {
    const silent = await silentDnsServer();
    try {
      const started = Date.now();
      const run = await almanac(['doctor', '--resolver', silent.address, '--root', await site()], { env: { SMTP_URL: undefined, DKIM_PRIVATE_KEY: KEY } });
      const elapsed = Date.now() - started;
      assert.equal(run.code, 2, run.stderr);
      assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
      assert.match(run.stderr, /^almanac: doctor could not run: no answer to any of \d+ DNS queries from 127\.0\.0\.1:\d+$/m);
      assert.match(run.stdout, /^error {4}DKIM {3}s1\._domainkey\.example\.org: the TXT lookup failed: no answer within 4 s$/m);
      assert.match(run.stdout, /^error {4}SMTP {3}SMTP_URL: environment: SMTP_URL: expected where mail goes/m);
    } finally {
      await silent.close();
    }
  });

  it('a --resolver that is not an address is wrong usage (exit 2); a bad ALMANAC_DNS_SERVER a setting to fix (exit 1)', async () => {
    const root = await site();
    const usage = await almanac(['doctor', '--resolver', 'dns.example.org', '--root', root]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--resolver expects a DNS server's IP address with an optional port, e\.g\. 127\.0\.0\.1:5353 or \[::1\]:53, found "dns\.example\.org"/);
    // An empty --resolver (an unset variable) must not fall back to the system's resolvers unsaid.
    const empty = await almanac(['doctor', '--resolver', ' , ', '--root', root]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--resolver expects a DNS server's IP address .*, found nothing/);
    const setting = await almanac(['doctor', '--root', root], { env: { ALMANAC_DNS_SERVER: '127.0.0.1:99999' } });
    assert.equal(setting.code, 1);
    assert.match(setting.stderr, /^environment: ALMANAC_DNS_SERVER: expected a DNS server's IP address .*, found "127\.0\.0\.1:99999"$/m);
  });

  it('a zone\'s control characters reach the terminal as escapes: no colour, no overwritten or forged line', async () => {
    const dns = await startDnsServer({
      ...zone(true),
      TXT: { ...zone(true).TXT, 'example.org': ['v=spf1 ip4:127.0.0.1 \x1b[2J\x1b[31mx\r\nok       SPF    forged -all'], '_dmarc.example.org': ['v=DMARC1; p=\x9b31mreject'] },
    });
    try {
      const run = await almanac(['doctor', '--root', await site()], { env: { ALMANAC_DNS_SERVER: dns.address, SMTP_URL: undefined, DKIM_PRIVATE_KEY: KEY } });
      assert.equal(run.code, 1, run.stderr);
      assert.doesNotMatch(run.stdout, /[\x1b\r\x9b]/);
      assert.doesNotMatch(run.stdout, /^ok {7}SPF {4}forged/m);
      assert.match(run.stdout, /^error {4}SPF {4}example\.org: "v=spf1 ip4:127\.0\.0\.1 \\x1b\[2J\\x1b\[31mx\\x0d\\x0aok {7}SPF {4}forged -all" is invalid/m);
      // node:dns gives TXT bytes as Latin-1, so a C1 control such as CSI (0x9b) arrives as one.
      assert.match(run.stdout, /^error {4}DMARC  _dmarc\.example\.org: "v=DMARC1; p=.?\\x9b31mreject" is invalid/m);
    } finally {
      await dns.close();
    }
  });

  it('a site whose From address has no domain on the internet (the default almanac@localhost): the setting to fix, exit 1, no DNS asked', async () => {
    const dns = await startDnsServer(zone(true));
    try {
      const run = await almanac(['doctor', '--resolver', dns.address, '--root', await tempSite()], { env: { SMTP_URL: undefined } });
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^almanac\.config\.json: from: expected a sender with an address readers can reply to, .*found "Call Me Almanac <almanac@localhost>"$/m);
      assert.deepEqual(dns.queries, []);
    } finally {
      await dns.close();
    }
  });
});
