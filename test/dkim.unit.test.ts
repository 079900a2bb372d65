// DKIM: key settings, the signature an independent verifier (mailauth) checks, and the DNS record.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema, type Config } from '../src/content/config-schema.ts';
import { ConfigError } from '../src/content/problems.ts';
import { dkimKeys } from '../src/mail/dkim-keys.ts';
import { dkimRecord, newDkimKey } from '../src/mail/dkim-record.ts';
import { dkimSign } from '../src/mail/dkim-sign.ts';
import { DKIM_DOMAIN, testKeys, verifyDkim } from './helpers/dkim.ts';

const config = (dkim?: object): Config => configSchema.parse(dkim ? { sending: { dkim } } : {});

const MESSAGE = Buffer.from(
  [
    'From: Call Me Almanac <almanac@almanac.example.org>',
    'To: Reader <reader@example.com>',
    'Subject: Midweek #1:  a   subject',
    '\tfolded on',
    'Message-ID: <1@almanac.example.org>',
    'Date: Wed, 15 Apr 2026 07:00:00 +0000',
    'List-Unsubscribe: <https://almanac.example.org/unsubscribe?token=u.1.0.abc>, <mailto:almanac@almanac.example.org?subject=unsubscribe>',
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello  reader, =',
    'with spaces at the end   ',
    '',
    '',
  ].join('\r\n'),
);

/** The problems of a ConfigError thrown by `f`, as text; fails if `f` throws anything else or nothing. */
function configProblems(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('DKIM signatures', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-dkim-'));
  const keys = await testKeys(dir);

  it('an RSA and an Ed25519 signature, both valid, cover the unsubscribe headers', async () => {
    const signed = dkimSign(MESSAGE, dkimKeys(config(keys.config), keys.env), Date.now());
    const verdicts = await verifyDkim(signed, keys.records);
    assert.deepEqual(verdicts.map((v) => [v.selector, v.algorithm, v.result]), [
      ['s1', 'rsa-sha256', 'pass'],
      ['e1', 'ed25519-sha256', 'pass'],
    ]);
    for (const v of verdicts) for (const f of ['from', 'to', 'subject', 'list-unsubscribe', 'list-unsubscribe-post', 'message-id']) assert.ok(v.signedFields.includes(f), `${v.selector} signs ${f}`);
  });

  it('a changed body, header or added From fails verification', async () => {
    const signed = dkimSign(MESSAGE, dkimKeys(config(keys.config), keys.env), Date.now()).toString('latin1');
    const tampered = [
      signed.replace('Hello', 'Hallo'),
      signed.replace('token=u.1.0.abc', 'token=u.2.0.abc'),
      signed.replace('Subject: Midweek #1', 'Subject: Midweek #2'),
      signed.replace('MIME-Version', 'From: someone@else.example\r\nMIME-Version'),
    ];
    for (const t of tampered) {
      const verdicts = await verifyDkim(Buffer.from(t, 'latin1'), keys.records);
      assert.equal(verdicts.length, 2);
      assert.ok(verdicts.every((v) => v.result !== 'pass'), verdicts.map((v) => v.result).join());
    }
  });

  it('a message with bare LF line ends is signed as SMTP carries it, with CRLF', async () => {
    const lf = Buffer.from(MESSAGE.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const signed = dkimSign(lf, dkimKeys(config(keys.config), keys.env), Date.now());
    const onTheWire = Buffer.from(signed.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    assert.deepEqual((await verifyDkim(onTheWire, keys.records)).map((v) => v.result), ['pass', 'pass']);
  });

  it('only one signature with one key, and none without sending.dkim', async () => {
    const rsaOnly = dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY: keys.rsaPem });
    const verdicts = await verifyDkim(dkimSign(MESSAGE, rsaOnly, Date.now()), keys.records);
    assert.deepEqual(verdicts.map((v) => [v.selector, v.result]), [['s1', 'pass']]);
    assert.deepEqual(dkimKeys(config(), {}), []);
  });
});

