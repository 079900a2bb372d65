// A reader's identity: ids that are never reused, signed links that act only on the reader they
// were made for, confirmations that work once. Real SQLite files, real HTTP to the server's app on
// loopback, a real SMTP server for the confirmation mail.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import type { Config } from '../src/content/config-schema.ts';
import { personaliser } from '../src/mail/send-job.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { importCsv } from '../src/store/import.ts';
import { SqliteLedger } from '../src/store/ledger.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { tempSite, until } from './helpers/cli.ts';
import { readerServer } from './helpers/confirmations.ts';
import type { SmtpSink } from './helpers/smtp.ts';

const SECRET = 'identity-secret-0123456789abcdef';
const T0 = Date.parse('2026-06-20T09:00:00Z');

describe('reader identity: the server', () => {
  let base: string;
  let sink: SmtpSink;
  let store: SqliteSubscribers;
  let config: Config;
  let clock = T0;

  let stop: () => Promise<void>;

  before(async () => {
    ({ base, sink, store, config, stop } = await readerServer({ secret: SECRET, clock: () => clock, subscribeLimit: { max: 1000, windowMs: 60_000 } }));
  });
  after(() => stop());

  const post = (pathAndQuery: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${pathAndQuery}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, signal: AbortSignal.timeout(5_000) });

  /** Signs `email` up through the form and returns the path of the confirmation link mailed to it. */
  async function signUp(email: string): Promise<string> {
    const before = sink.messages.length;
    const res = await post('/subscribe', `email=${encodeURIComponent(email)}`);
    assert.equal(res.status, 200);
    await until(() => sink.messages.slice(before).some((m) => m.to === email), 5_000);
    const mail = await simpleParser(sink.messages.slice(before).find((m) => m.to === email)!.raw);
    const link = new URL(/https:\/\/\S+\/confirm\?token=\S+/.exec(mail.text ?? '')![0]);
    return `${link.pathname}${link.search}`;
  }

  /** The reader's click on the one button of the page a confirmation link opens: a POST to the link. */
  const click = (link: string) => post(link, '');

  /** An unsubscribe link as an issue carries it, made the way the send loop makes it. */
  function unsubscribeLink(email: string): string {
    const s = store.find(email)!;
    const link = new URL(personaliser(config, SECRET, 'test-issue')({ ...s, subscriberId: s.id, name: s.name }).unsubscribeUrl);
    return `${link.pathname}${link.search}`;
  }

  it('a confirmation link works once: replayed, even after the reader unsubscribed, it changes nothing', async () => {
    const link = await signUp('replay@example.com');
    assert.equal(store.find('replay@example.com')!.status, 'pending');
    const first = await click(link);
    assert.equal(first.status, 200);
    assert.match(await first.text(), /You are in/);
    assert.equal(store.find('replay@example.com')!.status, 'active');
    assert.equal((await click(link)).status, 400, 'a second use is refused');
    assert.equal((await fetch(`${base}${link}`, { signal: AbortSignal.timeout(5_000) })).status, 400, 'and its page says the link does not work');

    clock += 60_000;
    store.setStatus(store.find('replay@example.com')!.id, 'unsubscribed', clock);
    const replay = await click(link);
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /Nothing was changed/);
    assert.equal(store.find('replay@example.com')!.status, 'unsubscribed');
  });

  it("a removed reader's confirmation link acts on nobody, not even on the next sign-up", async () => {
    const old = await signUp('first@example.com');
    const firstId = store.find('first@example.com')!.id;
    assert.ok(store.remove('first@example.com'));
    const mine = await signUp('second@example.com');
    assert.ok(store.find('second@example.com')!.id > firstId, 'a new id');

    for (const res of [await fetch(`${base}${old}`, { signal: AbortSignal.timeout(5_000) }), await click(old)]) {
      assert.equal(res.status, 400);
      assert.doesNotMatch(await res.text(), /second@example\.com/, "nobody else's address is shown");
    }
    assert.equal(store.find('second@example.com')!.status, 'pending', 'the other sign-up waits for its own link');
    assert.equal((await click(mine)).status, 200);
    assert.equal(store.find('second@example.com')!.status, 'active');
  });

  it("a removed reader's unsubscribe link acts on nobody; each reader's own link keeps working", async () => {
    store.upsert({ email: 'leaver@example.com', status: 'active' }, clock);
    const leaverLink = unsubscribeLink('leaver@example.com');
    assert.ok(store.remove('leaver@example.com'));
    store.upsert({ email: 'stayer@example.com', status: 'active' }, clock);
    const stayerLink = unsubscribeLink('stayer@example.com');

    const res = await post(leaverLink, 'List-Unsubscribe=One-Click');
    assert.equal(res.status, 400);
    assert.equal(store.find('stayer@example.com')!.status, 'active');
    const own = await post(stayerLink, 'List-Unsubscribe=One-Click');
    assert.equal(own.status, 200);
    assert.equal(store.find('stayer@example.com')!.status, 'unsubscribed');
    assert.equal((await post(stayerLink, 'List-Unsubscribe=One-Click')).status, 200, 'unsubscribing twice is fine');
  });

  it('after a re-subscription the unsubscribe link of an old issue still works; an old preferences link does not', async () => {
    const { subscriber } = store.upsert({ email: 'loyal@example.com', status: 'active' }, clock);
    const issued = personaliser(config, SECRET, 'old-issue')({ ...subscriber, subscriberId: subscriber.id });
    const local = (url: string) => `${new URL(url).pathname}${new URL(url).search}`;
    store.setStatus(subscriber.id, 'unsubscribed', clock);
    store.upsert({ email: 'loyal@example.com', status: 'active', resubscribedBy: 'Ada' }, clock);

    const prefs = await post(local(issued.tokens.preferences), 'editions=sunday');
    assert.equal(prefs.status, 400, 'preferences from before the re-subscription');
    assert.deepEqual(store.find('loyal@example.com')!.editions, ['midweek', 'sunday']);
    const unsub = await post(local(issued.unsubscribeUrl), 'List-Unsubscribe=One-Click');
    assert.equal(unsub.status, 200);
    assert.equal(store.find('loyal@example.com')!.status, 'unsubscribed');
  });

  it('a sign-up for an address that unsubscribed leaves it unsubscribed until its reader confirms', async () => {
    const { subscriber } = store.upsert({ email: 'back@example.com', status: 'active' }, clock);
    store.setStatus(subscriber.id, 'unsubscribed', clock);
    const link = await signUp('back@example.com');
    assert.equal(store.find('back@example.com')!.status, 'unsubscribed', 'a form anyone can fill in does not undo an unsubscription');
    const report = importCsv(store, Buffer.from('email\nback@example.com\n'), 'list.csv', clock, ['midweek', 'sunday']);
    assert.equal(report.kept, 1, 'and an import still leaves it alone');
    assert.equal(store.find('back@example.com')!.status, 'unsubscribed');

    clock += 60_000;
    assert.equal((await click(link)).status, 200, 'the reader confirms');
    const now = store.find('back@example.com')!;
    assert.equal(now.status, 'active');
    assert.equal(now.resubscribedBy, 'the reader, by confirmation link');
    assert.equal(now.resubscribedAt, clock);
    assert.equal(now.unsubscribedAt, null);
  });

  it('refuses an address with invisible or bidi characters at the form', async () => {
    for (const email of ['eve\u202E@example.com', 'eve\u200B@example.com', 'eve@exam\u0007ple.com']) {
      const res = await post('/subscribe', JSON.stringify({ email }), { 'content-type': 'application/json', accept: 'application/json' });
      assert.equal(res.status, 400, JSON.stringify(email));
      assert.match(((await res.json()) as { message: string }).message, /invisible or control character/);
    }
    assert.deepEqual([...store.list()].filter((s) => s.email.startsWith('eve')), [], 'nothing stored');
  });
});

