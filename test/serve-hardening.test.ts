// `almanac serve` as a process under the ways it used to fall over or leak: an oversized body, an
// open redirect, timing that told who is subscribed, a database locked by another process, and rate
// limits that were either shared by everyone behind a proxy or did not protect one inbox.
import assert from 'node:assert/strict';
import { cp, copyFile, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { PROJECT, almanac, tempSite, until } from './helpers/cli.ts';
import { almanac as inProcess } from './helpers/in-process.ts';
import { rawRequest, startServe, type ServeProcess } from './helpers/serve.ts';
import { smtpSink, type SmtpSink } from './helpers/smtp.ts';

const SECRET = 'hardening-secret-0123456789abcdef';
const env = (extra: NodeJS.ProcessEnv = {}) => ({ ALMANAC_SECRET: SECRET, ...extra });

const form = (base: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/subscribe`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    signal: AbortSignal.timeout(10_000),
  });

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work;
  return { value, ms: performance.now() - start };
}

describe('serve: hardening', () => {
  let root: string;
  const running: ServeProcess[] = [];
  const sinks: SmtpSink[] = [];
  const serve = async (dir: string, extra: NodeJS.ProcessEnv = {}) => {
    const s = await startServe(dir, env(extra));
    running.push(s);
    return s;
  };
  const sink = async (options: Parameters<typeof smtpSink>[0] = {}) => {
    const s = await smtpSink(options);
    sinks.push(s);
    return s;
  };

  before(async () => {
    root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    const built = await inProcess(['build', '--root', root]);
    assert.equal(built.code, 0, built.stderr);
  });
  after(async () => {
    for (const s of running) await s.stop();
    for (const s of sinks) await s.close();
  });

  /** A copy of the built site with its own database and the given config fields. */
  async function site(config: Record<string, unknown> = {}): Promise<string> {
    const dir = await tempSite();
    await cp(path.join(root, 'content'), path.join(dir, 'content'), { recursive: true });
    await cp(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
    const base = JSON.parse(await readFile(path.join(root, 'almanac.config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'almanac.config.json'), JSON.stringify({ ...base, ...config }));
    return dir;
  }

  it('a body over 16 KB gets a 413 and the server keeps running, on every endpoint that reads one', async () => {
    const s = await serve(await site());
    const big = `email=${'a'.repeat(17 * 1024)}%40example.com`;
    for (const target of ['/subscribe', '/unsubscribe?token=x', '/preferences?token=x']) {
      const res = await fetch(`${s.base}${target}`, { method: 'POST', body: big, headers: { 'content-type': 'application/x-www-form-urlencoded' } }).catch(() => undefined);
      // The answer may race the upload; what matters is that the server is still there.
      if (res && target === '/subscribe') assert.equal(res.status, 413);
      assert.equal((await fetch(`${s.base}/healthz`)).status, 200, `alive after ${target}`);
    }
    // Without a declared length (chunked), the limit holds as the bytes arrive.
    const chunked = await rawRequest(s.port, `POST /subscribe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n4400\r\n${'b'.repeat(0x4400)}\r\n0\r\n\r\n`);
    assert.equal(chunked.status, 413);
    // A client that promises a body and hangs up halfway.
    await rawRequest(s.port, `POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nemail=half`, { hangUp: true });
    assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    assert.ok(s.alive(), s.output());
    assert.doesNotMatch(s.output(), /TypeError|at .*\.ts:\d+/);
    await until(() => /POST \/subscribe 413 /.test(s.output()), 5000);
    // One line per request, the error on it.
    assert.equal(s.output().match(/POST \/subscribe 413 .*body too large/g)?.length, 2, s.output());
  });

  it('a directory redirect points at a path on this site, built from the folder found', async () => {
    const s = await serve(await site());
    const res = await rawRequest(s.port, 'GET /.//evil.example/..%2fguides HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, '/guides/');
    for (const attempt of ['//evil.example/..%2fguides', '/%2f%2fevil.example/..%2fguides', '/\\evil.example/..%2fguides', '/./%5cevil.example/..%2f..%2fguides', '/guides/.%2f/']) {
      const r = await rawRequest(s.port, `GET ${attempt} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      if (r.headers.location !== undefined) assert.match(r.headers.location, /^\/(?![/\\])/, `${attempt} → ${r.headers.location}`);
      assert.ok(r.status < 500, `${attempt}: ${r.status}`);
    }
  });

  it('subscribing answers at once, known address or not, even with a slow relay; the mail follows', async () => {
    // The relay holds every message until the answers are in: an answer that waited for the mail
    // would time out.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const relay = await sink({ hold: () => held });
    const dir = await site();
    const db = openDatabase(databasePath(dir));
    new SqliteSubscribers(db).upsert({ email: 'known@example.com', status: 'active' }, Date.now());
    db.close();
    const s = await serve(dir, { SMTP_URL: relay.url });
    const known = await timed(form(s.base, 'email=known%40example.com'));
    const unknown = await timed(form(s.base, 'email=unknown%40example.com'));
    assert.equal(known.value.status, 200);
    assert.equal(unknown.value.status, 200);
    assert.deepEqual(await known.value.json(), { ok: true, message: 'Check your inbox If known@example.com can receive mail, a message with a link to confirm is on its way. The link works for seven days.' });
    assert.ok(unknown.ms < 400, `unknown address answered in ${unknown.ms.toFixed(0)} ms`);
    assert.ok(known.ms < 400, `known address answered in ${known.ms.toFixed(0)} ms`);
    release();
    await until(() => relay.messages.some((m) => m.to === 'unknown@example.com'), 10_000);
    assert.ok(!relay.messages.some((m) => m.to === 'known@example.com'), 'an active reader gets no confirmation');
  });

  it('while another process holds the write lock: pages and /healthz answer at once, a write gets 503 with Retry-After', async () => {
    const relay = await sink();
    const dir = await site();
    const s = await serve(dir, { SMTP_URL: relay.url });
    const holder = new Database(databasePath(dir));
    holder.exec('BEGIN IMMEDIATE');
    try {
      const write = timed(form(s.base, 'email=locked%40example.com'));
      const health = timed(fetch(`${s.base}/healthz`));
      const page = timed(fetch(`${s.base}/guides/meta/`));
      const [w, h, p] = await Promise.all([write, health, page]);
      assert.equal(w.value.status, 503);
      assert.ok(Number(w.value.headers.get('retry-after')) >= 1);
      assert.deepEqual(await w.value.json(), { ok: false, message: 'Busy for a moment Nothing was saved. Please try again in a few seconds.' });
      assert.ok(w.ms < 1000, `the refused write took ${w.ms.toFixed(0)} ms`);
      assert.equal(h.value.status, 200);
      assert.ok(h.ms < 500, `/healthz took ${h.ms.toFixed(0)} ms`);
      assert.equal(p.value.status, 200);
      assert.ok(p.ms < 500, `a page took ${p.ms.toFixed(0)} ms`);
      assert.deepEqual(await (await fetch(`${s.base}/healthz`)).json(), { status: 'degraded', database: 'busy' });
      // More writes at once while the lock is held: each is refused without waiting again.
      const burst = await timed(Promise.all([1, 2, 3].map((i) => form(s.base, `email=burst${i}%40example.com`))));
      assert.deepEqual(burst.value.map((r) => r.status), [503, 503, 503]);
      assert.ok(burst.ms < 1000, `3 refused writes took ${burst.ms.toFixed(0)} ms`);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    // Once the lock is free, /healthz says so (its probe runs every 2 s) and writes go through again.
    let database = '';
    const deadline = Date.now() + 10_000;
    while (database !== 'ok' && Date.now() < deadline) {
      database = ((await (await fetch(`${s.base}/healthz`)).json()) as { database: string }).database;
      if (database !== 'ok') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(database, 'ok');
    assert.equal((await form(s.base, 'email=after-lock%40example.com')).status, 200);
    assert.ok(s.alive());
  });

  it('stops on SIGTERM within a few seconds even while a confirmation hangs on a silent relay; the row stays queued', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((c) => sockets.push(c.on('error', () => {})));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const dir = await site();
    const s = await startServe(dir, env({ SMTP_URL: `smtp://127.0.0.1:${(silent.address() as net.AddressInfo).port}` }));
    try {
      assert.equal((await form(s.base, 'email=stuck%40example.com')).status, 200);
      await until(() => sockets.length > 0, 5000);
      const stopping = Date.now();
      assert.equal(await s.stop(), 0);
      assert.ok(Date.now() - stopping < 9000, `stopped after ${Date.now() - stopping} ms`);
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise((r) => silent.close(r));
    }
    const db = new Database(databasePath(dir), { readonly: true });
    assert.deepEqual(db.prepare('SELECT email, status FROM confirmations').all(), [{ email: 'stuck@example.com', status: 'queued' }]);
    db.close();
  });

  it('behind a trusted proxy each client has its own limit, from the right-most untrusted forwarded address', async () => {
    const relay = await sink();
    const s = await serve(await site({ trustProxy: ['127.0.0.1', '10.0.0.0/8'] }), { SMTP_URL: relay.url });
    const from = (client: string, i: number) => form(s.base, `email=reader${i}.${client.replace(/\W/g, '')}%40example.com`, { 'x-forwarded-for': client });
    const a: number[] = [];
    for (let i = 0; i < 6; i++) a.push((await from('203.0.113.7', i)).status);
    assert.deepEqual(a, [200, 200, 200, 200, 200, 429]);
    assert.equal((await from('203.0.113.8', 0)).status, 200, 'another reader behind the same proxy is not limited');
    // Writing a different address on the left of the header does not escape the limit; a trusted hop on the right is skipped.
    assert.equal((await from('198.51.100.1, 203.0.113.7', 9)).status, 429);
    assert.equal((await from('203.0.113.7, 10.1.2.3', 10)).status, 429);
    assert.match(s.output(), /203\.0\.113\.8 POST \/subscribe 200/);
  });

  it('trustProxy entries that are not addresses or CIDR blocks are refused, naming each', async () => {
    const dir = await site({ trustProxy: ['127.0.0.1', 'proxy.internal', '10.0.0.0/33'] });
    const run = await almanac(['serve', '--port', '0', '--root', dir], { env: env() });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^almanac\.config\.json: trustProxy\[1\]: expected an IP address or CIDR block, e\.g\. "127\.0\.0\.1" or "10\.0\.0\.0\/8", found "proxy\.internal"$/m);
    assert.match(run.stderr, /^almanac\.config\.json: trustProxy\[2\]: .*found "10\.0\.0\.0\/33"$/m);
    assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/);
  });

  it('without trustProxy the forwarded-for header counts for nothing', async () => {
    const s = await serve(await site());
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await form(s.base, `email=direct${i}%40example.com`, { 'x-forwarded-for': `203.0.113.${i}` })).status);
    assert.deepEqual(statuses, [503, 503, 503, 503, 503, 429]);
  });

  it('one inbox gets one confirmation in ten minutes, however many clients ask', async () => {
    const relay = await sink();
    const dir = await site();
    const s = await serve(dir, { SMTP_URL: relay.url });
    // Five requests: within one client's limit (clients behind a proxy are covered above).
    const answers = await Promise.all(Array.from({ length: 5 }, () => form(s.base, 'email=victim%40example.com')));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200]);
    const db = new Database(databasePath(dir), { readonly: true });
    try {
      const queued = () => {
        const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'confirmations'`).get();
        return table ? (db.prepare(`SELECT count(*) AS n FROM confirmations WHERE status = 'queued'`).get() as { n: number }).n : 0;
      };
      await until(() => relay.messages.length > 0 && queued() === 0, 10_000);
    } finally {
      db.close();
    }
    assert.equal(relay.messages.filter((m) => m.to === 'victim@example.com').length, 1);
  });
});