describe('DKIM key settings', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-dkim-'));
  const keys = await testKeys(dir);
  const secretLine = keys.rsaPem.split('\n')[1]!;

  const cases: [string, () => unknown, RegExp][] = [
    ['a selector but no key', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), {}), /environment: DKIM_PRIVATE_KEY: expected the private key for sending\.dkim\.selector "s1"/],
    ['a key but no sending.dkim', () => dkimKeys(config(), { DKIM_PRIVATE_KEY: keys.rsaPem }), /almanac\.config\.json: sending\.dkim\.selector: expected the DKIM domain and selector/],
    ['an Ed25519 key but no ed25519Selector', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY: keys.rsaPem, DKIM_ED25519_PRIVATE_KEY: keys.edPem }), /sending\.dkim\.ed25519Selector/],
    ['a file that is not there', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY_FILE: path.join(dir, 'missing.pem') }), /DKIM_PRIVATE_KEY_FILE: expected a readable private key file, found ENOENT/],
    ['the key itself in DKIM_PRIVATE_KEY_FILE', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY_FILE: keys.rsaPem }), /DKIM_PRIVATE_KEY_FILE: expected a readable private key file, found \w+ reading PEM text where a file name belongs \(the key itself goes in DKIM_PRIVATE_KEY\)/],
    ['the key as one line in DKIM_PRIVATE_KEY_FILE', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY_FILE: keys.rsaPem.replace(/\n/g, '\\n') }), /found \w+ reading PEM text where a file name belongs/],
    ['the key\'s base64 alone in DKIM_ED25519_PRIVATE_KEY_FILE', () => dkimKeys(config(keys.config), { DKIM_PRIVATE_KEY: keys.rsaPem, DKIM_ED25519_PRIVATE_KEY_FILE: keys.rsaPem.split('\n').slice(1, -2).join('') }), /DKIM_ED25519_PRIVATE_KEY_FILE: expected a readable private key file, found \w+ reading a value of \d+ characters where a file name belongs/],
    ['text that is not a key', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY: keys.rsaPem.replace(secretLine, secretLine.slice(0, 20)) }), /DKIM_PRIVATE_KEY: expected a PEM private key/],
    ['an RSA key where Ed25519 is asked', () => dkimKeys(config(keys.config), { DKIM_PRIVATE_KEY: keys.rsaPem, DKIM_ED25519_PRIVATE_KEY: keys.rsaPem }), /DKIM_ED25519_PRIVATE_KEY: expected an Ed25519 private key, found a key of type rsa/],
    ['a short RSA key', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }), /at least 1024 bits.*found one of 512 bits/],
    ['both the key and its file', () => dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY: keys.rsaPem, DKIM_PRIVATE_KEY_FILE: path.join(dir, 'dkim-e1.pem') }), /either DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE/],
  ];
  for (const [name, f, expected] of cases) {
    it(`${name}: a configuration problem naming the setting, never the key`, () => {
      const text = configProblems(f);
      assert.match(text, expected);
      assert.ok(!text.includes(secretLine.slice(0, 16)) && !text.includes('MII'), 'no key material in the message');
    });
  }

  it('a key given as one line with "\\n" escapes (a .env file) is read', () => {
    assert.equal(dkimKeys(config({ domain: DKIM_DOMAIN, selector: 's1' }), { DKIM_PRIVATE_KEY: keys.rsaPem.replace(/\n/g, '\\n') }).length, 1);
  });

  it('sending.dkim needs a domain and a selector that DNS can hold', () => {
    assert.equal(configSchema.safeParse({ sending: { dkim: { selector: 's1' } } }).success, false);
    assert.equal(configSchema.safeParse({ sending: { dkim: { domain: DKIM_DOMAIN, selector: 's 1' } } }).success, false);
    assert.equal(configSchema.safeParse({ sending: { dkim: { domain: 'not a domain', selector: 's1' } } }).success, false);
  });
});

describe('DKIM DNS record', () => {
  it('an RSA-2048 record is split into strings of at most 255 characters that join to the whole value', () => {
    const { record } = newDkimKey('rsa', 's1', 'example.org');
    assert.equal(record.name, 's1._domainkey.example.org');
    assert.match(record.value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    assert.ok(record.strings.length > 1 && record.strings.every((s) => s.length <= 255));
    assert.equal(record.strings.join(''), record.value);
  });

  it('an Ed25519 record carries the bare 32-byte public key (RFC 8463)', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const p = /p=(.*)$/.exec(dkimRecord(publicKey, 'e1', 'example.org').value)![1]!;
    assert.equal(Buffer.from(p, 'base64').length, 32);
  });
});

