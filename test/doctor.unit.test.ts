// doctor's checks against a real DNS server on loopback serving each case's zone: the DKIM key
// records against the signing keys, SPF for the relay's address (include chains, loops, the lookup
// limit), DMARC policy and alignment, MX for replies and bounces, and a resolver that never answers.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { configSchema, type Config } from '../src/content/config-schema.ts';
import { dkimRecord, zoneLine } from '../src/mail/dkim-record.ts';
import { nodeDnsLookup } from '../src/mail/dns-lookup.ts';
import { runDoctor, type Finding } from '../src/mail/doctor.ts';
import { silentDnsServer, startDnsServer, type Zone } from './helpers/dns-server.ts';

const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const RSA_RECORD = dkimRecord(rsa.publicKey, 's1', 'example.org');
const ED_RECORD = dkimRecord(ed.publicKey, 'e1', 'example.org');
const ENV = { DKIM_PRIVATE_KEY: pem(rsa.privateKey), DKIM_ED25519_PRIVATE_KEY: pem(ed.privateKey) };
const RELAY_IP = '198.51.100.7';

const CONFIG = { from: 'The Letter <letters@example.org>', sending: { dkim: { domain: 'example.org', selector: 's1', ed25519Selector: 'e1' } } };

function goodZone(): Required<Zone> {
  return {
    TXT: {
      [RSA_RECORD.name]: [RSA_RECORD.strings],
      [ED_RECORD.name]: [ED_RECORD.strings],
      'example.org': ['v=spf1 include:_spf.provider.net ~all', 'google-site-verification=abc'],
      '_spf.provider.net': ['v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 -all'],
      '_dmarc.example.org': ['v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org'],
    },
    A: { 'relay.provider.net': [RELAY_IP], 'mx.example.org': ['192.0.2.25'] },
    AAAA: {},
    MX: { 'example.org': [{ exchange: 'mx.example.org', priority: 10 }] },
  };
}

interface Case {
  zone?: (zone: Required<Zone>) => void;
  config?: object;
  env?: NodeJS.ProcessEnv;
  relayHost?: string;
  preflight?: () => Promise<string | undefined>;
  /** Receives the queries the DNS server was asked. */
  asked?: string[];
}

async function doctor(c: Case = {}): Promise<Finding[]> {
  const zone = goodZone();
  c.zone?.(zone);
  const server = await startDnsServer(zone);
  try {
    const config: Config = configSchema.parse(c.config ?? CONFIG);
    const host = c.relayHost ?? 'relay.provider.net';
    return await runDoctor({
      config,
      env: c.env ?? ENV,
      dns: nodeDnsLookup({ servers: [server.address], deadlineMs: 3000 }),
      relay: { url: `smtp://${host}:587`, host },
      preflight: c.preflight ?? (async () => undefined),
    });
  } finally {
    c.asked?.push(...server.queries);
    await server.close();
  }
}

function one(findings: Finding[], check: Finding['check'], subject: string | RegExp): Finding {
  const found = findings.filter((f) => f.check === check && (typeof subject === 'string' ? f.subject === subject : subject.test(f.subject)));
  assert.equal(found.length, 1, `one ${check} finding for ${subject} in ${JSON.stringify(findings, null, 1)}`);
  return found[0]!;
}

describe('doctor: all good', () => {
  it('every check ok: relay, both DKIM keys, SPF through an include, DMARC and its alignment, MX', async () => {
    const findings = await doctor();
    assert.deepEqual(
      findings.map((f) => [f.check, f.subject, f.status]),
      [
        ['smtp', 'smtp://relay.provider.net:587', 'ok'],
        ['dkim', 's1._domainkey.example.org', 'ok'],
        ['dkim', 'e1._domainkey.example.org', 'ok'],
        ['spf', 'example.org', 'ok'],
        ['dmarc', '_dmarc.example.org', 'ok'],
        ['dmarc', 'alignment with example.org', 'ok'],
        ['mx', 'example.org (replies and bounces)', 'ok'],
      ],
    );
    assert.match(one(findings, 'dkim', 's1._domainkey.example.org').found, /an RSA key of 2048 bits matching DKIM_PRIVATE_KEY/);
    assert.match(one(findings, 'dkim', 'e1._domainkey.example.org').found, /an Ed25519 key matching DKIM_ED25519_PRIVATE_KEY/);
    assert.match(one(findings, 'spf', 'example.org').found, /198\.51\.100\.7: include:_spf\.provider\.net in example\.org matches.*ends with ~all/);
    assert.match(one(findings, 'dmarc', '_dmarc.example.org').found, /p=quarantine, adkim=r, aspf=r/);
  });

  it('the relay\'s refusal is reported in the server\'s words', async () => {
    const findings = await doctor({ preflight: async () => '535 5.7.8 Authentication credentials invalid (at AUTH PLAIN)' });
    const smtp = one(findings, 'smtp', 'smtp://relay.provider.net:587');
    assert.equal(smtp.status, 'error');
    assert.equal(smtp.found, '535 5.7.8 Authentication credentials invalid (at AUTH PLAIN)');
  });
});

