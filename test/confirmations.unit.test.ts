// The confirmation queue and its worker: a real SQLite file, a real SMTP server on loopback (or one
// that accepts connections and never answers), an injected clock.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { configSchema } from '../src/content/config-schema.ts';
import { verifyToken } from '../src/mail/signing.ts';
import { DEFAULT_SMTP_TIMEOUTS, smtpTransport, type SmtpTimeouts } from '../src/mail/transport.ts';
import type { Transport } from '../src/mail/send-ports.ts';
import { redactAddresses, startConfirmationWorker } from '../src/server/confirm-worker.ts';
import { confirmKey, confirmationComposer } from '../src/server/confirmation-mail.ts';
import { ConfirmationQueue } from '../src/store/confirmations.ts';
import { openDatabase, type Db } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { until } from './helpers/cli.ts';
import { smtpSink } from './helpers/smtp.ts';

const SECRET = 'queue-secret-0123456789abcdef';

/** Every transport made here, closed after each test: an idle pooled connection would hold the relay open. */
const transports: Transport[] = [];
function transport(url: string, timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS): Transport {
  const t = smtpTransport({ url, concurrency: 1, ratePerSecond: 0, timeouts });
  transports.push(t);
  return t;
}
const closeTransports = () => {
  for (const t of transports.splice(0)) t.close();
};
afterEach(closeTransports);
const config = configSchema.parse({ baseUrl: 'https://almanac.example.org' });
const T0 = Date.parse('2026-06-20T09:00:00Z');

async function freshDb(): Promise<{ file: string; db: Db }> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-queue-')), 'almanac.db');
  return { file, db: openDatabase(file) };
}

