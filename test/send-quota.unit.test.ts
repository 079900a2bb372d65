// The sending quota (`sending.limits`): its windows on their own, the send loop against it with the
// memory ledger and an injected clock (a short limit waited out within the run, a long one pausing
// it with the rest queued), `--retry`'s requeue, and two senders on one SQLite file sharing a quota.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../src/content/config-schema.ts';
import type { MessageTemplate } from '../src/mail/message.ts';
import { pacePerSecond } from '../src/mail/send-job.ts';
import type { SendJob, SendSettings, Transport } from '../src/mail/send-ports.ts';
import { DEFAULT_SEND_SETTINGS, sendIssue, type SendContext, type SendReport } from '../src/mail/send.ts';
import { startConfirmationWorker } from '../src/server/confirm-worker.ts';
import { ConfirmationQueue } from '../src/store/confirmations.ts';
import { openDatabase } from '../src/store/database.ts';
import { SqliteLedger, type Ledger } from '../src/store/ledger.ts';
import { memoryBuckets, quota, sqliteQuota, takeQuota } from '../src/store/quota.ts';
import { until } from './helpers/cli.ts';
import { MemoryLedger, type MemoryReader } from './helpers/memory-ledger.ts';

const ISSUE = '2026-04-15-midweek';
const JOB: SendJob = {
  issueId: ISSUE,
  edition: 'midweek',
  envelopeFrom: 'almanac@example.org',
  template: { runsOf: () => [Buffer.from('message')] } as unknown as MessageTemplate,
  personalise: (d) => ({ messageId: `${d.subscriberId}@x`, unsubscribeUrl: 'https://x/u', unsubscribeMailto: 'mailto:u@x', tokens: { unsubscribe: 'https://x/u', preferences: 'https://x/p', name: 'R' } }),
};
const SETTINGS: SendSettings = { ...DEFAULT_SEND_SETTINGS, concurrency: 3, maxAttempts: 3, retryBaseMs: 1000, retryMaxMs: 8000 };
const MINUTE = 60_000;
const HOUR = 3600_000;

/** A clock that only moves when the loop sleeps, and a transport that notes when each message went. */
function world(start = 10 * HOUR) {
  const time = { now: start };
  const sent: { to: string; at: number }[] = [];
  const transport: Transport = {
    async send(_raw, { to }) {
      await Promise.resolve();
      sent.push({ to, at: time.now });
    },
    close() {},
  };
  const context = (ledger: Ledger, holder: string, settings: Partial<SendSettings> = {}): SendContext => ({
    ledger,
    transport,
    settings: { ...SETTINGS, ...settings },
    clock: () => 42,
    realClock: () => time.now,
    holder,
    holderAlive: () => true,
    signal: new AbortController().signal,
    sleep: async (ms) => {
      time.now += ms;
      await Promise.resolve();
    },
  });
  return { time, sent, transport, context };
}

const readers = (n: number): MemoryReader[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, email: `r${i + 1}@example.com`, status: 'active' }));

/** The most messages in any window of `ms`, wherever it starts. */
function busiestWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('quota windows', () => {
  it('refuses the message past the limit, and says when the oldest counted bucket leaves the window', () => {
    let now = 5 * MINUTE + 200;
    const q = quota({ perMinute: 3 }, memoryBuckets(), () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(q.blockedUntil(), undefined);
      q.record();
      now += 1000;
    }
    // Sent at 5:00.2, 5:01.2, 5:02.2 (in buckets 5:00, 5:01, 5:02): the first leaves every window of a minute by 6:01.
    assert.equal(q.blockedUntil(), 6 * MINUTE + 1000);
    now = 6 * MINUTE + 999;
    assert.equal(q.blockedUntil(), 6 * MINUTE + 1000);
    now = 6 * MINUTE + 1000;
    assert.equal(q.blockedUntil(), undefined);
  });

  it('the tightest of several limits decides', () => {
    let now = HOUR;
    const q = quota({ perSecond: 100, perHour: 2 }, memoryBuckets(), () => now);
    q.record();
    q.record();
    now += 10;
    assert.equal(q.blockedUntil(), 2 * HOUR + MINUTE);
  });
});

