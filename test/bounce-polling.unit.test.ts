// The scheduler's polling of the bounce mailbox, driven by a scripted poller and timers the test
// moves forward: one poll at start and then every interval, never two at once, a failure logged and
// retried at the next interval, a hung poll aborted at its deadline, and stop() bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BouncePolling, type Timers } from '../src/schedule/bounce-polling.ts';

const MIN = 60_000;

/** Timers on a clock of the test's own: `advance` runs what falls due, in order. */
class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();

  set(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].fn();
    }
    this.now = end;
    await settle();
  }
}

/** Lets promise callbacks run (the poller's and the polling's). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A poller whose polls end when the test says, recording when each started and how many overlap. */
function scripted(timers: FakeTimers) {
  const starts: number[] = [];
  const open: { resolve: (s: string) => void; reject: (e: Error) => void; signal: AbortSignal }[] = [];
  let running = 0;
  let most = 0;
  const poll = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      starts.push(timers.now);
      running++;
      most = Math.max(most, running);
      open.push({ resolve, reject, signal });
    }).finally(() => running--);
  return { poll, starts, open, most: () => most };
}

function polling(timers: FakeTimers, poll: (signal: AbortSignal) => Promise<string>, logs: string[], more: { deadlineMs?: number } = {}) {
  return new BouncePolling({ poll, intervalMs: 5 * MIN, stopMs: 3000, clock: () => timers.now, log: (l) => logs.push(l), timers, ...more });
}

describe('bounce polling', () => {
  it('polls at start and then every interval, counted from the start of the previous poll', async () => {
    const timers = new FakeTimers();
    const p = scripted(timers);
    const logs: string[] = [];
    const polls = polling(timers, p.poll, logs);
    polls.start();
    await timers.advance(0);
    assert.deepEqual(p.starts, [0]);
    await timers.advance(MIN);
    p.open.shift()!.resolve('bounces: one'); // took a minute: the next is 4 minutes later
    await timers.advance(4 * MIN - 1);
    assert.deepEqual(p.starts, [0], 'not before the interval');
    await timers.advance(1);
    assert.deepEqual(p.starts, [0, 5 * MIN]);
    p.open.shift()!.resolve('bounces: two');
    await timers.advance(10 * MIN);
    assert.deepEqual(p.starts, [0, 5 * MIN, 10 * MIN]);
    assert.deepEqual(logs, ['bounces: one', 'bounces: two']);
    p.open.shift()!.resolve('bounces: three');
    assert.equal(await polls.stop(), true);
  });

  it('never two polls at once: a poll longer than the interval delays the next until it ends', async () => {
    const timers = new FakeTimers();
    const p = scripted(timers);
    const polls = polling(timers, p.poll, [], { deadlineMs: 60 * MIN });
    polls.start();
    await timers.advance(17 * MIN);
    assert.deepEqual(p.starts, [0], 'still the first poll, three intervals later');
    assert.ok(polls.busy);
    p.open.shift()!.resolve('done');
    await timers.advance(0);
    assert.deepEqual(p.starts, [0, 17 * MIN], 'the next at once, since its time has passed');
    assert.equal(p.most(), 1);
    p.open.shift()!.resolve('done');
    await polls.stop();
  });

  it('a failed poll is logged and tried again at the next interval', async () => {
    const timers = new FakeTimers();
    const p = scripted(timers);
    const logs: string[] = [];
    const polls = polling(timers, p.poll, logs);
    polls.start();
    await timers.advance(0);
    p.open.shift()!.reject(new Error('login refused: Login failed: authentication failure'));
    await timers.advance(0);
    assert.deepEqual(logs, ['bounces: the IMAP poll failed: login refused: Login failed: authentication failure; trying again in 5 min']);
    await timers.advance(5 * MIN);
    assert.deepEqual(p.starts, [0, 5 * MIN]);
    p.open.shift()!.resolve('ok');
    await polls.stop();
  });

  it('a poll that hangs is aborted at its deadline (the interval), so polling goes on', async () => {
    const timers = new FakeTimers();
    const p = scripted(timers);
    const logs: string[] = [];
    const polls = polling(timers, (signal) => {
      const run = p.poll(signal);
      signal.addEventListener('abort', () => p.open.at(-1)!.reject(new Error(String(signal.reason))));
      return run;
    }, logs);
    polls.start();
    await timers.advance(5 * MIN);
    assert.equal(p.open[0]!.signal.aborted, true);
    assert.match(logs[0]!, /^bounces: the IMAP poll failed: no end within 5 min; trying again in 5 min$/);
    assert.deepEqual(p.starts, [0, 5 * MIN]);
    await polls.stop();
  });

  it('stop() aborts the poll in flight and returns at once when it ends; no poll starts after', async () => {
    const timers = new FakeTimers();
    const p = scripted(timers);
    const polls = polling(timers, (signal) => {
      const run = p.poll(signal);
      signal.addEventListener('abort', () => p.open.at(-1)!.reject(new Error('stopped')));
      return run;
    }, []);
    polls.start();
    await timers.advance(0);
    assert.equal(await polls.stop(), true);
    await timers.advance(60 * MIN);
    assert.deepEqual(p.starts, [0]);
  });

  it('stop() is bounded when the poll in flight ignores the abort (a server that hangs)', async () => {
    const timers = new FakeTimers();
    const p = scripted(timers);
    const logs: string[] = [];
    const polls = polling(timers, p.poll, logs);
    polls.start();
    await timers.advance(0);
    let result: boolean | undefined;
    const stopping = polls.stop().then((r) => (result = r));
    await timers.advance(2999);
    assert.equal(result, undefined, 'waits for the poll up to stopMs');
    await timers.advance(1);
    await stopping;
    assert.equal(result, false);
    assert.match(logs.at(-1)!, /did not end within 3000 ms/);
    p.open.shift()!.resolve('late');
    await timers.advance(60 * MIN);
    assert.deepEqual(p.starts, [0], 'a late end does not start another poll');
  });

  it('stop() before the first poll starts none', async () => {
    const timers = new FakeTimers();
    const p = scripted(timers);
    const polls = polling(timers, p.poll, []);
    polls.start();
    assert.equal(await polls.stop(), true);
    await timers.advance(60 * MIN);
    assert.deepEqual(p.starts, []);
  });
});
