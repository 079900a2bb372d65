// The real `almanac` binary against a real IMAP server on loopback: `schedule` polls the bounces.imap
// mailbox at start and records what it finds; a SIGTERM while the server hangs still stops it in
// bounded time; `bounces fetch` with a wrong password exits 2.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { returnAddress } from '../src/mail/signing.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { BIN, PROJECT, almanac, tempSite, until, writeFiles } from './helpers/cli.ts';
import { IMAP_PASSWORD, IMAP_USER, imapServer, silentServer } from './helpers/imap.ts';

const SECRET = 'schedule-secret-0123456789abcdef';
const ISSUE = '2026-04-15-midweek';
const DOMAIN = 'bounces.example.org';
const ENV = { ALMANAC_SECRET: SECRET, BOUNCES_IMAP_PASSWORD: IMAP_PASSWORD, SMTP_URL: 'smtp://127.0.0.1:9' };

async function site(port: number, more: Record<string, unknown> = {}): Promise<{ root: string; ids: number[] }> {
  const root = await tempSite();
  const imap = { host: '127.0.0.1', port, secure: false, starttls: false, user: IMAP_USER, timeoutSeconds: 60, ...more };
  // No catching up: the scheduler's only work here is the mailbox.
  await writeFiles(root, { 'almanac.config.json': JSON.stringify({ catchUpHours: 0, bounces: { domain: DOMAIN, imap } }) });
  const db = openDatabase(databasePath(root, {}));
  try {
    const subscribers = new SqliteSubscribers(db);
    return { root, ids: ['hard@example.com', 'complainer@example.com'].map((email) => subscribers.upsert({ email, status: 'active' }, Date.parse('2026-04-01T00:00:00Z')).subscriber.id) };
  } finally {
    db.close();
  }
}

async function fixture(name: string, subscriber: number): Promise<string> {
  const text = await readFile(path.join(PROJECT, 'test/fixtures/bounces', name), 'latin1');
  return text.replaceAll('%RETURN%', returnAddress(SECRET, DOMAIN, { purpose: 'bounce', subscriber, issueId: ISSUE })!).replace(/\r?\n/g, '\r\n');
}

function startScheduler(root: string): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'schedule', '--root', root], { env: { ...process.env, ...ENV } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out, exit: new Promise((resolve) => child.on('close', resolve)) };
}

describe('almanac schedule polls the bounce mailbox', () => {
  it('polls at start: the hard bounce and the complaint are recorded and flagged; SIGTERM stops it', async () => {
    const server = await imapServer({ messages: [] });
    const { root, ids } = await site(server.port);
    server.deliver(await fixture('dsn-hard.eml', ids[0]!));
    server.deliver(await fixture('arf-abuse.eml', ids[1]!));
    const s = startScheduler(root);
    try {
      await until(() => /bounces: 1 hard bounce\(s\), 0 soft, 1 complaint\(s\), 0 unsubscribe\(s\), 0 ignored/.test(s.out()));
      assert.match(s.out(), new RegExp(`bounces: polling ${IMAP_USER}@127\\.0\\.0\\.1:${server.port} "INBOX" every 5 min`));
      assert.match(s.out(), /bounces: imap:INBOX:1\thard\thard@example\.com 2026-04-15-midweek \(active → bounced\)/);
      assert.ok(server.messages('INBOX')!.every((m) => m.flags.includes('$AlmanacProcessed')));
      s.child.kill('SIGTERM');
      assert.equal(await s.exit, 0, s.out());
      const list = await almanac(['subscribers', 'list', '--json', '--root', root]);
      assert.deepEqual((JSON.parse(list.stdout) as { status: string }[]).map((r) => r.status), ['bounced', 'unsubscribed']);
    } finally {
      s.child.kill('SIGKILL');
      await server.close();
    }
  });

  it('a SIGTERM while the IMAP server hangs mid-poll still stops the scheduler in bounded time', async () => {
    const hanging = await silentServer(true);
    const { root } = await site(hanging.port);
    const s = startScheduler(root);
    try {
      await until(() => hanging.connections() === 1 && /scheduler .* started/.test(s.out()));
      const started = Date.now();
      s.child.kill('SIGTERM');
      assert.equal(await s.exit, 0, s.out());
      assert.ok(Date.now() - started < 8000, `stopped after ${Date.now() - started} ms, not the 60 s IMAP deadline`);
      assert.match(s.out(), /stopped\n$/);
    } finally {
      s.child.kill('SIGKILL');
      await hanging.close();
    }
  });

  it('bounces fetch with a wrong password exits 2 with the server\'s words', async () => {
    const server = await imapServer({ messages: [] });
    const { root } = await site(server.port);
    try {
      const run = await almanac(['bounces', 'fetch', '--root', root], { env: { ...ENV, BOUNCES_IMAP_PASSWORD: 'not it' } });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /found login refused: Login failed: authentication failure; nothing was changed/);
    } finally {
      await server.close();
    }
  });
});
