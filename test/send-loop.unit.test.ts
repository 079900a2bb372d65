// The send loop on its own, in the style of listmonk's manager pipe tests: a ledger (in memory, and
// once the real SQLite one on a file) and a scripted SMTP transport that answers 250, 4xx, 5xx, 535,
// a refused sender, timeouts and dropped connections in any order, with the lease stolen mid-batch
// (by a host whose clock runs ahead) and stop signals at any step. Clocks and sleeps are injected.
// After every script the invariants hold: every reader ends sent, bounced, failed with a reason, or
// queued; nobody has two copies unless their row is marked uncertain; at most one uncertain row per
// open connection and incident.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { MessageTemplate } from '../src/mail/message.ts';
import type { SendJob, SendSettings, Transport } from '../src/mail/send-ports.ts';
import { REFUSALS_BEFORE_ACCEPTED } from '../src/mail/send-record.ts';
import { sendIssue, type SendReport } from '../src/mail/send.ts';
import { openDatabase } from '../src/store/database.ts';
import { SqliteLedger, type Ledger } from '../src/store/ledger.ts';
import { MemoryLedger, type MemoryReader } from './helpers/memory-ledger.ts';

const ISSUE = '2026-04-15-midweek';

/** The issue every script sends: the message and each reader's links are placeholders; the loop is under test. */
const JOB: SendJob = {
  issueId: ISSUE,
  edition: 'midweek',
  envelopeFrom: 'almanac@example.org',
  template: { runsOf: () => [Buffer.from('message')] } as unknown as MessageTemplate,
  personalise: (d) => ({ messageId: `${d.subscriberId}@x`, unsubscribeUrl: 'https://x/u', unsubscribeMailto: 'mailto:u@x', tokens: { unsubscribe: 'https://x/u', preferences: 'https://x/p', name: 'R' } }),
};

/** What the scripted server does with one message. */
type Step = 'ok' | '451' | '550' | '535' | '554-from' | 'timeout-before' | 'timeout-after' | 'drop-after' | 'steal' | 'stop' | 'unsubscribe-last';
const STEPS: Step[] = ['ok', '451', '550', '535', '554-from', 'timeout-before', 'timeout-after', 'drop-after', 'steal', 'stop'];

const smtpError = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.response ?? fields.code)), fields);

/** A store under test: the ledger plus what the checks need to see and do behind the sender's back. */
interface Store {
  ledger: Ledger;
  rows(): { subscriberId: number; email: string; status: string; uncertain: boolean; attempts: number; error: string | null }[];
  readerStatus(id: number): string;
  /** Another sender takes the lease (its clock far ahead), recovers the rows in flight and stops. */
  steal(now: number): void;
  unsubscribe(id: number): void;
}

function memoryStore(n: number): Store {
  const readers: MemoryReader[] = Array.from({ length: n }, (_, i) => ({ id: i + 1, email: `r${i + 1}@example.com`, status: 'active' }));
  const ledger = new MemoryLedger(readers);
  return {
    ledger,
    rows: () => [...ledger.rows.values()].map((r) => ({ ...r })),
    readerStatus: (id) => readers.find((r) => r.id === id)!.status,
    steal(now) {
      const lock = ledger.acquire(ISSUE, 'other-host:1', now + 10 * 60_000, 60_000);
      assert.ok(lock.ok);
      ledger.recoverInFlight(lock.lease, now);
      ledger.release(lock.lease);
    },
    unsubscribe: (id) => void (readers.find((r) => r.id === id)!.status = 'unsubscribed'),
  };
}