describe('send loop under the quota', () => {
  it('a per-minute limit shorter than the run is waited out within it: everyone once, never more than the limit in any minute', async () => {
    const w = world();
    const ledger = new MemoryLedger(readers(12), quota({ perMinute: 5 }, memoryBuckets(), () => w.time.now));
    const report = await sendIssue(JOB, w.context(ledger, 'host:1'));
    assert.equal(report.stopped, undefined);
    assert.equal(report.counts.sent, 12);
    assert.equal(new Set(w.sent.map((s) => s.to)).size, 12);
    assert.equal(w.sent.length, 12, 'nobody twice');
    assert.ok(busiestWindow(w.sent.map((s) => s.at), MINUTE) <= 5, `at most 5 in a minute: ${JSON.stringify(w.sent.map((s) => s.at))}`);
    assert.ok(w.time.now - 10 * HOUR >= 2 * MINUTE, 'the run waited for the quota');
  });

  it('a per-hour limit pauses the run with the rest queued and says until when; each resume at that time sends the next share, and nothing is skipped or doubled', async () => {
    const w = world();
    const ledger = new MemoryLedger(readers(7), quota({ perHour: 3 }, memoryBuckets(), () => w.time.now));
    const reports: SendReport[] = [];
    for (let run = 0; run < 5; run++) {
      const report = await sendIssue(JOB, w.context(ledger, `host:${run}`));
      reports.push(report);
      if (report.stopped !== 'quota') break;
      assert.ok(report.pausedUntil! > w.time.now);
      assert.equal(ledger.pausedUntil(ISSUE), report.pausedUntil);
      // Resumed early, the run sends nothing and pauses again until the same time.
      const early = await sendIssue(JOB, w.context(ledger, `early:${run}`));
      assert.equal(early.stopped, 'quota');
      assert.equal(early.counts.sent, report.counts.sent);
      w.time.now = report.pausedUntil!;
    }
    assert.deepEqual(reports.map((r) => [r.stopped ?? 'done', r.counts.sent, r.counts.queued]), [['quota', 3, 4], ['quota', 6, 1], ['done', 7, 0]]);
    assert.deepEqual([...ledger.rows.values()].map((r) => r.status), Array(7).fill('sent'));
    assert.equal(w.sent.length, 7, 'nobody twice');
    assert.ok(busiestWindow(w.sent.map((s) => s.at), HOUR) <= 3);
  });
});

describe('issue send --retry (the ledger side)', () => {
  it('queues again only the failed readers still active, and a second retry after they were sent finds nobody', async () => {
    const w = world();
    const people = readers(4);
    const ledger = new MemoryLedger(people);
    let failing = new Set(['r2@example.com', 'r3@example.com']);
    const transport: Transport = {
      async send(_raw, { to }) {
        await Promise.resolve();
        if (failing.has(to)) throw Object.assign(new Error('451'), { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451, response: '451 Try again later' });
        w.sent.push({ to, at: w.time.now });
      },
      close() {},
    };
    const first = await sendIssue(JOB, { ...w.context(ledger, 'host:1', { maxAttempts: 1 }), transport });
    assert.equal(first.counts.failed, 2);
    people[2]!.status = 'unsubscribed'; // r3 left since
    failing = new Set();
    const retry = await sendIssue({ ...JOB, retry: 'failed' }, { ...w.context(ledger, 'host:2', { maxAttempts: 1 }), transport });
    assert.equal(retry.queuedNow, 1);
    assert.deepEqual(w.sent.map((s) => s.to).sort(), ['r1@example.com', 'r2@example.com', 'r4@example.com']);
    const again = await sendIssue({ ...JOB, retry: 'failed' }, { ...w.context(ledger, 'host:3'), transport });
    assert.equal(again.queuedNow, 0);
    assert.equal(w.sent.length, 3);
  });
});

