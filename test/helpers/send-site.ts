// A site ready to send: the sample content, one Midweek issue built, and `n` Midweek subscribers;
// plus the CLI runs of `issue send` against it, each in a child process as a user runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BIN, PROJECT, almanac, tempSite, writeFiles, type Run } from './cli.ts';
import { almanac as almanacHere } from './in-process.ts';

export const SECRET = 'test-secret-0123456789abcdef-ghijklmn';
export const ISSUE = '2026-04-15-midweek';

export async function sendSite(n: number, extraConfig: Record<string, unknown> = {}): Promise<string> {
  const root = await tempSite({ sample: true });
  const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ ...config, ...extraConfig }),
    'list.csv': ['email,name,editions', ...Array.from({ length: n }, (_, i) => `reader${i}@example.com,Reader ${i},midweek`)].join('\n'),
  });
  // Setting up is not what these tests are about: no need for a process of its own.
  assert.equal((await almanacHere(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
  const built = await almanacHere(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
  assert.equal(built.code, 0, built.stderr);
  return root;
}

export const sendEnv = (url: string) => ({ SMTP_URL: url, ALMANAC_SECRET: SECRET });

export function sendNow(root: string, url: string, ...args: string[]): Promise<Run> {
  return almanac(['issue', 'send', ISSUE, '--root', root, ...args], { env: sendEnv(url) });
}

/** `issue send` in the background; `done` also reports how long it took. */
export function sendInBackground(root: string, url: string, ...args: string[]) {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, 'issue', 'send', ISSUE, '--root', root, ...args], { env: { ...process.env, ...sendEnv(url) } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run & { ms: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms: Date.now() - started })),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Rows of the ledger and subscribers as they stand, read straight from the database file. */
export function ledgerRows(root: string): { email: string; status: string; uncertain: number; attempts: number; error: string | null; subscriber: string }[] {
  const db = new Database(path.join(root, '.almanac/almanac.db'), { readonly: true });
  try {
    return db
      .prepare(`SELECT d.email, d.status, d.uncertain, d.attempts, d.error, s.status AS subscriber FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.issue_id = ? ORDER BY d.email`)
      .all(ISSUE) as never;
  } finally {
    db.close();
  }
}

export function countBy(messages: { to: string }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const { to } of messages) m.set(to, (m.get(to) ?? 0) + 1);
  return m;
}
