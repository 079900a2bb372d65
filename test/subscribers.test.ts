// Subscribers in a real SQLite file, managed through the real CLI.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers, isEmailAddress } from '../src/store/subscribers.ts';
import { almanac, tempSite, writeFiles } from './helpers/cli.ts';

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
    assert.match(run.stdout, /rejected .*list\.csv:6: editions: expected midweek, sunday, "midweek sunday", or empty for both, found "weekly"/);
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

  it('recognises email addresses', () => {
    for (const ok of ['a@example.com', 'first.last+tag@sub.example.co.uk', "o'neil@example.ie"]) assert.ok(isEmailAddress(ok), ok);
    for (const bad of ['', 'a', 'a@', '@example.com', 'a@example', 'a b@example.com', 'a@@example.com', '<a@example.com>', 'a..b@example.com', `${'x'.repeat(250)}@example.com`]) {
      assert.ok(!isEmailAddress(bad), bad);
    }
  });
});