describe('reader identity: the database', () => {
  /** A database file of a new site at the schema Almanac had before ids were kept unique (version 3 after its rows). */
  async function previousDatabase(): Promise<{ file: string; raw: Database.Database }> {
    const file = databasePath(await tempSite());
    mkdirSync(path.dirname(file), { recursive: true });
    const raw = new Database(file);
    raw.exec(PREVIOUS_SCHEMA);
    return { file, raw };
  }

  it("a database from before: every row and id kept, and new ids start above any id ever used, even one only the ledger remembers", async () => {
    const { file, raw } = await previousDatabase();
    raw.exec(`INSERT INTO subscribers (id, email, name, status, created_at, updated_at) VALUES
                (1, 'ada@example.com', 'Ada', 'active', 1, 1), (2, 'bob@example.com', '', 'unsubscribed', 2, 2), (5, 'cy@example.com', 'Cy', 'pending', 5, 5);
              INSERT INTO deliveries (issue_id, subscriber_id, email, status, updated_at) VALUES ('2026-04-08-midweek', 9, 'gone@example.com', 'sent', 9);`);
    raw.pragma('user_version = 3');
    raw.close();

    const db = openDatabase(file);
    const store = new SqliteSubscribers(db);
    assert.deepEqual(
      [...store.list()].map((s) => [s.id, s.email, s.name, s.status]),
      [[1, 'ada@example.com', 'Ada', 'active'], [2, 'bob@example.com', '', 'unsubscribed'], [5, 'cy@example.com', 'Cy', 'pending']],
    );
    const keys = [...store.list()].flatMap((s) => [s.tokenKey, s.unsubscribeKey]);
    assert.equal(new Set(keys).size, 6, 'every reader has keys of their own');
    assert.ok(keys.every((k) => /^[0-9a-f]{32}$/.test(k)));
    assert.equal(store.upsert({ email: 'new@example.com', status: 'active' }, 10).subscriber.id, 10);
    assert.ok(store.remove('new@example.com'));
    assert.equal(store.upsert({ email: 'newer@example.com', status: 'active' }, 11).subscriber.id, 11, 'the id of the newest, removed, is not reused');
    db.close();
    const again = openDatabase(file);
    assert.equal(new SqliteSubscribers(again).upsert({ email: 'later@example.com', status: 'active' }, 12).subscriber.id, 12, 'nor after reopening');
    again.close();
  });

  it('rebuilding the table does not touch rows of other tables that point at subscribers', async () => {
    const { file, raw } = await previousDatabase();
    raw.exec(`CREATE TABLE notes (subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE, text TEXT NOT NULL);
              INSERT INTO subscribers (id, email, status, created_at, updated_at) VALUES (3, 'ada@example.com', 'active', 1, 1);
              INSERT INTO notes VALUES (3, 'asked for Sunday only');`);
    raw.pragma('user_version = 3');
    raw.close();
    const db = openDatabase(file);
    assert.deepEqual(db.prepare('SELECT subscriber_id, text FROM notes').all(), [{ subscriber_id: 3, text: 'asked for Sunday only' }]);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are enforced again afterwards');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    db.close();
  });

  it('a queued issue goes to the address it was queued for, and removal cancels it: the next sign-up gets its own copy', async () => {
    const root = await tempSite();
    const db = openDatabase(databasePath(root));
    const store = new SqliteSubscribers(db);
    const ledger = new SqliteLedger(db);
    store.upsert({ email: 'ada@example.com', status: 'active' }, T0);
    store.upsert({ email: 'removed@example.com', status: 'active' }, T0);
    assert.equal(ledger.enqueue('2026-04-15-midweek', 'midweek', T0), 2);
    assert.ok(store.remove('removed@example.com'));
    store.upsert({ email: 'newcomer@example.com', status: 'active' }, T0);
    assert.equal(ledger.enqueue('2026-04-15-midweek', 'midweek', T0), 1, 'the newcomer is queued');
    const due = ledger.due('2026-04-15-midweek', 10, T0);
    assert.deepEqual(due.map((d) => d.email), ['ada@example.com', 'newcomer@example.com']);
    const newcomer = store.find('newcomer@example.com')!;
    assert.equal(due[1]!.subscriberId, newcomer.id);
    assert.equal(due[1]!.tokenKey, newcomer.tokenKey, 'its links are signed for the newcomer');
    assert.equal(due[1]!.unsubscribeKey, newcomer.unsubscribeKey);
    assert.deepEqual({ ...ledger.counts('2026-04-15-midweek') }, { queued: 2, sending: 0, sent: 0, failed: 0, skipped: 1, uncertain: 0, retried: 0 });
    db.close();
  });
});

