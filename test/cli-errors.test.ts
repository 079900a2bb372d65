// Error classes by kind: each kind of problem has its own type and code, the CLI reports it by type,
// and only content problems end with the count and "nothing was written".
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ConfigError, ContentError, IoError, ProblemError } from '../src/content/problems.ts';
import { SmtpError } from '../src/mail/outcome.ts';
import { PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { runMain } from './helpers/main.ts';

const SECRET = 'test-secret-0123456789abcdef-ghijklmn';
const CLOSING = /problems? in \d+ files?; nothing was written/;

describe('error classes', () => {
  it('give each kind its own type and code', () => {
    const p = { file: 'f', expected: 'e', found: 'x' };
    const kinds = [new ContentError([p]), new ConfigError([p]), new IoError([p], 'EACCES')];
    assert.deepEqual(kinds.map((k) => k.code), ['ECONTENT', 'ECONFIG', 'EACCES']);
    for (const k of kinds) assert.ok(k instanceof ProblemError);
    assert.ok(!(kinds[1] instanceof ContentError));
  });

  it("keep nodemailer's code and the server's reply for an SMTP refusal", () => {
    const failure = Object.assign(new Error('Invalid login'), { code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 5.7.8 Authentication failed' });
    const err = new SmtpError({ file: 'SMTP', expected: 'the login accepted' }, failure);
    assert.equal(err.code, 'EAUTH');
    assert.equal(err.responseCode, 535);
    assert.equal(err.cause, failure);
    assert.equal(err.problems[0]!.found, '535 5.7.8 Authentication failed (at AUTH PLAIN)');
    assert.ok(!(err instanceof ContentError));
  });
});

describe('the CLI reports each kind by its type', () => {
  let root: string;
  before(async () => {
    root = await tempSite({ sample: true });
    await writeFiles(root, { 'almanac.config.json': await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8') });
  });

  it('ends content problems with the count and "nothing was written"', async () => {
    const bad = await tempSite({ sample: true });
    await writeFiles(bad, { 'content/news/bad.md': '---\ntitle: x\n---\n' });
    const run = await runMain(['check', '--root', bad]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/news\/bad\.md: url: expected/);
    assert.match(run.stderr, CLOSING);
  });

  it('names a missing secret without the content closing line', async () => {
    const run = await runMain(['schedule', '--root', root], { ALMANAC_SECRET: undefined, SMTP_URL: 'smtp://127.0.0.1:1' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^environment: ALMANAC_SECRET: expected a random secret/);
    assert.doesNotMatch(run.stderr, CLOSING);
  });

  it('names a missing SMTP_URL without the content closing line', async () => {
    const run = await runMain(['schedule', '--root', root], { ALMANAC_SECRET: SECRET, SMTP_URL: undefined });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^environment: SMTP_URL: expected where mail goes/);
    assert.doesNotMatch(run.stderr, CLOSING);
  });

  it('names an SMTP_URL that is not a URL the mail library can read, without its password', async () => {
    const built = await runMain(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(built.code, 0, built.stderr);
    for (const url of ['smtp://user:hunter2-secret@[bad', 'smtp://user:hunter2%ZZsecret@mail.example.org:587', 'smtp://user:hunter2-secret@']) {
      const run = await runMain(['issue', 'send', '2026-04-15-midweek', '--to', 'ada@example.com', '--root', root], { ALMANAC_SECRET: SECRET, SMTP_URL: url });
      assert.equal(run.code, 1, url);
      assert.match(run.stderr, /^environment: SMTP_URL: expected where mail goes, e\.g\. smtp:\/\/user:password@mail\.example\.org:587, found /, url);
      assert.doesNotMatch(run.stderr, /hunter2/, url);
      assert.doesNotMatch(run.stderr, CLOSING);
    }
  });

  it('serve names an SMTP_URL that is set but cannot be read before it starts, without its password', async () => {
    const site = await tempSite({ sample: true });
    await writeFiles(site, { 'dist/index.html': '<!doctype html><title>x</title>' });
    for (const url of ['smtp://user:hunter2-secret@[bad', 'ftp://user:hunter2-secret@mail.example.org']) {
      const run = await runMain(['serve', '--port', '0', '--root', site], { ALMANAC_SECRET: SECRET, SMTP_URL: url });
      assert.equal(run.code, 1, url);
      assert.match(run.stderr, /^environment: SMTP_URL: expected where mail goes/, url);
      assert.doesNotMatch(run.stderr, /hunter2/, url);
    }
  });

  it('reports an SMTP server that cannot be reached without the content closing line', async () => {
    const built = await runMain(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(built.code, 0, built.stderr);
    // Port 1 on this host: nothing listens, so the connection is refused at once.
    const run = await runMain(['issue', 'send', '2026-04-15-midweek', '--to', 'ada@example.com', '--root', root], { ALMANAC_SECRET: SECRET, SMTP_URL: 'smtp://127.0.0.1:1' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^SMTP: expected the test copy accepted, found .*ECONNREFUSED/);
    assert.doesNotMatch(run.stderr, CLOSING);
  });

  it('reports a file that cannot be read as I/O, naming it, without the content closing line', async () => {
    const folder = path.join(root, 'not-a-file.csv');
    await mkdir(folder, { recursive: true });
    const run = await runMain(['subscribers', 'import', folder, '--root', root]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /not-a-file\.csv: expected a readable CSV file, found .*\(read, EISDIR\)/);
    assert.doesNotMatch(run.stderr, CLOSING);
  });
});

describe('source', () => {
  it('never tells errors apart by their message text', async () => {
    const byText = /message\.(includes|match|startsWith)|\.test\(.*\.message/;
    const src = path.join(PROJECT, 'src');
    const offenders: string[] = [];
    for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.join(entry.parentPath, entry.name);
      (await readFile(file, 'utf8')).split('\n').forEach((line, i) => byText.test(line) && offenders.push(`${path.relative(src, file)}:${i + 1}`));
    }
    assert.deepEqual(offenders, []);
  });
});
