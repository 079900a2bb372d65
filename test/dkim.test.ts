// Every message Almanac sends carries valid DKIM signatures, checked on what a real SMTP server on
// loopback received by an independent verifier (mailauth) with the public keys as DNS serves them:
// an issue (each reader's copy signed with their own unsubscribe link), a test copy and a
// confirmation mail. A bad key setting stops a send before anything leaves; `keys dkim` makes a
// key whose record verifies what it signs.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { configSchema } from '../src/content/config-schema.ts';
import { dkimSign } from '../src/mail/dkim-sign.ts';
import { dkimKeys } from '../src/mail/dkim-keys.ts';
import { messageSigner } from '../src/mail/dkim-signer.ts';
import { openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { PROJECT, almanac, tempSite, until, writeFiles } from './helpers/cli.ts';
import { confirmationWorker } from './helpers/confirmations.ts';
import { testKeys, verifyDkim, type TestKeys } from './helpers/dkim.ts';
import { almanac as inProcess } from './helpers/in-process.ts';
import { rawRequest, startPreview } from './helpers/preview.ts';
import { smtpSink } from './helpers/smtp.ts';

const SECRET = 'test-secret-0123456789abcdef-6f1c9a2e';
const ISSUE = '2026-04-15-midweek';

async function signingSite(keys: TestKeys | undefined, readers: string[]): Promise<string> {
  const root = await tempSite({ sample: true });
  const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ ...config, sending: { dkim: keys?.config ?? { domain: 'almanac.example.org', selector: 's1', ed25519Selector: 'e1' } } }),
    'list.csv': ['email,name,editions', ...readers.map((r) => `${r},,midweek`)].join('\n'),
  });
  assert.equal((await inProcess(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
  const built = await inProcess(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
  assert.equal(built.code, 0, built.stderr);
  return root;
}

const header = (raw: Buffer, name: string) => new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)\\r$`, 'mi').exec(raw.toString('latin1'))?.[1];

describe('DKIM on every message sent', async () => {
  const keys = await testKeys(await tempSite());

  it('issue send: each reader\'s copy has an RSA and an Ed25519 signature, both valid and covering their own unsubscribe link', async () => {
    const root = await signingSite(keys, ['ada@example.com', 'bob@example.com']);
    const sink = await smtpSink();
    try {
      const run = await inProcess(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET, ...keys.env } });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(sink.messages.map((m) => m.to).sort(), ['ada@example.com', 'bob@example.com']);
      const [a, b] = sink.messages.map((m) => m.raw) as [Buffer, Buffer];
      for (const raw of [a, b]) {
        const verdicts = await verifyDkim(raw, keys.records);
        assert.deepEqual(verdicts.map((v) => [v.selector, v.algorithm, v.result]), [['s1', 'rsa-sha256', 'pass'], ['e1', 'ed25519-sha256', 'pass']]);
        assert.ok(verdicts.every((v) => v.signedFields.includes('list-unsubscribe') && v.signedFields.includes('to')));
      }
      // Each copy's link is its own, in the header and in the body the signature covers.
      const linkA = /<(https:[^>]+)>/.exec(header(a, 'List-Unsubscribe')!)![1]!;
      const linkB = /<(https:[^>]+)>/.exec(header(b, 'List-Unsubscribe')!)![1]!;
      assert.notEqual(linkA, linkB);
      // One reader's link put in the other's copy breaks both signatures.
      const swapped = Buffer.from(a.toString('latin1').replace(linkA, linkB), 'latin1');
      assert.ok((await verifyDkim(swapped, keys.records)).every((v) => v.result !== 'pass'));
    } finally {
      await sink.close();
    }
  });

  it('issue send --to: the test copy is signed', async () => {
    const root = await signingSite(keys, []);
    const sink = await smtpSink();
    try {
      const run = await inProcess(['issue', 'send', ISSUE, '--to', 'editor@example.com', '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET, ...keys.env } });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(sink.messages.length, 1);
      assert.deepEqual((await verifyDkim(sink.messages[0]!.raw, keys.records)).map((v) => v.result), ['pass', 'pass']);
    } finally {
      await sink.close();
    }
  });

  it('preview: a test copy sent from the editor\'s preview is signed', async () => {
    const root = await signingSite(keys, ['ada@example.com']);
    const sink = await smtpSink();
    const running = await startPreview(['--root', root, '--now', '2026-04-15T06:00:00Z'], { SMTP_URL: sink.url, ...keys.env });
    try {
      const own = `127.0.0.1:${running.port}`;
      const sent = await rawRequest(
        running.port,
        {
          method: 'POST',
          target: '/issues/midweek/send-test',
          headers: [['Host', own], ['Origin', `http://${own}`], ['Sec-Fetch-Site', 'same-origin'], ['Content-Type', 'application/x-www-form-urlencoded']],
          body: new URLSearchParams({ to: 'ada@example.com' }).toString(),
        },
        30_000,
      );
      assert.equal(sent.status, 200, sent.body);
      assert.equal(sink.messages.length, 1);
      assert.deepEqual((await verifyDkim(sink.messages[0]!.raw, keys.records)).map((v) => v.result), ['pass', 'pass']);
    } finally {
      await running.stop();
      await sink.close();
    }
  });

  it('a confirmation mail is signed', async () => {
    const root = await signingSite(keys, []);
    const config = configSchema.parse({ ...JSON.parse(await readFile(path.join(root, 'almanac.config.json'), 'utf8')) });
    const sink = await smtpSink();
    const db = openDatabase(path.join(root, '.almanac/almanac.db'));
    const subscribers = new SqliteSubscribers(db);
    const now = Date.now();
    const worker = confirmationWorker({ db, subscribers, config, secret: SECRET, smtpUrl: sink.url, clock: () => now, signer: messageSigner(config, { env: keys.env }) });
    try {
      const signed = subscribers.signUp('new@example.com', ['midweek'], now)!;
      worker.confirmations.queue.enqueue(signed.subscriber.id, 'new@example.com', now, 0);
      worker.confirmations.wake();
      await until(() => sink.messages.length === 1, 20_000);
      const raw = sink.messages[0]!.raw;
      assert.match(raw.toString('latin1'), /confirm\?token=/);
      assert.deepEqual((await verifyDkim(raw, keys.records)).map((v) => [v.selector, v.result]), [['s1', 'pass'], ['e1', 'pass']]);
    } finally {
      await worker.stop();
      db.close();
      await sink.close();
    }
  });

  it('sending.dkim without its key: the send stops before any message leaves, naming the variable', async () => {
    const root = await signingSite(undefined, ['ada@example.com']);
    const sink = await smtpSink();
    try {
      const run = await inProcess(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET, DKIM_PRIVATE_KEY: undefined, DKIM_PRIVATE_KEY_FILE: undefined, DKIM_ED25519_PRIVATE_KEY: keys.edPem } });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /environment: DKIM_PRIVATE_KEY: expected the private key for sending\.dkim\.selector "s1"/);
      assert.ok(!run.stderr.includes(keys.edPem.split('\n')[1]!));
      assert.equal(sink.messages.length, 0);
      const db = new Database(path.join(root, '.almanac/almanac.db'), { readonly: true });
      const owed = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'deliveries'").get() as { n: number };
      const rows = owed.n ? (db.prepare('SELECT COUNT(*) AS n FROM deliveries').get() as { n: number }).n : 0;
      db.close();
      assert.equal(rows, 0, 'no reader queued or marked');
    } finally {
      await sink.close();
    }
  });

  it('keys dkim (the CLI): the private key in a new owner-only file, and its printed record verifies what it signs', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ from: 'Almanac <letters@news.example.org>' }) });
    const run = await almanac(['keys', 'dkim', '--selector', 's2026', '--root', root]);
    assert.equal(run.code, 0, run.stderr);
    const keyFile = path.join(root, '.almanac/dkim-s2026.pem');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const pem = await readFile(keyFile, 'utf8');
    assert.ok(!run.stdout.includes(pem.split('\n')[1]!), 'the private key is not printed');
    const line = /^s2026\._domainkey\.news\.example\.org\. IN TXT (.+)$/m.exec(run.stdout);
    assert.ok(line, run.stdout);
    const strings = [...line[1]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(strings.length > 1 && strings.every((s) => s.length <= 255));
    const signingConfig = configSchema.parse({ sending: { dkim: { domain: 'news.example.org', selector: 's2026' } } });
    const signed = dkimSign(Buffer.from('From: letters@news.example.org\r\nSubject: hi\r\n\r\nHello\r\n'), dkimKeys(signingConfig, { DKIM_PRIVATE_KEY_FILE: keyFile }), Date.now());
    const record = { name: 's2026._domainkey.news.example.org', value: strings.join(''), strings };
    assert.deepEqual((await verifyDkim(signed, [record])).map((v) => v.result), ['pass']);
    // A second run never overwrites the key in use.
    const again = await almanac(['keys', 'dkim', '--selector', 's2026', '--root', root]);
    assert.equal(again.code, 1);
    assert.equal(await readFile(keyFile, 'utf8'), pem);
  });
});