/** A port where nothing listens: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('confirmation queue', () => {
  it('one request per address per interval, whatever the case of the address', async () => {
    const { db } = await freshDb();
    const queue = new ConfirmationQueue(db);
    assert.equal(queue.enqueue(1, 'Reader@Example.com', T0, 600_000), true);
    assert.equal(queue.enqueue(1, 'reader@example.com', T0 + 599_999, 600_000), false);
    assert.equal(queue.enqueue(1, 'reader@example.com', T0 + 600_000, 600_000), true);
    assert.equal(queue.claim(T0 + 600_000, 1000)?.attempts, 1);
    assert.equal(queue.claim(T0 + 600_000, 1000), undefined, 'a claimed row is leased');
    assert.equal(queue.claim(T0 + 601_000, 1000)?.attempts, 2, 'and comes back when the lease runs out');
    db.close();
  });

  it('one request per inbox per interval, however the address is spelled (tags, Gmail dots)', async () => {
    const { db } = await freshDb();
    const queue = new ConfirmationQueue(db);
    assert.equal(queue.enqueue(1, 'reader@example.com', T0, 600_000), true);
    for (const variant of ['reader+1@example.com', 'Reader+news@Example.com', 'reader+@example.com']) {
      assert.equal(queue.enqueue(2, variant, T0 + 1000, 600_000), false, variant);
    }
    assert.equal(queue.enqueue(3, 'someone.else@gmail.com', T0, 600_000), true);
    for (const variant of ['some.one.else@gmail.com', 'SomeoneElse+x@googlemail.com', 's.o.m.e.o.n.e.e.l.s.e@gmail.com']) {
      assert.equal(queue.enqueue(4, variant, T0 + 1000, 600_000), false, variant);
    }
    assert.equal(queue.enqueue(5, 'other.reader@example.com', T0, 600_000), true, 'dots count outside Gmail');
    assert.equal(queue.enqueue(5, 'otherreader@example.com', T0, 600_000), true);
    // The mail goes to the address as written in the latest request that queued it.
    assert.equal(queue.claim(T0 + 1000, 1000)?.email, 'reader@example.com');
    db.close();
  });

  it('a failed send retries with backoff, is logged without the address, and survives a restart', async () => {
    const { file, db } = await freshDb();
    let clock = T0;
    const subscribers = new SqliteSubscribers(db);
    const { subscriber } = subscribers.signUp('private.person@example.com', ['midweek', 'sunday'], clock)!;
    const queue = new ConfirmationQueue(db);
    queue.enqueue(subscriber.id, subscriber.email, clock, 600_000);
    const logs: string[] = [];
    const down = startConfirmationWorker({
      queue,
      transport: transport(`smtp://127.0.0.1:${await closedPort()}`),
      compose: confirmationComposer({ config, secret: SECRET, subscribers }),
      clock: () => clock,
      log: (l) => logs.push(l),
      backoffMs: 30_000,
      idleMs: 20,
    });
    await until(() => logs.length >= 1, 10_000);
    await down.stop();
    db.close();
    assert.match(logs[0]!, /^confirmation #1 failed \(attempt 1 of 8\), retrying in 30 s: /);
    assert.doesNotMatch(logs.join('\n'), /private\.person|example\.com/);

    // A new process: the row is still there, due once the backoff has passed.
    const db2 = openDatabase(file);
    const sink = await smtpSink();
    const queue2 = new ConfirmationQueue(db2);
    const subscribers2 = new SqliteSubscribers(db2);
    assert.equal(queue2.claim(clock + 29_000, 1000), undefined, 'not before the backoff');
    clock += 31_000;
    const up = startConfirmationWorker({
      queue: queue2,
      transport: transport(sink.url),
      compose: confirmationComposer({ config, secret: SECRET, subscribers: subscribers2 }),
      clock: () => clock,
      log: (l) => logs.push(l),
      idleMs: 20,
    });
    try {
      await until(() => sink.messages.length === 1, 10_000);
      const mail = await simpleParser(sink.messages[0]!.raw);
      assert.equal(sink.messages[0]!.to, 'private.person@example.com');
      const token = /\/confirm\?token=(\S+)/.exec(mail.text!)![1]!;
      // Valid for seven days from the request, not from the retry.
      const keyOf = (id: number) => {
        const s = subscribers2.get(id);
        return s?.confirmNonce ? confirmKey(s.tokenKey, s.confirmNonce) : undefined;
      };
      assert.ok(verifyToken(SECRET, token, 'confirm', T0 + 7 * 24 * 3600_000 - 1000, keyOf));
      assert.equal(verifyToken(SECRET, token, 'confirm', T0 + 7 * 24 * 3600_000 + 1000, keyOf), undefined);
      await until(() => (db2.prepare('SELECT status FROM confirmations').get() as { status: string }).status === 'sent', 5000);
    } finally {
      await up.stop();
      closeTransports();
      await sink.close();
      db2.close();
    }
  });

  it('a relay that accepts the connection and never answers is given up on within the deadline', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s.on('error', () => {})));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { db } = await freshDb();
    const subscribers = new SqliteSubscribers(db);
    const { subscriber } = subscribers.signUp('slow@example.com', ['midweek', 'sunday'], T0)!;
    const queue = new ConfirmationQueue(db);
    queue.enqueue(subscriber.id, subscriber.email, T0, 600_000);
    const logs: string[] = [];
    const started = Date.now();
    const worker = startConfirmationWorker({
      queue,
      transport: transport(`smtp://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { connectMs: 300, greetingMs: 300, commandMs: 300, dataMs: 300 }),
      compose: confirmationComposer({ config, secret: SECRET, subscribers }),
      clock: () => T0,
      log: (l) => logs.push(l),
      sendTimeoutMs: 2000,
      idleMs: 20,
    });
    try {
      await until(() => logs.length >= 1, 5000);
      assert.ok(Date.now() - started < 2000, `gave up after ${Date.now() - started} ms`);
      assert.match(logs[0]!, /retrying in 30 s/);
    } finally {
      await worker.stop();
      closeTransports();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
      db.close();
    }
  });

  it('a send that never settles hits the overall deadline; stop() returns within it', async () => {
    const { db } = await freshDb();
    const subscribers = new SqliteSubscribers(db);
    const { subscriber } = subscribers.signUp('hang@example.com', ['midweek', 'sunday'], T0)!;
    const queue = new ConfirmationQueue(db);
    queue.enqueue(subscriber.id, subscriber.email, T0, 600_000);
    const logs: string[] = [];
    const worker = startConfirmationWorker({
      queue,
      transport: { send: () => new Promise(() => {}), close() {} },
      compose: confirmationComposer({ config, secret: SECRET, subscribers }),
      clock: () => T0,
      log: (l) => logs.push(l),
      sendTimeoutMs: 200,
      idleMs: 20,
    });
    await until(() => logs.length >= 1, 5000);
    assert.match(logs[0]!, /retrying in 30 s: no answer from the mail server within 200 ms$/);
    const stopping = Date.now();
    await worker.stop();
    assert.ok(Date.now() - stopping < 1000);
    db.close();
  });

  it('a permanent refusal is not retried; a reader who confirmed meanwhile gets no mail', async () => {
    const sink = await smtpSink({ rcpt: (a) => (a === 'refused@example.com' ? 550 : undefined) });
    const { db } = await freshDb();
    const subscribers = new SqliteSubscribers(db);
    const queue = new ConfirmationQueue(db);
    const refused = subscribers.signUp('refused@example.com', ['midweek', 'sunday'], T0)!.subscriber;
    const done = subscribers.signUp('done@example.com', ['midweek', 'sunday'], T0)!.subscriber;
    queue.enqueue(refused.id, refused.email, T0, 600_000);
    queue.enqueue(done.id, done.email, T0, 600_000);
    subscribers.confirm(done.id, subscribers.get(done.id)!.confirmNonce!, T0);
    const logs: string[] = [];
    const worker = startConfirmationWorker({
      queue,
      transport: transport(sink.url),
      compose: confirmationComposer({ config, secret: SECRET, subscribers }),
      clock: () => T0,
      log: (l) => logs.push(l),
      idleMs: 20,
    });
    try {
      const statuses = () => db.prepare('SELECT email, status FROM confirmations ORDER BY id').all() as { email: string; status: string }[];
      await until(() => statuses().every((r) => r.status !== 'queued'), 10_000);
      assert.deepEqual(statuses().map((r) => r.status), ['failed', 'sent']);
      assert.equal(sink.messages.length, 0);
      assert.match(logs.join('\n'), /confirmation #1 failed for good after 1 attempt\(s\)/);
      assert.doesNotMatch(logs.join('\n'), /refused@/);
    } finally {
      await worker.stop();
      closeTransports();
      await sink.close();
      db.close();
    }
  });

  it('the confirmation names the editions the reader asked for, not every edition of the site', async () => {
    const { db } = await freshDb();
    const subscribers = new SqliteSubscribers(db);
    const monthly = configSchema.parse({ baseUrl: 'https://almanac.example.org', editions: { monthly: { cron: '0 9 1 * *' } } });
    const compose = confirmationComposer({ config: monthly, secret: SECRET, subscribers });
    const text = async (email: string, editions: string[]) => {
      const { subscriber } = subscribers.signUp(email, editions, T0)!;
      const message = await compose({ id: 1, subscriberId: subscriber.id, email, attempts: 0, requestedAt: T0 });
      const parsed = await simpleParser(message!.raw);
      // The HTML part, which most readers see, names the same editions.
      assert.match(String(parsed.html), /want <strong>Call Me Almanac<\/strong> \([^)]*\) by email/);
      return `${parsed.text ?? ''}\n${String(parsed.html).replace(/<[^>]*>/g, '').replace(/&amp;/g, '&')}`;
    };
    try {
      assert.match(await text('one@example.com', ['sunday']), /want Call Me Almanac \(Sunday\) by email/);
      const two = await text('two@example.com', ['monthly', 'midweek']);
      assert.equal(two.match(/want Call Me Almanac \(Midweek & Monthly\) by email/g)?.length, 2, two);
    } finally {
      db.close();
    }
  });

  it('addresses are taken out of error text', () => {
    assert.equal(redactAddresses('550 5.1.1 <a.b+c@example.co.uk>: Recipient address rejected'), '550 5.1.1 <<address>>: Recipient address rejected');
    assert.equal(redactAddresses('Can\'t send mail - all recipients were rejected: 451 x@y.z try later'), 'Can\'t send mail - all recipients were rejected: 451 <address> try later');
  });
});
