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
import { SlotStore } from '../src/store/slots.ts';
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
});
