// The scheduler: slot maths across DST with an injected clock, missed slots inside and outside the
// catch-up window, and real runs — `almanac schedule` processes against a real SMTP server, alone,
// two at once, and with the lease holder killed mid-send.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../src/content/config-schema.ts';
import { Scheduler, type SlotOutcome } from '../src/schedule/scheduler.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SlotStore, slotKey } from '../src/store/slots.ts';
import { BIN, PROJECT, tempSite, writeFiles, until } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { smtpSink } from './helpers/smtp.ts';

const SECRET = 'schedule-secret-0123456789abcdef';
const noCron = { schedule: () => ({ stop() {} }) };

function scheduler(root: string, config: object, now: number, ran: string[]) {
  const db = openDatabase(databasePath(root));
  const logs: string[] = [];
  const s = new Scheduler({
    config: configSchema.parse(config),
    slots: new SlotStore(db),
    runner: {
      run: async (edition, at): Promise<SlotOutcome> => {
        ran.push(slotKey(edition, at));
        return { state: 'done', issueId: null, detail: 'ok' };
      },
    },
    cron: noCron,
    clock: () => now,
    log: (l) => logs.push(l),
    holder: 'test:1',
    holderAlive: () => true,
    catchUpMs: 6 * 3600_000,
    leaseMs: 60_000,
  });
  return { s, db, logs };
}

describe('scheduler', () => {
  it('next runs across DST in Europe/Berlin and America/New_York', async () => {
    const root = await tempSite();
    const berlin = scheduler(root, { timezone: 'Europe/Berlin' }, Date.parse('2026-03-28T12:00:00Z'), []);
    assert.deepEqual(berlin.s.nextRuns().map((r) => [r.edition, new Date(r.at).toISOString()]), [
      ['sunday', '2026-03-29T06:00:00.000Z'],
      ['midweek', '2026-04-01T05:00:00.000Z'],
    ]);
    berlin.db.close();
    const ny = scheduler(root, { timezone: 'America/New_York' }, Date.parse('2026-10-31T12:00:00Z'), []);
    assert.deepEqual(ny.s.nextRuns(2).map((r) => new Date(r.at).toISOString()), [
      '2026-11-01T13:00:00.000Z',
      '2026-11-04T12:00:00.000Z',
      '2026-11-08T13:00:00.000Z',
      '2026-11-11T12:00:00.000Z',
    ]);
    ny.db.close();
  });

  it('a missed slot within catchUpHours is sent at start; an older one is logged and recorded as skipped', async () => {
    const root = await tempSite();
    const ran: string[] = [];
    // Wednesday 09:00 UTC: Midweek 07:00 was two hours ago; Sunday 08:00 was three days ago.
    const { s, db, logs } = scheduler(root, {}, Date.parse('2026-04-15T09:00:00Z'), ran);
    await s.start();
    await s.idle();
    await s.stop();
    assert.deepEqual(ran, ['midweek@2026-04-15T07:00:00.000Z']);
    assert.ok(logs.some((l) => /Midweek 2026-04-15 was missed; catching up/.test(l)));
    assert.ok(logs.some((l) => /Sunday 2026-04-12 was missed by more than 6 h: skipped/.test(l)));
    const slots = new SlotStore(db);
    assert.equal(slots.get('midweek@2026-04-15T07:00:00.000Z')!.state, 'done');
    assert.equal(slots.get('sunday@2026-04-12T08:00:00.000Z')!.state, 'skipped');
    db.close();

    // Restarted later the same day: the slot is done, nothing runs twice.
    const again: string[] = [];
    const second = scheduler(root, {}, Date.parse('2026-04-15T10:00:00Z'), again);
    await second.s.start();
    await second.s.idle();
    await second.s.stop();
    assert.deepEqual(again, []);
    second.db.close();
  });

  it('stop() returns within its bound even when a slot run never ends, and the slot stays open to resume', async () => {
    const root = await tempSite();
    const db = openDatabase(databasePath(root));
    const logs: string[] = [];
    let started = false;
    const s = new Scheduler({
      config: configSchema.parse({}),
      slots: new SlotStore(db),
      // A run stuck for good (a build or a send that ignores the stop): only the bound ends the wait.
      runner: { run: () => ((started = true), new Promise<SlotOutcome>(() => {})) },
      cron: noCron,
      clock: () => Date.parse('2026-04-15T09:00:00Z'),
      log: (l) => logs.push(l),
      holder: 'test:1',
      holderAlive: () => true,
      catchUpMs: 6 * 3600_000,
      leaseMs: 60_000,
      stopMs: 100,
    });
    await s.start();
    await until(() => started, 5000);
    const t0 = Date.now();
    const inTime = await Promise.race([s.stop(), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5000).unref())]);
    assert.equal(inTime, false, 'stop() reports the run it left behind');
    assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    assert.ok(logs.some((l) => /1 slot run\(s\) still busy after 100 ms; leaving them to resume/.test(l)));
    assert.equal(new SlotStore(db).get('midweek@2026-04-15T07:00:00.000Z')!.state, 'running');
    db.close();
  });
});

/**
 * A site whose Midweek goes out `inMs` from now, to the second (a six-field cron, in UTC), with fresh
 * news. A slot a moment ago is one the scheduler missed while it was not running: it catches it up as
 * soon as it starts, so a test of what happens during a send need not wait for the clock.
 */