async function sqliteStore(n: number): Promise<Store> {
  const db = openDatabase(path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-loop-')), 'almanac.db'));
  const insert = db.prepare("INSERT INTO subscribers (id, email, name, status, created_at, updated_at) VALUES (?, ?, '', 'active', 0, 0)");
  const midweek = db.prepare("INSERT INTO subscriber_editions (subscriber_id, edition) VALUES (?, 'midweek')");
  for (let i = 1; i <= n; i++) {
    insert.run(i, `r${i}@example.com`);
    midweek.run(i);
  }
  const ledger = new SqliteLedger(db, { bounce: (id, now) => void db.prepare("UPDATE subscribers SET status = 'bounced', updated_at = ? WHERE id = ?").run(now, id) });
  return {
    ledger,
    rows: () =>
      (db.prepare('SELECT subscriber_id, email, status, uncertain, attempts, error FROM deliveries WHERE issue_id = ? ORDER BY subscriber_id').all(ISSUE) as {
        subscriber_id: number; email: string; status: string; uncertain: number; attempts: number; error: string | null;
      }[]).map((r) => ({ subscriberId: r.subscriber_id, email: r.email, status: r.status, uncertain: r.uncertain === 1, attempts: r.attempts, error: r.error })),
    readerStatus: (id) => (db.prepare('SELECT status FROM subscribers WHERE id = ?').get(id) as { status: string }).status,
    steal(now) {
      const lock = ledger.acquire(ISSUE, 'other-host:1', now + 10 * 60_000, 60_000);
      assert.ok(lock.ok);
      ledger.recoverInFlight(lock.lease, now);
      ledger.release(lock.lease);
    },
    unsubscribe: (id) => void db.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE id = ?").run(id),
  };
}

interface Outcome {
  reports: SendReport[];
  /** Copies each address received (as the server saw it). */
  delivered: Map<string, number>;
  /** Times another sender took over, stops, and runs that failed: each may leave one uncertain row per connection. */
  incidents: number;
  /** Readers refused with a 5xx at RCPT TO. */
  refused: Set<string>;
}

/**
 * Runs the loop until nothing is queued (or `maxRuns`), the transport answering from `script` in
 * order and 250 once it runs out. The recorded clock is fixed; only the real clock moves.
 */
async function runScript(store: Store, script: Step[], settings: Partial<SendSettings> = {}, maxRuns = 40): Promise<Outcome> {
  const delivered = new Map<string, number>();
  const refused = new Set<string>();
  let real = 1_000_000;
  let incidents = 0;
  let i = 0;
  const reports: SendReport[] = [];
  const full: SendSettings = { concurrency: 3, maxAttempts: 3, retryBaseMs: 1000, retryMaxMs: 8000, leaseMs: 60_000, stopMs: 5000, quotaWaitMs: 60_000, ...settings };
  for (let run = 0; run < maxRuns; run++) {
    const controller = new AbortController();
    const accept = (to: string): void => void delivered.set(to, (delivered.get(to) ?? 0) + 1);
    const transport: Transport = {
      async send(_raw, { to }) {
        await Promise.resolve();
        const step = script[i++] ?? 'ok';
        switch (step) {
          case 'ok':
            return accept(to);
          case '451':
            throw smtpError({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451, response: '451 Try again later' });
          case '550':
            refused.add(to);
            throw smtpError({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response: '550 Mailbox unavailable' });
          case '535':
            incidents++;
            throw smtpError({ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 Authentication credentials invalid' });
          case '554-from':
            incidents++;
            throw smtpError({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 554, response: '554 Sender address rejected' });
          case 'timeout-before':
            incidents++;
            throw smtpError({ code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'GREETING_TIMEOUT' });
          case 'timeout-after':
            incidents++;
            accept(to); // the server took it, then went silent
            throw smtpError({ code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'SOCKET_TIMEOUT' });
          case 'drop-after':
            incidents++;
            accept(to);
            throw smtpError({ code: 'ECONNECTION', command: 'CONN' });
          case 'steal':
            incidents++;
            store.steal(real);
            return accept(to);
          case 'unsubscribe-last':
            // The last reader unsubscribes (on the web, say) while earlier ones are being sent.
            store.unsubscribe(Math.max(...store.rows().map((r) => r.subscriberId)));
            return accept(to);
          case 'stop':
            incidents++;
            controller.abort();
            await Promise.resolve();
            return accept(to);
        }
      },
      close() {},
    };
    const report = await sendIssue(
      JOB,
      {
        ledger: store.ledger,
        transport,
        settings: full,
        clock: () => 42, // a fixed --now: never used for waiting
        realClock: () => real,
        holder: `this-host:${run}`,
        holderAlive: () => true,
        signal: controller.signal,
        sleep: async (ms) => {
          real += ms;
          await Promise.resolve();
        },
      },
    );
    reports.push(report);
    checkInvariants(store, { reports, delivered, incidents, refused }, full.concurrency);
    if (report.counts.queued === 0) break;
  }
  return { reports, delivered, incidents, refused };
}

function checkInvariants(store: Store, o: Outcome, concurrency: number): void {
  const rows = store.rows();
  for (const r of rows) {
    assert.ok(['sent', 'failed', 'skipped', 'queued'].includes(r.status), `${r.email} left ${r.status}`);
    if (r.status === 'failed') assert.ok(r.error && r.error.length > 0, `${r.email} failed without a reason`);
    const copies = o.delivered.get(r.email) ?? 0;
    if (copies > 1) assert.ok(r.uncertain, `${r.email} got ${copies} copies but is not marked uncertain`);
    if (r.status === 'sent') assert.ok(copies >= 1, `${r.email} recorded sent but never accepted`);
    if (store.readerStatus(r.subscriberId) === 'bounced') {
      assert.ok(o.refused.has(r.email), `${r.email} bounced without a 5xx of its own`);
      assert.equal(r.status, 'failed');
    }
  }
  const uncertain = rows.filter((r) => r.uncertain).length;
  assert.ok(uncertain <= o.incidents * concurrency, `${uncertain} uncertain rows for ${o.incidents} incidents on ${concurrency} connections`);
}

describe('send loop', () => {
  it('with a fixed --now, a 451 is retried and the run still finishes: every reader sent in one run', async () => {
    const store = memoryStore(3);
    const o = await runScript(store, ['451'], {}, 1);
    assert.equal(o.reports.length, 1);
    assert.deepEqual(o.reports[0]!.counts.sent, 3);
    assert.ok(store.rows().every((r) => r.status === 'sent'));
  });

  it('a 5xx for one reader is recorded as a bounce even when the same worker\'s next row is skipped', async () => {
    const store = memoryStore(3);
    store.ledger.enqueue(ISSUE, 'midweek', 0);
    store.unsubscribe(2);
    // Refused before anything was accepted, reader 1 is held back, then refused again once reader 3 went.
    await runScript(store, ['550', 'ok', '550'], { concurrency: 1 });
    assert.equal(store.readerStatus(1), 'bounced');
    assert.deepEqual(store.rows().map((r) => r.status), ['failed', 'skipped', 'sent']);
  });

  it('a relay that refuses every recipient (relay access denied) bounces nobody: the run fails after a few refusals with none accepted', async () => {
    for (const store of [memoryStore(8), await sqliteStore(8)]) {
      const o = await runScript(store, Array(REFUSALS_BEFORE_ACCEPTED).fill('550'), { concurrency: 1 });
      assert.equal(o.reports[0]!.stopped, 'failure');
      assert.match(o.reports[0]!.failure ?? '', /refused 5 recipients in a row and accepted none/);
      // Nobody was marked; once the relay accepts, the next run sends everyone one copy.
      for (let id = 1; id <= 8; id++) assert.equal(store.readerStatus(id), 'active', `reader ${id}`);
      assert.deepEqual(store.rows().map((r) => r.status), Array(8).fill('sent'));
    }
  });

  it('one bad address first in the list is still bounced once another reader was accepted', async () => {
    const store = memoryStore(3);
    await runScript(store, ['550', 'ok', 'ok', '550'], { concurrency: 1 });
    assert.equal(store.readerStatus(1), 'bounced');
    assert.deepEqual(store.rows().map((r) => r.status), ['failed', 'sent', 'sent']);
  });

  it('a reader who unsubscribes while the batch they are in is being sent gets nothing (memory and SQLite ledgers)', async () => {
    for (const store of [memoryStore(3), await sqliteStore(3)]) {
      const o = await runScript(store, ['unsubscribe-last'], { concurrency: 1 });
      assert.equal(o.delivered.get('r3@example.com'), undefined, 'the unsubscribed reader was sent the issue');
      assert.deepEqual(store.rows().map((r) => r.status), ['sent', 'sent', 'skipped']);
    }
  });

  it('a wrong password or a refused sender changes no reader: the run stops with the server\'s words, the next run sends everyone once', async () => {
    for (const step of ['535', '554-from'] as const) {
      const store = memoryStore(5);
      const o = await runScript(store, [step, step, step]);
      const first = o.reports[0]!;
      assert.equal(first.stopped, 'failure');
      assert.match(first.failure!, step === '535' ? /^535 Authentication credentials invalid/ : /^554 Sender address rejected \(at MAIL FROM\)$/);
      assert.equal(first.counts.failed, 0);
      assert.ok(store.rows().every((r) => r.status === 'sent' && !r.uncertain && r.attempts === 1), JSON.stringify(store.rows()));
      assert.ok([...o.delivered.values()].every((n) => n === 1));
      assert.ok([1, 2, 3, 4, 5].every((id) => store.readerStatus(id) === 'active'));
    }
  });

  it('a sender whose lease was taken mid-batch writes nothing more and sends nothing more', async () => {
    const store = memoryStore(30);
    const o = await runScript(store, ['ok', 'ok', 'steal'], { concurrency: 1 }, 1);
    const first = o.reports[0]!;
    assert.equal(first.stopped, 'lease');
    // The message in flight at the take-over went out and is marked uncertain; nothing after it.
    assert.equal([...o.delivered.values()].reduce((a, b) => a + b, 0), 3);
    assert.equal(store.rows().filter((r) => r.status === 'sent').length, 2);
    assert.equal(store.rows().filter((r) => r.uncertain).length, 1);
  });

  it('invariants hold for any order of answers, take-overs and stops (memory ledger)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(fc.constantFrom(...STEPS), { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), async (n, script, concurrency) => {
        const store = memoryStore(n);
        const o = await runScript(store, script, { concurrency });
        // With the script used up every run succeeds, so in the end nobody is left queued.
        assert.ok(store.rows().every((r) => r.status !== 'queued'), JSON.stringify(store.rows()));
        assert.equal(store.rows().length, n);
        assert.ok(o.reports.length >= 1);
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });

  it('the same invariants hold against SqliteLedger on a real SQLite file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10 }), fc.array(fc.constantFrom(...STEPS), { maxLength: 30 }), fc.integer({ min: 1, max: 3 }), async (n, script, concurrency) => {
        const store = await sqliteStore(n);
        await runScript(store, script, { concurrency });
        assert.ok(store.rows().every((r) => r.status !== 'queued'), JSON.stringify(store.rows()));
      }),
      { numRuns: 25, seed: 20261206 },
    );
  });
});