describe('doctor: DKIM', () => {
  it('no record: an error with the exact record to publish, derived from the private key', async () => {
    const findings = await doctor({ zone: (z) => delete z.TXT[RSA_RECORD.name] });
    const s1 = one(findings, 'dkim', RSA_RECORD.name);
    assert.equal(s1.status, 'error');
    assert.match(s1.found, /no DKIM key record/);
    assert.equal(s1.publish, zoneLine(RSA_RECORD));
    assert.equal(one(findings, 'dkim', ED_RECORD.name).status, 'ok');
  });

  it('another RSA key published: an error saying it is not the private key\'s public half', async () => {
    const other = dkimRecord(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 's1', 'example.org');
    const s1 = one(await doctor({ zone: (z) => (z.TXT[RSA_RECORD.name] = [other.strings]) }), 'dkim', RSA_RECORD.name);
    assert.equal(s1.status, 'error');
    assert.equal(s1.found, 'another RSA key (2048 bits), not the public half of DKIM_PRIVATE_KEY');
    assert.equal(s1.publish, zoneLine(RSA_RECORD));
  });

  it('the other key\'s record under a selector (Ed25519 where RSA signs, and the reverse): an error', async () => {
    const findings = await doctor({ zone: (z) => ([z.TXT[RSA_RECORD.name], z.TXT[ED_RECORD.name]] = [[ED_RECORD.strings], [RSA_RECORD.strings]]) });
    assert.match(one(findings, 'dkim', RSA_RECORD.name).found, /a key of type ed25519 where the private key is rsa/);
    assert.match(one(findings, 'dkim', ED_RECORD.name).found, /a key of type rsa where the private key is ed25519/);
  });

  it('another Ed25519 key: an error', async () => {
    const other = dkimRecord(generateKeyPairSync('ed25519').publicKey, 'e1', 'example.org');
    const e1 = one(await doctor({ zone: (z) => (z.TXT[ED_RECORD.name] = [other.strings]) }), 'dkim', ED_RECORD.name);
    assert.equal(e1.status, 'error');
    assert.equal(e1.found, 'another Ed25519 key, not the public half of DKIM_ED25519_PRIVATE_KEY');
  });

  it('the Ed25519 key published as its whole SubjectPublicKeyInfo: an error that says so, with the bare key to publish', async () => {
    const spki = (ed.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
    const e1 = one(await doctor({ zone: (z) => (z.TXT[ED_RECORD.name] = [`v=DKIM1; k=ed25519; p=${spki}`]) }), 'dkim', ED_RECORD.name);
    assert.equal(e1.status, 'error');
    assert.equal(e1.found, 'the public key as a whole SubjectPublicKeyInfo, where receivers read the bare 32-byte key (RFC 8463): DKIM_ED25519_PRIVATE_KEY\'s key, written so that no signature verifies');
    assert.equal(e1.publish, zoneLine(ED_RECORD));
  });

  it('a revoked key (empty p=) is an error; test mode (t=y) a warning; a 1024-bit key a warning', async () => {
    const revoked = one(await doctor({ zone: (z) => (z.TXT[RSA_RECORD.name] = ['v=DKIM1; k=rsa; p=']) }), 'dkim', RSA_RECORD.name);
    assert.equal(revoked.status, 'error');
    assert.match(revoked.found, /revoked/);
    const testMode = one(await doctor({ zone: (z) => (z.TXT[RSA_RECORD.name] = [RSA_RECORD.value.replace('k=rsa;', 'k=rsa; t=y;')]) }), 'dkim', RSA_RECORD.name);
    assert.equal(testMode.status, 'warning');
    assert.match(testMode.found, /test mode \(t=y\)/);
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const shortRecord = dkimRecord(short.publicKey, 's1', 'example.org');
    const weak = one(await doctor({ zone: (z) => (z.TXT[RSA_RECORD.name] = [shortRecord.strings]), env: { ...ENV, DKIM_PRIVATE_KEY: pem(short.privateKey) } }), 'dkim', RSA_RECORD.name);
    assert.equal(weak.status, 'warning');
    assert.match(weak.found, /1024 bits matching DKIM_PRIVATE_KEY; 2048 bits are advised/);
  });

  it('a key limited to another hash (h=sha1) or service (s=tlsrpt): an error; h=sha1:sha256 and s=email are fine', async () => {
    const limited = (tags: string) => doctor({ zone: (z) => (z.TXT[RSA_RECORD.name] = [RSA_RECORD.value.replace('k=rsa;', `k=rsa; ${tags}`)]) });
    const sha1 = one(await limited('h=sha1;'), 'dkim', RSA_RECORD.name);
    assert.equal(sha1.status, 'error');
    assert.match(sha1.found, /^h=sha1 does not allow sha256/);
    const service = one(await limited('s=tlsrpt;'), 'dkim', RSA_RECORD.name);
    assert.equal(service.status, 'error');
    assert.match(service.found, /^s=tlsrpt is not for email/);
    assert.equal(one(await limited('h=sha1:sha256; s=email;'), 'dkim', RSA_RECORD.name).status, 'ok');
  });

  it('a record published as the bare RSAPublicKey (PKCS#1) some tools print still matches', async () => {
    const pkcs1 = (rsa.publicKey.export({ type: 'pkcs1', format: 'der' }) as Buffer).toString('base64');
    const s1 = one(await doctor({ zone: (z) => (z.TXT[RSA_RECORD.name] = [[`v=DKIM1; k=rsa; p=${pkcs1.slice(0, 200)}`, pkcs1.slice(200)]]) }), 'dkim', RSA_RECORD.name);
    assert.equal(s1.status, 'ok', s1.found);
  });

  it('a selector without its key variable: an error naming the variable; no sending.dkim: an error', async () => {
    const missing = await doctor({ env: { DKIM_ED25519_PRIVATE_KEY: ENV.DKIM_ED25519_PRIVATE_KEY } });
    assert.match(one(missing, 'dkim', 'DKIM_PRIVATE_KEY').found, /environment: DKIM_PRIVATE_KEY: expected the private key for sending\.dkim\.selector "s1"/);
    const unsigned = one(await doctor({ config: { from: CONFIG.from }, env: {} }), 'dkim', 'sending.dkim');
    assert.equal(unsigned.status, 'error');
    assert.match(unsigned.publish!, /almanac keys dkim --selector s1/);
  });
});

describe('doctor: SPF', () => {
  it('no SPF record: an error with a record authorizing the relay\'s address', async () => {
    const spf = one(await doctor({ zone: (z) => (z.TXT['example.org'] = ['google-site-verification=abc']) }), 'spf', 'example.org');
    assert.equal(spf.status, 'error');
    assert.match(spf.found, /example\.org has no SPF record \(the return-path domain/);
    assert.equal(spf.publish, `example.org. IN TXT "v=spf1 ip4:${RELAY_IP} ~all"`);
  });

  it('two SPF records: an error (receivers take neither)', async () => {
    const spf = one(await doctor({ zone: (z) => z.TXT['example.org']!.push('v=spf1 -all') }), 'spf', 'example.org');
    assert.equal(spf.status, 'error');
    assert.match(spf.found, /2 SPF records/);
  });

  it('an SPF record without the relay: a warning that cannot tell, and the record with the relay added', async () => {
    const spf = one(await doctor({ zone: (z) => (z.TXT['example.org'] = ['v=spf1 ip4:203.0.113.9 mx -all']) }), 'spf', 'example.org');
    assert.equal(spf.status, 'warning');
    assert.match(spf.found, /^cannot tell whether the relay is authorized: 198\.51\.100\.7 gets fail \(-all in example\.org\)/);
    assert.match(spf.found, /ends with -all/);
    assert.equal(spf.publish, `example.org. IN TXT "v=spf1 ip4:203.0.113.9 mx ip4:${RELAY_IP} -all"`);
  });

  it('a relay on a private address: cannot tell, said as a warning', async () => {
    const spf = one(await doctor({ relayHost: '10.0.0.5' }), 'spf', 'example.org');
    assert.equal(spf.status, 'warning');
    assert.match(spf.found, /cannot tell: the relay 10\.0\.0\.5 is at a private address/);
  });

  it('an include chain three deep, with a, mx and redirect on the way, authorizes the relay', async () => {
    const spf = one(
      await doctor({
        zone: (z) => {
          z.TXT['example.org'] = ['v=spf1 a mx include:one.example.net ?all'];
          z.TXT['one.example.net'] = ['v=spf1 ip4:203.0.113.0/24 redirect=two.example.net'];
          z.TXT['two.example.net'] = ['v=spf1 include:three.example.net -all'];
          z.TXT['three.example.net'] = ['v=spf1 a:relay.provider.net/28 -all'];
        },
      }),
      'spf',
      'example.org',
    );
    assert.equal(spf.status, 'ok', spf.found);
    assert.match(spf.found, /198\.51\.100\.7: include:one\.example\.net in example\.org matches\); ends with \?all/);
  });

  it('an include loop: an error naming the loop', async () => {
    const spf = one(
      await doctor({
        zone: (z) => {
          z.TXT['example.org'] = ['v=spf1 include:loop.example.net -all'];
          z.TXT['loop.example.net'] = ['v=spf1 include:example.org -all'];
        },
      }),
      'spf',
      'example.org',
    );
    assert.equal(spf.status, 'error');
    assert.match(spf.found, /permerror, a loop: example\.org → loop\.example\.net → example\.org/);
  });

  it('more than 10 lookups: an error at the eleventh', async () => {
    const spf = one(
      await doctor({
        zone: (z) => {
          z.TXT['example.org'] = ['v=spf1 include:i1.example.net -all'];
          for (let i = 1; i <= 11; i++) z.TXT[`i${i}.example.net`] = [i < 11 ? `v=spf1 include:i${i + 1}.example.net -all` : `v=spf1 ip4:${RELAY_IP} -all`];
        },
      }),
      'spf',
      'example.org',
    );
    assert.equal(spf.status, 'error');
    assert.match(spf.found, /more than 10 DNS lookups \(the limit was passed at include:i11\.example\.net\)/);
  });

  it('more than 2 lookups that find nothing: an error, as receivers give permerror', async () => {
    const spf = one(await doctor({ zone: (z) => (z.TXT['example.org'] = [`v=spf1 a:n1.example.net mx:n2.example.net exists:n3.example.net ip4:${RELAY_IP} -all`]) }), 'spf', 'example.org');
    assert.equal(spf.status, 'error');
    assert.match(spf.found, /permerror, more than 2 lookups that found nothing \(the limit was passed at exists:n3\.example\.net\)/);
  });

  it('a relay with several addresses: each record is asked of DNS once, however many addresses walk it', async () => {
    const asked: string[] = [];
    const spf = one(
      await doctor({
        asked,
        zone: (z) => {
          z.A['relay.provider.net'] = ['198.51.100.7', '198.51.100.8', '198.51.100.9'];
          z.TXT['example.org'] = ['v=spf1 include:one.example.net include:_spf.provider.net -all'];
          z.TXT['one.example.net'] = ['v=spf1 ip4:203.0.113.0/24 -all'];
        },
      }),
      'spf',
      'example.org',
    );
    assert.equal(spf.status, 'ok', spf.found);
    assert.deepEqual(asked.filter((q) => asked.indexOf(q) !== asked.lastIndexOf(q)), []);
    assert.ok(asked.includes('TXT one.example.net') && asked.includes('TXT _spf.provider.net'), asked.join(', '));
  });

  it('+all authorizes the relay and everyone else: a warning with the record ending ~all', async () => {
    const spf = one(await doctor({ zone: (z) => (z.TXT['example.org'] = ['v=spf1 mx +all']) }), 'spf', 'example.org');
    assert.equal(spf.status, 'warning');
    assert.match(spf.found, /ends with \+all, which authorizes every sender on the internet/);
    assert.equal(spf.publish, 'example.org. IN TXT "v=spf1 mx ~all"');
  });

  it('an include ending in +all, or a network as wide as the internet, authorizes every sender: a warning', async () => {
    const viaInclude = one(await doctor({ zone: (z) => ((z.TXT['example.org'] = ['v=spf1 include:_spf.provider.net include:open.example.net -all']), (z.TXT['open.example.net'] = ['v=spf1 +all'])) }), 'spf', 'example.org');
    assert.equal(viaInclude.status, 'warning');
    assert.match(viaInclude.found, /authorizes the relay, and every other sender too: 240\.0\.0\.1, a reserved address, passes \(include:open\.example\.net in example\.org matches\)/);
    const wide = one(await doctor({ zone: (z) => (z.TXT['example.org'] = ['v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all']) }), 'spf', 'example.org');
    assert.equal(wide.status, 'warning');
    assert.match(wide.found, /passes \(ip4:128\.0\.0\.0\/1 in example\.org matches\)/);
  });

  it('a From domain of its own without SPF is a warning; the return-path domain\'s SPF is the one that decides', async () => {
    const findings = await doctor({
      config: { ...CONFIG, from: 'The Letter <letters@letters.example.com>', bounces: { domain: 'example.org' } },
      zone: (z) => (z.MX['letters.example.com'] = [{ exchange: 'mx.example.org', priority: 10 }]),
    });
    assert.equal(one(findings, 'spf', 'example.org').status, 'ok');
    const from = one(findings, 'spf', 'letters.example.com');
    assert.equal(from.status, 'warning');
    assert.match(from.found, /letters\.example\.com has no SPF record \(the From domain\)/);
  });

  it('a relay whose name has no address: cannot tell', async () => {
    const spf = one(await doctor({ relayHost: 'gone.provider.net' }), 'spf', 'example.org');
    assert.equal(spf.status, 'warning');
    assert.match(spf.found, /cannot tell whether it authorizes the relay gone\.provider\.net: it has no A or AAAA record/);
  });
});

describe('doctor: DMARC and alignment', () => {
  it('no DMARC record: an error with one to publish', async () => {
    const findings = await doctor({ zone: (z) => delete z.TXT['_dmarc.example.org'] });
    const dmarc = one(findings, 'dmarc', '_dmarc.example.org');
    assert.equal(dmarc.status, 'error');
    assert.equal(dmarc.publish, '_dmarc.example.org. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.org"');
  });

  it('p=none: a warning that receivers act on nothing', async () => {
    const dmarc = one(await doctor({ zone: (z) => (z.TXT['_dmarc.example.org'] = ['v=DMARC1; p=none']) }), 'dmarc', '_dmarc.example.org');
    assert.equal(dmarc.status, 'warning');
    assert.match(dmarc.found, /^p=none, adkim=r, aspf=r: receivers only report/);
  });

  it('pct=0 applies the policy to no mail: a warning, however strict p= is', async () => {
    const dmarc = one(await doctor({ zone: (z) => (z.TXT['_dmarc.example.org'] = ['v=DMARC1; p=reject; pct=0']) }), 'dmarc', '_dmarc.example.org');
    assert.equal(dmarc.status, 'warning');
    assert.match(dmarc.found, /^p=reject, adkim=r, aspf=r, pct=0: the policy is applied to 0% of the mail that fails/);
  });

  it('strict SPF alignment with a bounce subdomain: a warning that DMARC rests on DKIM alone; the bounce domain\'s SPF and MX are checked', async () => {
    const findings = await doctor({
      config: { ...CONFIG, bounces: { domain: 'bounces.example.org' } },
      zone: (z) => {
        z.TXT['_dmarc.example.org'] = ['v=DMARC1; p=reject; aspf=s'];
        z.TXT['bounces.example.org'] = [`v=spf1 ip4:${RELAY_IP} -all`];
        z.MX['bounces.example.org'] = [{ exchange: 'mx.example.org', priority: 10 }];
      },
    });
    const alignment = one(findings, 'dmarc', 'alignment with example.org');
    assert.equal(alignment.status, 'warning');
    assert.match(alignment.found, /DKIM d=example\.org aligns \(adkim=r, relaxed\); the return path @bounces\.example\.org does not align \(aspf=s, strict\): DMARC passes through DKIM alone/);
    assert.equal(one(findings, 'spf', 'bounces.example.org').status, 'ok');
    assert.equal(one(findings, 'mx', 'bounces.example.org (bounces)').status, 'ok');
    assert.equal(one(findings, 'mx', 'example.org (replies)').status, 'ok');
  });

  it('neither DKIM nor the return path aligned: an error', async () => {
    const findings = await doctor({
      config: { ...CONFIG, sending: { dkim: { domain: 'provider.net', selector: 's1' } }, bounces: { domain: 'bounces.provider.net' } },
      env: { DKIM_PRIVATE_KEY: ENV.DKIM_PRIVATE_KEY },
      zone: (z) => {
        z.TXT['s1._domainkey.provider.net'] = [RSA_RECORD.strings];
        z.TXT['bounces.provider.net'] = [`v=spf1 ip4:${RELAY_IP} -all`];
        z.MX['bounces.provider.net'] = [{ exchange: 'mx.provider.net', priority: 5 }];
      },
    });
    const alignment = one(findings, 'dmarc', 'alignment with example.org');
    assert.equal(alignment.status, 'error');
    assert.match(alignment.found, /DKIM d=provider\.net does not align .*the return path @bounces\.provider\.net does not align .*DMARC fails for every message/);
  });

  it('a From subdomain without its own record falls back to the organisational domain\'s, and says how it was found', async () => {
    const findings = await doctor({
      config: { ...CONFIG, from: 'The Letter <letters@news.example.org>', bounces: { domain: 'example.org' } },
      zone: (z) => (z.MX['news.example.org'] = [{ exchange: 'mx.example.org', priority: 10 }]),
    });
    const dmarc = one(findings, 'dmarc', '_dmarc.example.org');
    assert.equal(dmarc.status, 'ok');
    assert.match(dmarc.found, /the organisational domain's record, which receivers apply to news\.example\.org/);
    assert.equal(one(findings, 'dmarc', 'alignment with news.example.org').status, 'ok');
  });
});

describe('doctor: DMARC for a From subdomain', () => {
  it('the organisational domain\'s sp=none is what applies: a warning, though its p= is reject', async () => {
    const findings = await doctor({
      config: { ...CONFIG, from: 'The Letter <letters@news.example.org>', bounces: { domain: 'example.org' } },
      zone: (z) => {
        z.TXT['_dmarc.example.org'] = ['v=DMARC1; p=reject; sp=none'];
        z.MX['news.example.org'] = [{ exchange: 'mx.example.org', priority: 10 }];
      },
    });
    const dmarc = one(findings, 'dmarc', '_dmarc.example.org');
    assert.equal(dmarc.status, 'warning');
    assert.match(dmarc.found, /^p=reject, sp=none \(the policy for news\.example\.org\), adkim=r.*: receivers only report, and act on nothing; move to sp=quarantine/);
  });

  it('the From domain\'s own record: its sp= is for names below it, and p= applies', async () => {
    const dmarc = one(await doctor({ zone: (z) => (z.TXT['_dmarc.example.org'] = ['v=DMARC1; p=reject; sp=none']) }), 'dmarc', '_dmarc.example.org');
    assert.equal(dmarc.status, 'ok');
    assert.match(dmarc.found, /^p=reject, adkim=r/);
  });
});

describe('doctor: a From domain of non-ASCII letters', () => {
  it('is looked up and compared as DNS holds it (xn--…), so a signing domain written so aligns', async () => {
    const idn = 'xn--bcher-kva.example';
    const record = dkimRecord(rsa.publicKey, 's1', idn);
    const findings = await doctor({
      config: { from: 'Bücher <letters@bücher.example>', sending: { dkim: { domain: idn, selector: 's1' } } },
      env: { DKIM_PRIVATE_KEY: ENV.DKIM_PRIVATE_KEY },
      zone: (z) => {
        z.TXT[record.name] = [record.strings];
        z.TXT[idn] = [`v=spf1 ip4:${RELAY_IP} -all`];
        z.TXT[`_dmarc.${idn}`] = ['v=DMARC1; p=reject'];
        z.MX[idn] = [{ exchange: 'mx.example.org', priority: 10 }];
      },
    });
    assert.deepEqual(findings.map((f) => [f.check, f.subject, f.status]), [
      ['smtp', 'smtp://relay.provider.net:587', 'ok'],
      ['dkim', record.name, 'ok'],
      ['spf', idn, 'ok'],
      ['dmarc', `_dmarc.${idn}`, 'ok'],
      ['dmarc', `alignment with ${idn}`, 'ok'],
      ['mx', `${idn} (replies and bounces)`, 'ok'],
    ]);
  });
});

describe('doctor: a From domain under a public suffix of two labels', () => {
  it('news.example.co.uk falls back to _dmarc.example.co.uk, and a signing domain elsewhere under co.uk does not align', async () => {
    const findings = await doctor({
      config: { from: 'The Letter <letters@news.example.co.uk>', sending: { dkim: { domain: 'provider.co.uk', selector: 's1' } }, bounces: { domain: 'bounces.provider.co.uk' } },
      env: { DKIM_PRIVATE_KEY: ENV.DKIM_PRIVATE_KEY },
      zone: (z) => {
        z.TXT['s1._domainkey.provider.co.uk'] = [RSA_RECORD.strings];
        z.TXT['_dmarc.example.co.uk'] = ['v=DMARC1; p=reject'];
        z.TXT['_dmarc.co.uk'] = ['v=DMARC1; p=none'];
      },
    });
    const dmarc = one(findings, 'dmarc', '_dmarc.example.co.uk');
    assert.equal(dmarc.status, 'ok', dmarc.found);
    const alignment = one(findings, 'dmarc', 'alignment with news.example.co.uk');
    assert.equal(alignment.status, 'error');
    assert.match(alignment.found, /DKIM d=provider\.co\.uk does not align.*the return path @bounces\.provider\.co\.uk does not align/);
  });
});

describe('doctor: MX', () => {
  it('no MX and no A for the bounce domain: an error, as bounces would never arrive', async () => {
    const findings = await doctor({ config: { ...CONFIG, bounces: { domain: 'bounces.example.org' } }, zone: (z) => (z.TXT['bounces.example.org'] = [`v=spf1 ip4:${RELAY_IP} -all`]) });
    const mx = one(findings, 'mx', 'bounces.example.org (bounces)');
    assert.equal(mx.status, 'error');
    assert.match(mx.found, /no MX and no A record: asynchronous bounces and complaints never arrive/);
    assert.equal(mx.publish, 'bounces.example.org. IN MX 10 <the host that receives its mail>');
  });

  it('an MX whose hosts have no address: an error, as nothing would receive the mail; one host reachable is enough', async () => {
    const typo = one(await doctor({ zone: (z) => (z.MX['example.org'] = [{ exchange: 'mx.exampel.org', priority: 10 }]) }), 'mx', /^example\.org/);
    assert.equal(typo.status, 'error');
    assert.match(typo.found, /^MX 10 mx\.exampel\.org, but none of its hosts has an address \(mx\.exampel\.org: it has no A or AAAA record\), so asynchronous bounces/);
    const backup = one(await doctor({ zone: (z) => (z.MX['example.org'] = [{ exchange: 'mx.exampel.org', priority: 10 }, { exchange: 'mx.example.org', priority: 20 }]) }), 'mx', /^example\.org/);
    assert.equal(backup.status, 'ok', backup.found);
  });

  it('no MX but an A record: a warning; a null MX: an error', async () => {
    const implicit = one(await doctor({ zone: (z) => ((z.A['example.org'] = ['192.0.2.80']), delete z.MX['example.org']) }), 'mx', /^example\.org/);
    assert.equal(implicit.status, 'warning');
    assert.match(implicit.found, /no MX; mail goes to its A address 192\.0\.2\.80/);
    const nullMx = one(await doctor({ zone: (z) => (z.MX['example.org'] = [{ exchange: '', priority: 0 }]) }), 'mx', /^example\.org/);
    assert.equal(nullMx.status, 'error');
    assert.match(nullMx.found, /a null MX/);
  });
});

describe('doctor: a resolver that never answers', () => {
  it('every DNS check ends within its deadline with a line saying so', async () => {
    const silent = await silentDnsServer();
    const started = Date.now();
    try {
      const findings = await runDoctor({
        config: configSchema.parse(CONFIG),
        env: ENV,
        dns: nodeDnsLookup({ servers: [silent.address], deadlineMs: 500 }),
        relay: { url: 'smtp://relay.provider.net:587', host: 'relay.provider.net' },
        preflight: async () => undefined,
      });
      const elapsed = Date.now() - started;
      // Queries run side by side; the longest path is a few queries one after another.
      assert.ok(elapsed < 3000, `took ${elapsed} ms`);
      assert.ok(silent.queries.length > 0, 'the queries reached the silent server');
      const dnsFindings = findings.filter((f) => f.check !== 'smtp');
      assert.ok(dnsFindings.length >= 5);
      for (const f of dnsFindings) {
        assert.notEqual(f.status, 'ok', f.subject);
        assert.match(f.found, /no answer within 0\.5 s|no address/, f.subject);
      }
    } finally {
      await silent.close();
    }
  });
});
