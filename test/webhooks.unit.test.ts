// POST /webhooks/mailgun on `serve`, in-process against a real SQLite file: events signed with a test
// signing key as Mailgun signs them bounce, soften or unsubscribe the reader their Message-ID names;
// unsigned, wrongly signed and stale requests get 401 and change nothing; a replay counts once.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/content/config.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { createApp } from '../src/server/app.ts';
import { databasePath, openDatabase, type Db } from '../src/store/database.ts';
import { MailEvents } from '../src/store/mail-events.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { tempSite } from './helpers/cli.ts';

const KEY = 'key-test-mailgun-signing-0123456789';
const ISSUE = '2026-04-15-midweek';
const NOW = Date.parse('2026-04-16T10:00:00Z');

describe('Mailgun webhook', () => {
  let db: Db;
  let store: SqliteSubscribers;
  let base: string;
  let server: http.Server;
  let n = 0;

  before(async () => {
    const root = await tempSite();
    await mkdir(path.join(root, 'dist'), { recursive: true });
    await writeFile(path.join(root, 'dist', 'index.html'), '<!doctype html><title>home</title>');
    db = openDatabase(databasePath(root));
    store = new SqliteSubscribers(db);
    const { config } = await loadConfig(root);
    server = http.createServer(
      createApp({
        distDir: path.join(root, 'dist'), config, subscribers: store, secret: 'webhook-secret-0123456789abcdef012345', templates: await TemplateSet.load(root, 'site'),
        clock: () => NOW, log: () => {}, bounces: { events: new MailEvents(db, store, config.bounces), mailgunKey: KEY },
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    db.close();
  });

  function reader(): { id: number; email: string } {
    const s = store.upsert({ email: `reader${++n}@example.com`, status: 'active' }, NOW).subscriber;
    return { id: s.id, email: s.email };
  }

  function event(r: { id: number; email: string }, fields: Record<string, unknown>, options: { key?: string; at?: number; id?: string } = {}): string {
    const timestamp = String(Math.floor((options.at ?? NOW) / 1000));
    const token = randomBytes(25).toString('hex');
    const signature = createHmac('sha256', options.key ?? KEY).update(timestamp + token).digest('hex');
    return JSON.stringify({
      signature: { timestamp, token, signature },
      'event-data': { id: options.id ?? randomBytes(8).toString('hex'), recipient: r.email, message: { headers: { 'message-id': `${ISSUE}.${r.id}@almanac.example.org` } }, ...fields },
    });
  }

  const post = (body: string) => fetch(`${base}/webhooks/mailgun`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('a signed permanent failure bounces the reader; a complaint unsubscribes with reason complaint', async () => {
    const a = reader();
    const res = await post(event(a, { event: 'failed', severity: 'permanent', 'delivery-status': { code: 550, 'enhanced-code': '5.1.1', description: 'No such user' } }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { kind: 'hard', text: 'No such user' });
    assert.equal(store.get(a.id)!.status, 'bounced');
    const b = reader();
    assert.equal((await post(event(b, { event: 'complained' }))).status, 200);
    assert.equal(store.get(b.id)!.status, 'unsubscribed');
    assert.equal(store.get(b.id)!.unsubscribeReason, 'complaint');
  });

  it('unsigned, wrongly signed, stale and malformed requests get 401 and change nothing', async () => {
    const r = reader();
    const failed = { event: 'failed', severity: 'permanent' };
    const unsigned = JSON.parse(event(r, failed)) as Record<string, unknown>;
    delete unsigned.signature;
    for (const body of [JSON.stringify(unsigned), event(r, failed, { key: 'another-key' }), event(r, failed, { at: NOW - 10 * 60_000 }), 'not json', '']) {
      const res = await post(body);
      assert.equal(res.status, 401, body.slice(0, 40));
      await res.text();
    }
    assert.equal(store.get(r.id)!.status, 'active');
  });

  it('a replayed event counts once; an event for another address than the Message-ID\'s reader is ignored', async () => {
    const r = reader();
    const body = event(r, { event: 'failed', severity: 'temporary', 'delivery-status': { code: 452, message: 'Mailbox full' } }, { id: 'same-event' });
    for (let i = 0; i < 3; i++) assert.equal((await post(body)).status, 200);
    const events = new MailEvents(db, store, { softLimit: 3, softWindowDays: 30 }).forSubscriber(r.id);
    assert.deepEqual(events.map((e) => [e.kind, e.code]), [['soft', '452']]);
    assert.equal(store.get(r.id)!.status, 'active');
    const other = reader();
    const res = await post(event({ id: other.id, email: 'someone-else@example.com' }, { event: 'failed', severity: 'permanent' }));
    assert.equal((await res.json() as { kind: string }).kind, 'ignored');
    assert.equal(store.get(other.id)!.status, 'active');
  });
});