describe('SMTP failure classification', () => {
  it('reads nodemailer\'s code, command and reply code: a reader\'s own refusal, a retry, or the run\'s failure', async () => {
    const { classify } = await import('../src/mail/outcome.ts');
    const cases: [Record<string, unknown>, string, boolean?][] = [
      [{ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response: '550 No such user' }, 'permanent'],
      [{ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 452, response: '452 Mailbox full' }, 'transient'],
      [{ code: 'EMESSAGE', command: 'DATA', responseCode: 554, response: '554 Rejected as spam' }, 'permanent'],
      [{ code: 'EMESSAGE', command: 'DATA', responseCode: 451, response: '451 Local error' }, 'transient'],
      [{ code: 'EENVELOPE', command: 'API' }, 'permanent'],
      [{ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 Bad credentials' }, 'run', false],
      [{ code: 'EAUTH', command: 'AUTH LOGIN', responseCode: 530, response: '530 Authentication required' }, 'run', false],
      [{ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 554, response: '554 Sender rejected' }, 'run', false],
      [{ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 451, response: '451 Try later' }, 'run', false],
      [{ code: 'ETLS', command: 'STARTTLS' }, 'run', false],
      [{ code: 'ESOCKET', command: 'CONN', originalCode: 'ECONNREFUSED' }, 'run', false],
      [{ code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'GREETING_TIMEOUT' }, 'run', false],
      [{ code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'SOCKET_TIMEOUT' }, 'run', true],
      [{ code: 'ECONNECTION', command: 'CONN' }, 'run', true],
      [{ code: 'ETIMEDOUT', command: 'DATA', timeoutType: 'MESSAGE_TIMEOUT' }, 'run', true],
      // A 5xx that is not about one recipient must never bounce anyone, whatever the text says.
      [{ code: 'EPROTOCOL', command: 'CONN', responseCode: 554, response: '554 No SMTP service here' }, 'run', false],
      // A relay that asks for a login only at RCPT TO: the operator's missing password, not the reader's address.
      [{ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 530, response: '530 5.7.0 Authentication required' }, 'run', false],
      [{ code: 'EMESSAGE', command: 'DATA', responseCode: 535, response: '535 5.7.8 Authentication credentials invalid' }, 'run', false],
      // A server that says 421 to EHLO and hangs up: no message had started, nobody is uncertain.
      [{ code: 'ECONNECTION', command: 'EHLO', responseCode: 421, response: '421 Too busy' }, 'run', false],
      // 421 at RCPT TO or after the message: the server closing the session, not a reader's answer.
      [{ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 421, response: '421 4.7.0 Try again later, closing connection' }, 'run', false],
      [{ code: 'EMESSAGE', command: 'DATA', responseCode: 421, response: '421 4.3.2 Service shutting down' }, 'run', false],
    ];
    for (const [err, kind, maybeDelivered] of cases) {
      const verdict = classify(Object.assign(new Error('x'), err));
      assert.equal(verdict.kind, kind, JSON.stringify(err));
      if (verdict.kind === 'run') assert.equal(verdict.maybeDelivered, maybeDelivered, JSON.stringify(err));
    }
  });
});

describe('SqliteLedger beside another writer', () => {
  it('a claim made while another connection holds the write lock waits its turn instead of failing with SQLITE_BUSY', async () => {
    const { Worker } = await import('node:worker_threads');
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-busy-')), 'almanac.db');
    const db = openDatabase(file);
    try {
      db.prepare("INSERT INTO subscribers (id, email, name, status, created_at, updated_at) VALUES (1, 'r1@example.com', '', 'active', 0, 0)").run();
      db.prepare("INSERT INTO subscriber_editions (subscriber_id, edition) VALUES (1, 'midweek')").run();
      const ledger = new SqliteLedger(db);
      const lock = ledger.acquire(ISSUE, 'here:1', 0, 60_000);
      assert.ok(lock.ok);
      ledger.enqueue(ISSUE, 'midweek', 0);
      // Another connection (the server recording an unsubscribe, say) writes for 300 ms. It runs on
      // a thread of its own, so this one is free to wait for the lock as a second process would.
      const holder = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
         const db = new (require('better-sqlite3'))(workerData); db.exec('BEGIN IMMEDIATE'); db.prepare('UPDATE subscribers SET updated_at = 1').run();
         parentPort.postMessage('locked'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); db.exec('COMMIT'); db.close();`,
        { eval: true, workerData: file },
      );
      const exited = new Promise((resolve) => holder.on('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the other writer never took its lock')), 10_000);
        holder.once('message', () => (clearTimeout(timer), resolve()));
        holder.once('error', (err) => (clearTimeout(timer), reject(err)));
      });
      assert.deepEqual(ledger.step(lock.lease, undefined, 1, 0), { claimed: true });
      assert.equal(ledger.counts(ISSUE).sending, 1);
      await exited;
    } finally {
      db.close();
    }
  });
});

describe('send loop on the real clock', () => {
  it('a run that fails while another reader waits for a retry ends at once, not when that wait is over', async () => {
    const { abortableSleep } = await import('../src/mail/send.ts');
    const store = memoryStore(2);
    const transport: Transport = {
      async send(_raw, { to }) {
        if (to === 'r1@example.com') throw smtpError({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451, response: '451 Try again later' });
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw smtpError({ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 Authentication credentials invalid' });
      },
      close() {},
    };
    const started = Date.now();
    const report = await sendIssue(
      JOB,
      {
        ledger: store.ledger,
        transport,
        settings: { concurrency: 2, maxAttempts: 5, retryBaseMs: 60_000, retryMaxMs: 60_000, leaseMs: 60_000, stopMs: 5000, quotaWaitMs: 60_000 },
        clock: () => Date.now(),
        realClock: () => Date.now(),
        holder: 'this-host:1',
        holderAlive: () => true,
        signal: new AbortController().signal,
        sleep: abortableSleep,
      },
    );
    assert.equal(report.stopped, 'failure');
    assert.ok(Date.now() - started < 5000, `the run took ${Date.now() - started} ms to end`);
    assert.deepEqual(store.rows().map((r) => [r.email, r.status, r.uncertain]), [['r1@example.com', 'queued', false], ['r2@example.com', 'queued', false]]);
  });
});

describe('send loop: a ledger that cannot be written', () => {
  it('stops the whole run as a failure: no worker goes on sending what it cannot record', async () => {
    const store = memoryStore(10);
    const step = store.ledger.step.bind(store.ledger);
    let calls = 0;
    store.ledger.step = (...args) => {
      if (++calls === 3) throw new Error('database or disk is full');
      return step(...args);
    };
    let sent = 0;
    const transport: Transport = {
      async send() {
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      close() {},
    };
    const report = await sendIssue(
      JOB,
      {
        ledger: store.ledger,
        transport,
        settings: { concurrency: 2, maxAttempts: 3, retryBaseMs: 1000, retryMaxMs: 1000, leaseMs: 60_000, stopMs: 5000, quotaWaitMs: 60_000 },
        clock: () => Date.now(),
        realClock: () => Date.now(),
        holder: 'this-host:1',
        holderAlive: () => true,
        signal: new AbortController().signal,
        sleep: async () => {},
      },
    );
    assert.equal(report.stopped, 'failure');
    assert.match(report.failure!, /database or disk is full/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(sent <= 2, `${sent} messages went out after the ledger failed`);
  });
});

describe('send loop: a run that fails while another connection hangs', () => {
  it('gives the message in flight the stop deadline, then records it uncertain and ends', async () => {
    const { abortableSleep } = await import('../src/mail/send.ts');
    const store = memoryStore(2);
    const transport: Transport = {
      async send(_raw, { to }) {
        if (to === 'r1@example.com') return new Promise<void>(() => {}); // a connection that never answers
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw smtpError({ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 Authentication credentials invalid' });
      },
      close() {},
    };
    const run = sendIssue(
      JOB,
      {
        ledger: store.ledger,
        transport,
        settings: { concurrency: 2, maxAttempts: 5, retryBaseMs: 1000, retryMaxMs: 1000, leaseMs: 60_000, stopMs: 200, quotaWaitMs: 60_000 },
        clock: () => Date.now(),
        realClock: () => Date.now(),
        holder: 'this-host:1',
        holderAlive: () => true,
        signal: new AbortController().signal,
        sleep: abortableSleep,
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const report = await Promise.race([run, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 5000)))]);
    clearTimeout(timer);
    assert.ok(report, 'the run never ended');
    assert.equal(report.stopped, 'failure');
    assert.equal(report.abandoned, 1);
    assert.deepEqual(store.rows().map((r) => [r.email, r.status, r.uncertain]), [['r1@example.com', 'queued', true], ['r2@example.com', 'queued', false]]);
  });
});
