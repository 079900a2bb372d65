// The scheduler and a send paused by the sending quota: the slot is given up until the quota allows,
// no scheduler takes it before then, and one takes it after, however long past the catch-up window.
// Injected clock; the scheduler's own watchdog resumes the slot.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../src/content/config-schema.ts';
import { Scheduler, type SlotOutcome } from '../src/schedule/scheduler.ts';
import { openDatabase } from '../src/store/database.ts';
import { SqliteLedger } from '../src/store/ledger.ts';
import { SlotStore, slotKey } from '../src/store/slots.ts';
import { until } from './helpers/cli.ts';

const HOUR = 3600_000;
const SLOT = 'midweek@2026-04-15T07:00:00.000Z';

describe('scheduler: a send paused by the quota', () => {
  it('resumes the slot when the quota allows, not before, even past the catch-up window', async () => {
    const db = openDatabase(path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-schedule-quota-')), 'almanac.db'));
    let now = Date.parse('2026-04-15T07:30:00Z');
    const resumeAt = now + 3 * HOUR;
    const runs: number[] = [];
    const logs: string[] = [];
    const slots = new SlotStore(db);
    const s = new Scheduler({
      config: configSchema.parse({}),
      slots,
      runner: {
        run: async (): Promise<SlotOutcome> => {
          runs.push(now);
          return runs.length === 1
            ? { state: 'interrupted', issueId: '2026-04-15-midweek', detail: '3 sent, 4 still queued (paused)', resumeAt }
            : { state: 'done', issueId: '2026-04-15-midweek', detail: '7 sent' };
        },
      },
      cron: { schedule: () => ({ stop() {} }) },
      clock: () => now,
      log: (l) => logs.push(l),
      holder: 'test:1',
      holderAlive: () => true,
      catchUpMs: HOUR,
      leaseMs: 400,
    });
    try {
      await s.start();
      await s.idle();
      assert.equal(runs.length, 1);
      const paused = slots.get(SLOT)!;
      assert.deepEqual([paused.state, paused.leaseUntil, paused.holder, paused.issueId], ['running', resumeAt, null, '2026-04-15-midweek']);
      assert.ok(logs.some((l) => /paused .* it resumes at 2026-04-15T10:30:00.000Z/.test(l)), logs.join('\n'));
      now = resumeAt - 1;
      assert.deepEqual(slots.stalled(now), [], 'nobody takes it before the quota allows');
      now = resumeAt + 1; // three hours after the slot: past the one-hour catch-up window
      await until(() => runs.length === 2, 10_000);
      await s.idle();
      assert.equal(slots.get(SLOT)!.state, 'done');
    } finally {
      await s.stop();
      db.close();
    }
  });

  it('goes on with an issue sent by hand once the quota allows it, and leaves alone one whose slot it runs', async () => {
    const db = openDatabase(path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-schedule-quota-')), 'almanac.db'));
    let now = Date.parse('2026-04-16T12:00:00Z'); // no slot due: nothing else runs
    const insert = db.prepare(`INSERT INTO subscribers (email, status, created_at, updated_at) VALUES (?, 'active', 0, 0)`);
    for (let i = 0; i < 3; i++) insert.run(`r${i}@example.com`);
    db.exec("INSERT INTO subscriber_editions (subscriber_id, edition) SELECT id, 'midweek' FROM subscribers");
    const ledger = new SqliteLedger(db);
    // `issue send` by hand, paused by the quota for an hour with every row still queued.
    const lock = ledger.acquire('2026-04-15-midweek', 'cli:1', now, 60_000);
    assert.ok(lock.ok);
    ledger.enqueue('2026-04-15-midweek', 'midweek', now);
    ledger.pause(lock.lease, now + HOUR);
    ledger.release(lock.lease);
    const resumed: string[] = [];
    const s = new Scheduler({
      config: configSchema.parse({}),
      slots: new SlotStore(db),
      runner: {
        run: async (): Promise<SlotOutcome> => ({ state: 'done', issueId: null, detail: 'ok' }),
        resume: async (id): Promise<SlotOutcome> => (resumed.push(id), { state: 'done', issueId: id, detail: '3 sent' }),
      },
      cron: { schedule: () => ({ stop() {} }) },
      clock: () => now,
      log: () => {},
      holder: 'test:1',
      holderAlive: () => true,
      pausedByHand: (at) => ledger.pausedByHand(at),
      catchUpMs: 0,
      leaseMs: 400,
    });
    try {
      await s.start();
      assert.deepEqual(ledger.pausedByHand(now + HOUR - 1), [], 'not before the quota allows');
      now += HOUR;
      await until(() => resumed.length === 1, 10_000);
      await s.idle();
      assert.deepEqual(resumed, ['2026-04-15-midweek']);
    } finally {
      await s.stop();
    }
    // A scheduled issue's pause is its slot's to resume.
    // (A slot of its own: the scheduler recorded the 15th's as missed when it started.)
    const slots = new SlotStore(db);
    const at = Date.parse('2026-04-22T07:00:00Z');
    assert.equal(slots.claim('midweek', at, 'test:1', now, 1, () => true), 'claimed');
    slots.pause(slotKey('midweek', at), 'test:1', now + HOUR, '2026-04-15-midweek', 'paused', now);
    assert.deepEqual(ledger.pausedByHand(now + 2 * HOUR), []);
    db.close();
  });
});
