// The pool of Pagefind processes that indexes the search shards: at most its size at once, one job per
// process, jobs in the order given, every process stopped when the last job of the moment ends. The
// processes here are stand-ins that record what they are asked; pagefind-pool.test.ts runs real ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PagefindPool, type PagefindApi } from '../src/site/pagefind-pool.ts';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Stand-in processes: which slots were started and closed, and which jobs ran on which slot at once. */
function stand(): { start: (slot: number) => Promise<PagefindApi>; started: number[]; closed: number[] } {
  const started: number[] = [];
  const closed: number[] = [];
  return {
    started,
    closed,
    start: async (slot) => {
      started.push(slot);
      return {
        slot,
        createIndex: () => Promise.reject(new Error('not used')),
        close: async () => void closed.push(slot),
      } as unknown as PagefindApi;
    },
  };
}

const slotOf = (api: PagefindApi) => (api as unknown as { slot: number }).slot;

describe('the Pagefind pool', () => {
  it('runs two jobs at once on two processes, the others in the order given as each ends, then stops both', async () => {
    const processes = stand();
    const pool = new PagefindPool(2, processes.start);
    const gates = Array.from({ length: 5 }, deferred);
    const began: { job: number; slot: number }[] = [];
    let running = 0;
    let most = 0;
    const jobs = gates.map((gate, job) =>
      pool.run(async (api) => {
        running++;
        most = Math.max(most, running);
        began.push({ job, slot: slotOf(api) });
        await gate.promise;
        running--;
        return job;
      }),
    );
    // Let the first two start; the third waits for a free process.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(began, [
      { job: 0, slot: 0 },
      { job: 1, slot: 1 },
    ]);
    gates[1]!.resolve();
    await jobs[1];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(began.at(-1), { job: 2, slot: 1 }, 'the next job in order, on the process just freed');
    for (const gate of gates) gate.resolve();
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2, 3, 4]);
    assert.equal(most, 2);
    assert.deepEqual(began.map((b) => b.job), [0, 1, 2, 3, 4]);
    assert.deepEqual(processes.started, [0, 1], 'each process started once');
    assert.deepEqual(processes.closed.sort(), [0, 1], 'both stopped when the last job ended');
  });

  it('a lone job starts one process only; after the processes stop, the next job starts one again', async () => {
    const processes = stand();
    const pool = new PagefindPool(2, processes.start);
    assert.equal(await pool.run(async (api) => slotOf(api)), 0);
    assert.deepEqual(processes.started, [0]);
    assert.deepEqual(processes.closed, [0]);
    await pool.run(async () => undefined);
    assert.deepEqual(processes.started, [0, 0]);
  });

  it('warm loads every slot before any job, and the jobs then use what it loaded', async () => {
    const processes = stand();
    const pool = new PagefindPool(2, processes.start);
    pool.warm();
    assert.deepEqual(processes.started, [0, 1]);
    pool.warm();
    const both = await Promise.all([pool.run(async (api) => slotOf(api)), pool.run(async (api) => slotOf(api))]);
    assert.deepEqual(both.sort(), [0, 1]);
    assert.deepEqual(processes.started, [0, 1], 'loaded once each');
    assert.deepEqual(processes.closed.sort(), [0, 1]);
  });

  it('a failed job frees its process for the next one, and its failure reaches its caller only', async () => {
    const processes = stand();
    const pool = new PagefindPool(1, processes.start);
    const failing = pool.run(async () => {
      throw new Error('index failed');
    });
    const next = pool.run(async (api) => slotOf(api));
    await assert.rejects(failing, /index failed/);
    assert.equal(await next, 0);
    assert.deepEqual(processes.closed, [0]);
  });

  it('a job given up while it waits never starts, and the one behind it takes its place', async () => {
    const processes = stand();
    const pool = new PagefindPool(1, processes.start);
    const gate = deferred();
    const ran: string[] = [];
    const first = pool.run(async () => {
      ran.push('first');
      await gate.promise;
    });
    const build = new AbortController();
    const givenUp = pool.run(async () => void ran.push('given up'), build.signal);
    const last = pool.run(async () => void ran.push('last'));
    build.abort(new Error('the build failed'));
    await assert.rejects(givenUp, /the build failed/);
    gate.resolve();
    await Promise.all([first, last]);
    assert.deepEqual(ran, ['first', 'last']);
    // One given up before it was given never starts either.
    await assert.rejects(pool.run(async () => void ran.push('too late'), build.signal), /the build failed/);
    assert.deepEqual(ran, ['first', 'last']);
  });
});
