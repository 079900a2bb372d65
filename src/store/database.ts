// The SQLite database (better-sqlite3): where DATABASE_URL points, or .almanac/almanac.db under the
// site root. WAL mode so that readers (the server) and a writer (a send) do not block each other;
// versioned migrations recorded in PRAGMA user_version, applied in one transaction each.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_DATABASE } from '../content/paths.ts';
import { UsageError } from '../content/problems.ts';

export type Db = Database.Database;

/** One schema step: SQL, or a function for a step that has to look at the schema it finds. */
type Migration = string | ((db: Db) => void);

/** Each entry moves the schema one version up. Never edit a released entry: add a new one. */
const MIGRATIONS: Migration[] = [
  `CREATE TABLE subscribers (
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
   CREATE INDEX subscribers_status ON subscribers (status);`,
  // The send ledger: one row per (issue, subscriber), written before any mail leaves.
  `CREATE TABLE deliveries (
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
   CREATE TABLE send_locks (
     issue_id TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
  // The scheduler's record of each slot (one edition at one scheduled instant) and who runs it.
  `CREATE TABLE slot_runs (
     slot TEXT PRIMARY KEY,
     edition TEXT NOT NULL,
     scheduled_at INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('running', 'done', 'empty', 'skipped')),
     issue_id TEXT,
     holder TEXT,
     lease_until INTEGER NOT NULL DEFAULT 0,
     detail TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX slot_runs_edition ON slot_runs (edition, scheduled_at);`,
  // Confirmation mails `serve` owes: one row per inbox (mailboxKey: case, tags and Gmail's dots do
  // not make another one), kept a while after sending so that an inbox gets at most one mail per
  // interval, however many clients ask and however the address is spelled.
  `CREATE TABLE confirmations (
     id INTEGER PRIMARY KEY,
     email TEXT NOT NULL,
     mailbox TEXT NOT NULL UNIQUE,
     subscriber_id INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
     requested_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     error TEXT
   );
   CREATE INDEX confirmations_due ON confirmations (status, next_at);`,
  // Subscriber ids are never reused, and every subscriber gets random keys that their signed links
  // are bound to (see rebuildSubscribers).
  rebuildSubscribers,
  // The send lease's generation: raised by every take-over and checked by every ledger write, so a
  // sender that lost its lease can change nothing more.
  `ALTER TABLE send_locks ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;`,
  // The provider's quota, counted in time buckets by every process that sends (store/quota.ts); a
  // run paused by it says until when; and a reader's row re-sent by `issue send --retry` is marked,
  // so that a second retry does not send again.
  `CREATE TABLE send_quota (
     bucket_ms INTEGER NOT NULL,
     start INTEGER NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (bucket_ms, start)
   ) WITHOUT ROWID;
   ALTER TABLE send_locks ADD COLUMN paused_until INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deliveries ADD COLUMN retried_at INTEGER;`,
  // What came back: bounces, complaints and mailto unsubscribes, each kept with its issue, code and
  // text, and what was ignored with the reason. A complaint is kept on the reader too: it bars `add
  // --resubscribe` and `import`, and only the reader's own confirmed sign-up lifts it.
  `ALTER TABLE subscribers ADD COLUMN unsubscribe_reason TEXT;
   CREATE TABLE mail_events (
     id INTEGER PRIMARY KEY,
     received_at INTEGER NOT NULL,
     subscriber_id INTEGER,
     issue_id TEXT,
     kind TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'unsubscribe', 'ignored')),
     code TEXT NOT NULL DEFAULT '',
     text TEXT NOT NULL DEFAULT '',
     report_id TEXT NOT NULL
   );
   CREATE INDEX mail_events_subscriber ON mail_events (subscriber_id, kind, received_at);
   CREATE INDEX mail_events_issue ON mail_events (issue_id, kind);
   CREATE INDEX mail_events_report ON mail_events (report_id);`,
  // News intake: each feed's validators for conditional requests (ETag, Last-Modified), and every
  // story it wrote with when, so that an item the editor deleted is not fetched again and the
  // preview can tell what arrived since the last issue.
  `CREATE TABLE feed_state (
     source TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     etag TEXT,
     last_modified TEXT,
     checked_at INTEGER NOT NULL
   );
   CREATE TABLE news_arrivals (
     story TEXT PRIMARY KEY,
     file TEXT NOT NULL,
     source TEXT NOT NULL,
     arrived_at INTEGER NOT NULL
   );
   CREATE INDEX news_arrivals_time ON news_arrivals (arrived_at);`,
  // Editions are any names the config gives: a reader's editions move from the two flag columns to
  // one row per (reader, edition), every flag kept. A row whose edition the config no longer has
  // stays (nothing is sent for it), so the reader is back on it if the edition returns.
  `CREATE TABLE subscriber_editions (
     subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
     edition TEXT NOT NULL,
     PRIMARY KEY (subscriber_id, edition)
   ) WITHOUT ROWID;
   CREATE INDEX subscriber_editions_edition ON subscriber_editions (edition, subscriber_id);
   INSERT INTO subscriber_editions (subscriber_id, edition) SELECT id, 'midweek' FROM subscribers WHERE midweek = 1;
   INSERT INTO subscriber_editions (subscriber_id, edition) SELECT id, 'sunday' FROM subscribers WHERE sunday = 1;
   ALTER TABLE subscribers DROP COLUMN midweek;
   ALTER TABLE subscribers DROP COLUMN sunday;`,
];

