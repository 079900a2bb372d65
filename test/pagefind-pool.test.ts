// The pool of Pagefind processes with real Pagefind: the second slot loads a copy of Pagefind's module
// of its own, and so runs a process of its own, seen in /proc while two jobs index at once.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { loadPagefind, PagefindPool, type PagefindApi } from '../src/site/pagefind-pool.ts';
import { until } from './helpers/cli.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the Pagefind pool with real Pagefind', () => {
  it('fails a job whose Pagefind process dies before it answers, instead of waiting for ever', async () => {
    // One that reads a request and dies.
    const restore = fakePagefind('head -c 1 >/dev/null\nexit 3');
    const pool = new PagefindPool(1, () => import(`${import.meta.resolve('pagefind')}?dying`) as Promise<PagefindApi>);
    try {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still waiting after 10 s'), 10_000)));
      const outcome = await Promise.race([
        pool.run((pagefind) => pagefind.createIndex({})).then(
          () => 'indexed',
          (err: Error) => err.message,
        ),
        deadline,
      ]);
      clearTimeout(timer);
      assert.equal(outcome, 'the Pagefind process ended with exit code 3');
    } finally {
      restore();
    }
    // The next build (serve and preview build again in the same process) starts a new process.
    const again = await pool.run((pagefind) => indexOne(pagefind, '/a', 'again'));
    assert.ok(again > 0);
  });

  it('reports a process that died while records were being sent once, without a stack trace per request', async () => {
    // Pagefind's module prints a stack trace for each request its dead process's pipe refuses: a
    // build sending thousands of records printed thousands of them.
    // Reads the first request, then stops reading while it still runs: every later write is refused,
    // and the pool hears of no end until it stops the process itself. (A process that simply exited
    // could be seen gone by the pool before the requests below were sent, and the pool would then have
    // closed Pagefind's module, which starts a process of its own for a request after that.)
    const restore = fakePagefind('head -c 1 >/dev/null\nexec 0<&-\nwhile :; do sleep 1; done');
    const printed = mock.method(console, 'error', () => undefined);
    const pool = new PagefindPool(1, () => import(`${import.meta.resolve('pagefind')}?dies-while-sent`) as Promise<PagefindApi>);
    try {
      let sent!: () => void;
      const allSent = new Promise<void>((resolve) => (sent = resolve));
      const outcome = pool.run(async (pagefind) => {
        const first = pagefind.createIndex({});
        first.catch(() => undefined);
        await until(() => {
          const [pid] = pagefindChildren();
          return pid !== undefined && !existsSync(`/proc/${pid}/fd/0`);
        }, 10_000);
        // Requests sent once the process reads no more, as the records of a shard are.
        const late = Array.from({ length: 20 }, () => pagefind.createIndex({}));
        for (const request of late) request.catch(() => undefined);
        // A refused write is told on the next tick.
        await new Promise((resolve) => setImmediate(resolve));
        sent();
        await Promise.all([first, ...late]);
      });
      assert.equal(await outcome.then(() => 'indexed', (err: Error) => err.message), 'the Pagefind process was stopped by SIGTERM');
      await allSent;
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(printed.mock.calls.map((c) => String(c.arguments[0])), []);
    } finally {
      printed.mock.restore();
      restore();
    }
  });

  it('stops the process of a job given up, at once, and starts a new one for the next job', async () => {
    const pool = new PagefindPool(1);
    const build = new AbortController();
    // Pagefind's process keeps the event loop turning only while a request is out: this test has none
    // out while the first job hangs.
    const alive = setInterval(() => undefined, 1_000);
    after(() => clearInterval(alive));
    let indexing!: () => void;
    const started = new Promise<void>((resolve) => (indexing = resolve));
    // A job that would go on for ever: its process is stopped, and the job fails.
    const givenUp = pool.run(async (pagefind) => {
      const { index } = await pagefind.createIndex({});
      await index!.addCustomRecord({ url: '/a', content: 'given up', language: 'en' });
      indexing();
      await new Promise(() => undefined);
    }, build.signal);
    // Queued behind it, from another build: it runs on a new process.
    const next = pool.run((pagefind) => indexOne(pagefind, '/b', 'next'));
    await started;
    build.abort(new Error('the build failed'));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running after 10 s'), 10_000)));
    const outcome = await Promise.race([givenUp.then(() => 'indexed', (err: Error) => err.message), deadline]);
    clearTimeout(timer);
    assert.equal(outcome, 'the Pagefind process was stopped by SIGKILL');
    assert.ok((await next) > 0);
    await until(() => pagefindChildren().length === 0, 5_000);
    clearInterval(alive);
  });

  it('stops a Pagefind process that answers nothing (paused, say) and fails its job, instead of waiting for ever', async () => {
    const pool = new PagefindPool(1, () => import(`${import.meta.resolve('pagefind')}?paused`) as Promise<PagefindApi>, 300);
    const { job, pid } = pausingJob(pool);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still waiting after 10 s'), 10_000)));
    const outcome = await Promise.race([job.then(() => 'indexed', (err: Error) => err.message), deadline]);
    clearTimeout(timer);
    const paused = pid();
    if (outcome !== 'indexed' && paused !== undefined) process.kill(paused, 'SIGCONT');
    assert.equal(outcome, 'the Pagefind process made no progress for 300 ms (no answer, no work), and was stopped');
    await until(() => !pagefindChildren().includes(paused!), 5_000);
    // The next job starts a new process.
    const again = await pool.run((pagefind) => indexOne(pagefind, '/c', 'again'));
    assert.ok(again > 0);
  });

  it('stops a Pagefind process that is busy for ever without a word (a loop that never ends)', async () => {
    const restore = fakePagefind('exec sh -c "while :; do :; done"');
    const pool = new PagefindPool(1, () => import(`${import.meta.resolve('pagefind')}?spinning`) as Promise<PagefindApi>, 100);
    try {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still waiting after 10 s'), 10_000)));
      const outcome = await Promise.race([pool.run((pagefind) => pagefind.createIndex({})).then(() => 'indexed', (err: Error) => err.message), deadline]);
      clearTimeout(timer);
      assert.equal(outcome, 'the Pagefind process answered nothing for 1 s, and was stopped');
    } finally {
      restore();
      // Left spinning when the pool fails to stop it, which would keep this file's process alive.
      for (const pid of pagefindChildren('while :')) process.kill(pid, 'SIGKILL');
    }
  });

  it('a job waiting for the process stopped as hung gets a new process, not the one being killed', async () => {
    const pool = new PagefindPool(1, () => import(`${import.meta.resolve('pagefind')}?hung-then-next`) as Promise<PagefindApi>, 300);
    const { job: first } = pausingJob(pool);
    const next = pool.run((pagefind) => indexOne(pagefind, '/c', 'next'));
    const outcomes = await Promise.all([first.then(() => 'indexed', (err: Error) => err.message), next.then((n) => (n > 0 ? 'indexed' : 'empty'), (err: Error) => err.message)]);
    assert.deepEqual(outcomes, ['the Pagefind process made no progress for 300 ms (no answer, no work), and was stopped', 'indexed']);
  });

  it('keeps a process that works without a word for longer than the limit, or that was paused with the build and resumed', async () => {
    // Writing a large shard's files takes Pagefind many seconds without an answer; Ctrl-Z pauses the
    // build and its Pagefind alike, for as long as the user likes.
    const pool = new PagefindPool(1, () => import(`${import.meta.resolve('pagefind')}?working`) as Promise<PagefindApi>, 200);
    const words = Array.from({ length: 4000 }, (_, i) => `w${i.toString(36)}x${(i * 7919).toString(36)}`);
    const silentFor = await pool.run(async (pagefind) => {
      const { index } = await pagefind.createIndex({});
      await Promise.all(
        Array.from({ length: 1500 }, (_, i) =>
          index!.addCustomRecord({ url: `/g${i}`, content: Array.from({ length: 300 }, (_, j) => words[(i * 31 + j * 17) % words.length]).join(' '), language: 'en' }),
        ),
      );
      const pid = pagefindChildren().at(-1)!;
      const asked = performance.now();
      const writing = index!.getFiles();
      // Paused with the build: this thread does nothing for far longer than the limit meanwhile.
      process.kill(pid, 'SIGSTOP');
      const busyUntil = performance.now() + 1_000;
      while (performance.now() < busyUntil);
      process.kill(pid, 'SIGCONT');
      const files = await writing;
      await index!.deleteIndex();
      assert.ok(files.files.length > 0);
      return performance.now() - asked;
    });
    // Not a test of anything unless Pagefind was silent for several times the limit.
    assert.ok(silentFor > 1_000 + 2 * 200, `getFiles answered after ${silentFor.toFixed(0)} ms`);
  });

  it('keeps a process whose answer came while the build was busy for longer than the limit', async () => {
    // The build's thread renders pages between its turns of the event loop: the limit's timer and the
    // answer are then both due when it turns, and the timer is run first.
    const pool = new PagefindPool(1, () => import(`${import.meta.resolve('pagefind')}?busy`) as Promise<PagefindApi>, 300);
    const files = await pool.run(async (pagefind) => {
      const { index } = await pagefind.createIndex({});
      const added = index!.addCustomRecord({ url: '/a', content: 'answered while busy', language: 'en' });
      const busyUntil = performance.now() + 1_500;
      while (performance.now() < busyUntil);
      await added;
      const written = await index!.getFiles();
      await index!.deleteIndex();
      return written.files.length;
    });
    assert.ok(files > 0);
  });

  it('loads a copy of Pagefind of its own for the second process', async () => {
    const [first, second, again] = await Promise.all([loadPagefind(0), loadPagefind(1), loadPagefind(0)]);
    assert.equal(typeof second.createIndex, 'function');
    assert.notEqual(first, second, 'another module instance, so another service process');
    assert.equal(first, again);
  });

  it('indexes with two real Pagefind processes at once', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const pool = new PagefindPool(2);
    const bothIn = Array.from({ length: 2 }, deferred);
    const seen: number[][] = [];
    await Promise.all(
      bothIn.map((me, i) =>
        pool.run(async (pagefind) => {
          const { index } = await pagefind.createIndex({});
          assert.ok(index);
          await index.addCustomRecord({ url: `/${i}`, content: `record ${i}`, language: 'en' });
          me.resolve();
          await Promise.all(bothIn.map((d) => d.promise));
          seen.push(pagefindChildren());
          await index.deleteIndex();
        }),
      ),
    );
    assert.equal(seen[0]!.length, 2, `two Pagefind processes while both jobs ran: ${JSON.stringify(seen)}`);
    // Pagefind's close() sends the signal and returns: the processes end a moment later.
    await until(() => pagefindChildren().length === 0, 5_000);
  });
});