/** The schema as the previous release left it (user_version 3). */
const PREVIOUS_SCHEMA = `
  CREATE TABLE subscribers (
     id INTEGER PRIMARY KEY,
     email TEXT NOT NULL,
     name TEXT NOT NULL DEFAULT '',
     midweek INTEGER NOT NULL DEFAULT 1 CHECK (midweek IN (0, 1)),
     sunday INTEGER NOT NULL DEFAULT 1 CHECK (sunday IN (0, 1)),
     status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     confirmed_at INTEGER,
     unsubscribed_at INTEGER
   );
   CREATE UNIQUE INDEX subscribers_email ON subscribers (email COLLATE NOCASE);
   CREATE INDEX subscribers_status ON subscribers (status);
   CREATE TABLE deliveries (
     issue_id TEXT NOT NULL,
     subscriber_id INTEGER NOT NULL,
     email TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
     attempts INTEGER NOT NULL DEFAULT 0,
     uncertain INTEGER NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1)),
     retry_at INTEGER NOT NULL DEFAULT 0,
     error TEXT,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (issue_id, subscriber_id)
   ) WITHOUT ROWID;
   CREATE INDEX deliveries_next ON deliveries (issue_id, status, retry_at);
   CREATE TABLE send_locks (issue_id TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
   CREATE TABLE slot_runs (
     slot TEXT PRIMARY KEY, edition TEXT NOT NULL, scheduled_at INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('running', 'done', 'empty', 'skipped')),
     issue_id TEXT, holder TEXT, lease_until INTEGER NOT NULL DEFAULT 0, detail TEXT, updated_at INTEGER NOT NULL
   );
   CREATE INDEX slot_runs_edition ON slot_runs (edition, scheduled_at);`;
