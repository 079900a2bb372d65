// The SQLite database (better-sqlite3): where DATABASE_URL points, or .almanac/almanac.db under the
// site root. WAL mode so that readers (the server) and a writer (a send) do not block each other;
// versioned migrations recorded in PRAGMA user_version, applied in one transaction each.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UsageError } from '../content/problems.ts';

export type Db = Database.Database;

/** Each entry moves the schema one version up. Never edit a released entry: add a new one. */
const MIGRATIONS: string[] = [
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
  // The send lease's generation: raised by every take-over and checked by every ledger write, so a
  // sender that lost its lease can change nothing more.
  `ALTER TABLE send_locks ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;`,
];

/** Resolves DATABASE_URL (a file path, `file:` or `sqlite:` URL) or the default under the root. */
export function databasePath(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL?.trim();
  if (!url) return path.join(root, '.almanac', 'almanac.db');
  if (/^(postgres|postgresql|mysql):/i.test(url)) {
    throw new UsageError(`DATABASE_URL: only SQLite is supported for now (a file path or sqlite: URL), found a ${url.split(':')[0]} URL`);
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '').replace(/^file:(\/\/)?/i, '');
  return path.resolve(root, file);
}

export function openDatabase(file: string): Db {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the database is at schema version ${current}, newer than this Almanac knows (${MIGRATIONS.length}); upgrade Almanac`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