async function siteWithMidweekIn(inMs: number, subscribers: number, extra: object = {}): Promise<{ root: string; fireAt: number }> {
  const root = await tempSite({ sample: true });
  const fireAt = Math.ceil((Date.now() + inMs) / 1000) * 1000;
  const t = new Date(fireAt);
  const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({
      ...config,
      // The sample's feeds are on the internet, which tests never reach.
      sources: [],
      catchUpHours: 0.5,
      leaseSeconds: 2,
      editions: {
        midweek: { label: 'Midweek', cron: `${t.getUTCSeconds()} ${t.getUTCMinutes()} ${t.getUTCHours()} * * *`, maxItems: 12 },
        sunday: { label: 'Sunday', cron: '0 8 1 1 *', maxItems: 20 },
      },
      ...extra,
    }),
    'content/news/today/fresh.md': `---\ntitle: A story from this morning\nurl: https://news.example.com/fresh\nsource: Example Wire\npublished: ${new Date(fireAt - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')}\nscore: 8\n---\nSomething happened an hour before the issue.\n`,
    'list.csv': ['email,editions', ...Array.from({ length: subscribers }, (_, i) => `reader${i}@example.com,midweek`)].join('\n'),
  });
  assert.equal((await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
  return { root, fireAt };
}

function startScheduler(root: string, smtpUrl: string): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'schedule', '--root', root], { env: { ...process.env, SMTP_URL: smtpUrl, ALMANAC_SECRET: SECRET } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out, exit: new Promise((resolve) => child.on('close', resolve)) };
}


const countBy = (xs: { to: string }[]) => xs.reduce((m, { to }) => m.set(to, (m.get(to) ?? 0) + 1), new Map<string, number>());

describe('almanac schedule', () => {
  it('builds and sends the edition at its cron, then stops cleanly on SIGTERM; status reports it', async () => {
    // Late enough for the scheduler to be up and waiting when the cron fires.
    const { root } = await siteWithMidweekIn(3000, 5);
    const sink = await smtpSink();
    const s = startScheduler(root, sink.url);
    try {
      await until(() => /next Midweek: /.test(s.out()));
      await until(() => sink.messages.length >= 5);
      await until(() => /Midweek #1: 5 sent/.test(s.out()));
      s.child.kill('SIGTERM');
      assert.equal(await s.exit, 0);
      assert.match(s.out(), /stopped\n$/);
      assert.equal(countBy(sink.messages).size, 5);
      const status = await almanac(['status', '--root', root]);
      assert.match(status.stdout, /Midweek: next /);
      assert.match(status.stdout, /last .*: done — Midweek #1: 5 sent/);
      assert.match(status.stdout, /-midweek: 5 sent, 0 queued/);
    } finally {
      s.child.kill('SIGKILL');
      await sink.close();
    }
  });

  it('two schedulers at once send each subscriber one copy', async () => {
    const { root } = await siteWithMidweekIn(-1000, 12);
    const sink = await smtpSink({ delayMs: 20 });
    const a = startScheduler(root, sink.url);
    const b = startScheduler(root, sink.url);
    try {
      await until(() => sink.messages.length >= 12);
      await until(() => /Midweek #1: 12 sent/.test(a.out() + b.out()));
      // Count once both have stopped: neither can send anything more.
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([a.exit, b.exit]);
      const counts = countBy(sink.messages);
      assert.equal(counts.size, 12);
      assert.ok([...counts.values()].every((n) => n === 1), 'one copy each');
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([a.exit, b.exit]);
      await sink.close();
    }
  });

  it('when the lease holder is killed mid-send, the other scheduler finishes the slot', async () => {
    const { root } = await siteWithMidweekIn(-1000, 30);
    const sink = await smtpSink({ delayMs: 80 });
    const a = startScheduler(root, sink.url);
    const b = startScheduler(root, sink.url);
    try {
      await until(() => sink.messages.length >= 5);
      const holder = /building and sending/.test(a.out()) ? a : b;
      const other = holder === a ? b : a;
      holder.child.kill('SIGKILL');
      await until(() => countBy(sink.messages).size >= 30, 40_000).catch((err) => {
        throw new Error(`${err.message}: ${countBy(sink.messages).size} received\n--- survivor ---\n${other.out()}\n--- killed ---\n${holder.out()}`);
      });
      await until(() => /Midweek #1: 30 sent/.test(other.out()), 40_000);
      const duplicates = [...countBy(sink.messages).values()].reduce((n, c) => n + c - 1, 0);
      assert.ok(duplicates <= 5, `at most one per connection: ${duplicates}`);
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([a.exit, b.exit]);
      await sink.close();
    }
  });

  it('an empty window logs "nothing to send" and sends nothing', async () => {
    const { root } = await siteWithMidweekIn(-1000, 3);
    await (await import('node:fs/promises')).rm(path.join(root, 'content/news/today'), { recursive: true });
    const sink = await smtpSink();
    const s = startScheduler(root, sink.url);
    try {
      await until(() => /Midweek \d{4}-\d{2}-\d{2}: nothing to send/.test(s.out()));
      assert.equal(sink.messages.length, 0);
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
      await sink.close();
    }
  });

  it('--list prints the next runs without needing a secret', async () => {
    const root = await tempSite();
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    const run = await almanac(['schedule', '--list', '--root', root], { env: { ALMANAC_SECRET: '' } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Midweek \(0 7 \* \* 3, UTC\): Wed .* 07:00 UTC · /m);
    assert.match(run.stdout, /^Sunday \(0 8 \* \* 0, UTC\): Sun .* 08:00 UTC · /m);
    void os;
  });
});