/**
 * SQLite cannot turn a column into AUTOINCREMENT, so the table is rebuilt from its own definition
 * (whatever columns earlier steps gave it), keeping every row and id. The sequence starts above
 * the highest id ever seen, including ids that only the send ledger still remembers: a new
 * subscriber must never inherit a removed one's deliveries or links.
 */
function rebuildSubscribers(db: Db): void {
  const table = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'subscribers'").get();
  if (!table) throw new Error('the subscribers table is missing; the database is not an Almanac database');
  const indexes = db
    .prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'subscribers' AND sql IS NOT NULL")
    .all();
  const columns = db
    .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('subscribers')")
    .all()
    .map((c) => `"${c.name}"`)
    .join(', ');
  const definition = table.sql
    .replace(/^CREATE TABLE\s+"?subscribers"?/i, 'CREATE TABLE subscribers_rebuilt')
    .replace(/\bid INTEGER PRIMARY KEY\b(?!\s+AUTOINCREMENT)/i, 'id INTEGER PRIMARY KEY AUTOINCREMENT')
    .replace(
      /\)\s*$/,
      `,
     token_key TEXT NOT NULL DEFAULT (lower(hex(randomblob(16)))),
     unsubscribe_key TEXT NOT NULL DEFAULT (lower(hex(randomblob(16)))),
     confirm_nonce TEXT,
     resubscribed_at INTEGER,
     resubscribed_by TEXT
   )`,
    );
  db.exec(definition);
  db.exec(`INSERT INTO subscribers_rebuilt (${columns}) SELECT ${columns} FROM subscribers`);
  db.exec('DROP TABLE subscribers');
  db.exec('ALTER TABLE subscribers_rebuilt RENAME TO subscribers');
  for (const index of indexes) db.exec(index.sql);
  db.exec(`DELETE FROM sqlite_sequence WHERE name = 'subscribers';
    INSERT INTO sqlite_sequence (name, seq)
      SELECT 'subscribers', max(coalesce((SELECT max(id) FROM subscribers), 0), coalesce((SELECT max(subscriber_id) FROM deliveries), 0));`);
}

/** The schema version a database is at once every migration has run. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Resolves DATABASE_URL (a file path, `file:` or `sqlite:` URL) or the default under the root. */
export function databasePath(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL?.trim();
  if (!url) return path.join(root, DEFAULT_DATABASE);
  if (/^(postgres|postgresql|mysql):/i.test(url)) {
    throw new UsageError(`DATABASE_URL: only SQLite is supported for now (a file path or sqlite: URL), found a ${url.split(':')[0]} URL`);
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '').replace(/^file:(\/\/)?/i, '');
  return path.resolve(root, file);
}

export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Deleted rows (a removed subscriber's address) are overwritten, not left in free pages.
  db.pragma('secure_delete = ON');
  migrate(db);
  return db;
}

/**
 * The store for a command that only reads: the file when it exists, else an empty store in memory,
 * so that asking for a status does not leave a database behind in a site that has never sent.
 */
export function openForReading(file: string): Db {
  return existsSync(file) ? openDatabase(file) : openDatabase(':memory:');
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the database is at schema version ${current}, newer than this Almanac knows (${MIGRATIONS.length}); upgrade Almanac`);
  }
  if (current === MIGRATIONS.length) return;
  // A step that rebuilds a table must not fire foreign-key actions of tables that point at it
  // (SQLite's own procedure: keys off, rebuild, check). The switch only works outside a transaction.
  const keys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    // One step per IMMEDIATE transaction, the version read inside it: two processes opening an old
    // database at once apply each step once.
    const next = db.transaction(() => {
      const v = db.pragma('user_version', { simple: true }) as number;
      if (v >= MIGRATIONS.length) return false;
      const step = MIGRATIONS[v]!;
      if (typeof step === 'string') db.exec(step);
      else step(db);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length) throw new Error(`schema step ${v + 1} left ${broken.length} rows pointing at nothing; nothing was changed`);
      db.pragma(`user_version = ${v + 1}`);
      return true;
    });
    while (next.immediate());
  } finally {
    db.pragma(`foreign_keys = ${keys ? 'ON' : 'OFF'}`);
  }
}