/** The child processes of this one that run Pagefind's binary. */
/**
 * Makes Pagefind's module run a shell script of `lines` as its binary (it runs the one this variable
 * names) until the function returned is called.
 */
/** A job that pauses its Pagefind process (SIGSTOP) once it has had one answer, then asks for another. */
function pausingJob(pool: PagefindPool): { job: Promise<void>; pid: () => number | undefined } {
  let paused: number | undefined;
  const job = pool.run(async (pagefind) => {
    const { index } = await pagefind.createIndex({});
    await index!.addCustomRecord({ url: '/a', content: 'first', language: 'en' });
    paused = pagefindChildren().at(-1)!;
    process.kill(paused, 'SIGSTOP');
    await index!.addCustomRecord({ url: '/b', content: 'never answered', language: 'en' });
  });
  return { job, pid: () => paused };
}

/** Indexes one record on `pagefind` and gives the number of files made. */
async function indexOne(pagefind: PagefindApi, url: string, content: string): Promise<number> {
  const { index } = await pagefind.createIndex({});
  await index!.addCustomRecord({ url, content, language: 'en' });
  const files = await index!.getFiles();
  await index!.deleteIndex();
  return files.files.length;
}

function fakePagefind(lines: string): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-pagefind-'));
  const binary = path.join(dir, 'pagefind');
  writeFileSync(binary, `#!/bin/sh\n${lines}\n`);
  chmodSync(binary, 0o755);
  const before = process.env.PAGEFIND_EXTENDED_BINARY_PATH;
  process.env.PAGEFIND_EXTENDED_BINARY_PATH = binary;
  return () => {
    if (before === undefined) delete process.env.PAGEFIND_EXTENDED_BINARY_PATH;
    else process.env.PAGEFIND_EXTENDED_BINARY_PATH = before;
  };
}

function pagefindChildren(named = 'pagefind'): number[] {
  const children = readdirSync(`/proc/${process.pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number),
  );
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(named);
    } catch {
      return false;
    }
  });
}