describe('two senders on one SQLite file share the quota', () => {
  it('two issues sent at once by two connections never pass the limit together, and each pauses with its rest queued', async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-quota-')), 'almanac.db');
    const w = world();
    const clock = () => w.time.now;
    const dbs = [openDatabase(file), openDatabase(file)];
    try {
      const insert = dbs[0]!.prepare(`INSERT INTO subscribers (email, status, created_at, updated_at) VALUES (?, 'active', 0, 0)`);
      for (let i = 0; i < 10; i++) insert.run(`r${i}@example.com`);
      dbs[0]!.exec("INSERT INTO subscriber_editions (subscriber_id, edition) SELECT id, 'midweek' FROM subscribers UNION ALL SELECT id, 'sunday' FROM subscribers");
      const ledgers = dbs.map((db) => new SqliteLedger(db, { quota: sqliteQuota(db, { perMinute: 8 }, clock) }));
      // Both go on until the quota stops them, taking turns at every await.
      const reports = await Promise.all([
        sendIssue({ ...JOB, issueId: 'a' }, w.context(ledgers[0]!, 'host:1', { quotaWaitMs: 0 })),
        sendIssue({ ...JOB, issueId: 'b', edition: 'midweek' }, w.context(ledgers[1]!, 'host:2', { quotaWaitMs: 0 })),
      ]);
      assert.deepEqual(reports.map((r) => r.stopped), ['quota', 'quota']);
      assert.equal(reports[0]!.counts.sent + reports[1]!.counts.sent, 8, 'eight between them');
      assert.ok(reports[0]!.counts.sent > 0 && reports[1]!.counts.sent > 0, 'both sent some');
      assert.equal(w.sent.length, 8);
      assert.equal(reports[0]!.counts.queued + reports[1]!.counts.queued, 12);
      // A confirmation mail at the same moment is held back by the same quota.
      assert.equal(takeQuota(dbs[0]!, { perMinute: 8 }, w.time.now), reports[0]!.pausedUntil);
      assert.equal(ledgers[1]!.pausedUntil('b'), reports[1]!.pausedUntil);
    } finally {
      for (const db of dbs) db.close();
    }
  });
});

describe('confirmation mails under the quota', () => {
  it('a confirmation past the quota waits in its queue until the quota allows, without spending an attempt', async () => {
    const db = openDatabase(path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-quota-')), 'almanac.db'));
    const now = 10 * HOUR;
    const limits = { perHour: 2 };
    const queue = new ConfirmationQueue(db);
    for (let i = 0; i < 3; i++) queue.enqueue(i + 1, `c${i}@example.com`, now, 0);
    const sent: string[] = [];
    const worker = startConfirmationWorker({
      queue,
      transport: { send: async (_raw, { to }) => void sent.push(to), close() {} },
      compose: async () => ({ raw: Buffer.from('confirm'), from: 'almanac@example.org' }),
      clock: () => now,
      log: () => {},
      quota: () => takeQuota(db, limits, now),
      idleMs: 20,
    });
    try {
      await until(() => queue.nextAt() !== undefined && queue.nextAt()! > now, 5000);
    } finally {
      await worker.stop();
    }
    assert.equal(sent.length, 2);
    const waiting = db.prepare(`SELECT attempts, next_at FROM confirmations WHERE status = 'queued'`).all() as { attempts: number; next_at: number }[];
    assert.deepEqual(waiting, [{ attempts: 0, next_at: now + HOUR + MINUTE }]);
    db.close();
  });
});

describe('sending.limits in the configuration', () => {
  it('takes whole numbers of at least one, each optional, and refuses anything else naming the key', () => {
    assert.deepEqual(configSchema.parse({ sending: { limits: { perDay: 50000 } } }).sending.limits, { perDay: 50000 });
    assert.deepEqual(configSchema.parse({}).sending.limits, {});
    for (const limits of [{ perHour: 0 }, { perMinute: 1.5 }, { perweek: 3 }]) {
      const parsed = configSchema.safeParse({ sending: { limits } });
      assert.equal(parsed.success, false, JSON.stringify(limits));
      assert.deepEqual(parsed.error!.issues[0]!.path.slice(0, 2), ['sending', 'limits']);
    }
  });

  it('a run is paced at the lower of ratePerSecond and limits.perSecond, or at whichever is set', () => {
    const pace = (sending: object) => pacePerSecond(configSchema.parse({ sending }));
    assert.equal(pace({}), 0);
    assert.equal(pace({ ratePerSecond: 20 }), 20);
    assert.equal(pace({ limits: { perSecond: 14 } }), 14);
    assert.equal(pace({ ratePerSecond: 20, limits: { perSecond: 14 } }), 14);
    assert.equal(pace({ ratePerSecond: 5, limits: { perSecond: 14 } }), 5);
  });
});
