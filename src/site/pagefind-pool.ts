// Pagefind's Node API runs its indexer in one child process per loaded copy of its module, and
// indexes one site at a time there. The same module file loaded under another URL is another copy,
// so another process: a pool of such copies indexes several shards at once, one job per process.
import childProcess, { type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type * as Pagefind from 'pagefind';

/** The part of Pagefind's Node API a job uses. */
export type PagefindApi = Pick<typeof Pagefind, 'createIndex' | 'close'>;

/** Loads the copy of Pagefind's module that runs the process of pool slot `slot`. */
export type StartPagefind = (slot: number) => Promise<PagefindApi>;

/** Slot 0 is the module as every other import sees it; each other slot is a copy of its own. */
export const loadPagefind: StartPagefind = (slot) =>
  slot === 0 ? import('pagefind') : (import(`${import.meta.resolve('pagefind')}?process=${slot}`) as Promise<PagefindApi>);

/**
 * Up to `size` Pagefind processes, each started on its first job. Jobs wait their turn in the order
 * they were given, so a caller that gives the largest first keeps both processes busy to the end. The
 * processes stop when the last job of the moment ends (tests and `preview` may run several builds).
 */
export class PagefindPool {
  private started: (Promise<PagefindApi> | undefined)[];
  /** Per slot, once its process runs: that process, and how it ended once it has. */
  private running: (Running | undefined)[];
  private readonly idle: number[];
  /** The copies of Pagefind whose process has ended. */
  private readonly dead = new Set<PagefindApi>();
  private readonly waiting: ((slot: number) => void)[] = [];
  private users = 0;

  constructor(
    readonly size: number,
    private readonly start: StartPagefind = loadPagefind,
    /** How long a job waits on a process that makes no progress before it stops it (see silenceOf). */
    private readonly quietMs = QUIET_MS,
  ) {
    this.started = new Array<Promise<PagefindApi> | undefined>(size).fill(undefined);
    this.running = new Array<Running | undefined>(size).fill(undefined);
    this.idle = Array.from({ length: size }, (_, slot) => slot);
  }

  /**
   * Runs `job` on a process of its own. Once `signal` aborts (the build it is part of has failed), a
   * job still waiting never starts, and a job running has its process stopped: what they would make
   * is no longer wanted, and a command that failed would otherwise wait for them before it exits.
   */
  async run<T>(job: (pagefind: PagefindApi) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.users++;
    try {
      const slot = await this.acquire(signal);
      try {
        signal?.throwIfAborted();
        const pagefind = await (this.started[slot] ??= this.start(slot));
        if (this.dead.has(pagefind)) await this.restart(slot, pagefind);
        signal?.throwIfAborted();
        // Pagefind's module never hears of its process ending: a request then waits for ever. So the
        // process (started by the first request of a slot) is watched, and its end fails the job.
        const { value, children } = spawnedBy(() => job(pagefind));
        for (const child of children) {
          quieten(child);
          const started: Running = { child, ended: endOf(child) };
          this.running[slot] ??= started;
          // A later job on this slot starts a new process rather than write to the dead one (see restart).
          // (One the pool stopped is forgotten already: the same copy starts a new process on its next job.)
          void started.ended.then(() => this.running[slot] === started && this.dead.add(pagefind));
        }
        const running = this.running[slot];
        if (!running) return await value;
        const died = running.ended.then((how) => Promise.reject(new Error(`the Pagefind process ${how}`)));
        died.catch(() => undefined);
        // Forgotten at once, before the slot is free: a job waiting for it starts a new process.
        const silent = silenceOf(running.child, this.quietMs, () => this.dead.add(pagefind));
        // SIGKILL: a paused process would hold SIGTERM until it is resumed.
        const stop = () => running.child.kill('SIGKILL');
        signal?.addEventListener('abort', stop, { once: true });
        try {
          return await Promise.race([value, died, silent.heard]);
        } finally {
          silent.stop();
          signal?.removeEventListener('abort', stop);
        }
      } finally {
        this.release(slot);
      }
    } finally {
      if (--this.users === 0) await this.closeAll();
    }
  }

  /** Forgets the ended process of `slot`: the copy of Pagefind closed, its next request starts a new one. */
  private async restart(slot: number, pagefind: PagefindApi): Promise<void> {
    this.dead.delete(pagefind);
    this.running[slot] = undefined;
    await pagefind.close();
  }

  /**
   * Loads every slot's copy of Pagefind's module now, before any job: loading a module takes many
   * turns of the event loop, which a build busy rendering pages turns seldom, so a pool loaded on its
   * first jobs would start indexing only once the pages were written.
   */
  warm(): void {
    for (let slot = 0; slot < this.size; slot++) (this.started[slot] ??= this.start(slot)).catch(() => undefined);
  }

  private acquire(signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    // The lowest free slot: a build with one shard to index starts one process only.
    this.idle.sort((a, b) => a - b);
    const slot = this.idle.shift();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve, reject) => {
      const take = (free: number) => {
        signal?.removeEventListener('abort', leave);
        resolve(free);
      };
      // A job given up while it waits leaves the queue: the jobs behind it move up.
      const leave = () => {
        const at = this.waiting.indexOf(take);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.waiting.push(take);
    });
  }

  private release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  private async closeAll(): Promise<void> {
    const started = this.started;
    this.started = new Array<Promise<PagefindApi> | undefined>(this.size).fill(undefined);
    this.running = new Array<Running | undefined>(this.size).fill(undefined);
    this.dead.clear();
    await Promise.all(
      started.map(async (loading) => {
        const pagefind = await loading?.catch(() => undefined);
        await pagefind?.close();
      }),
    );
  }
}

/**
 * Pagefind answers each record as it indexes it, and works (uses processor time) while it writes a
 * shard's files, which takes a large shard many seconds without a word. A process that does neither
 * for this long is paused or hung: without a limit the build would wait for it for ever.
 */
const QUIET_MS = 120_000;

/** The checks of progress within QUIET_MS; the process is stopped after this many in a row find none. */
const CHECKS = 4;

/** However busy it is, a process that answers nothing for this many limits in a row is stopped (spinning). */
const MOST_SILENT_LIMITS = 10;

/**
 * Fails (`heard` rejects) once `child` has made no progress, neither written anything nor (where
 * /proc tells) used processor time, at CHECKS checks in a row `ms / CHECKS` apart, or has written
 * nothing for MOST_SILENT_LIMITS times as long however busy (a loop that never ends), and kills it:
 * with SIGKILL, which a paused process cannot put off as it does SIGTERM. `stopping` is called first.
 * Checks are counted rather than time since the last progress: a build suspended with its Pagefind
 * (Ctrl-Z) and resumed has made one check meanwhile, not many. `stop` ends the watch.
 */
function silenceOf(child: ChildProcess, ms: number, stopping: () => void): { heard: Promise<never>; stop: () => void } {
  let heardFrom = false;
  const onData = () => (heardFrom = true);
  child.stdout?.on('data', onData);
  let worked = cpuTime(child.pid);
  const measured = worked !== undefined;
  let quiet = 0;
  let silent = 0;
  let timer: NodeJS.Timeout | undefined;
  let check: NodeJS.Immediate | undefined;
  const heard = new Promise<never>((_, reject) => {
    const wait = () =>
      (timer = setTimeout(() => {
        // Timers run before the event loop reads its pipes: after a long turn of other work the
        // process's answer may be waiting unread, so it is read (a turn of the loop) before judging.
        check = setImmediate(() => {
          const now = cpuTime(child.pid);
          quiet = heardFrom || (now !== undefined && now !== worked) ? 0 : quiet + 1;
          silent = heardFrom ? 0 : silent + 1;
          heardFrom = false;
          worked = now;
          if (quiet < CHECKS && silent < CHECKS * MOST_SILENT_LIMITS) return wait();
          stopping();
          child.kill('SIGKILL');
          reject(
            new Error(
              quiet >= CHECKS && measured
                ? `the Pagefind process made no progress for ${duration(ms)} (no answer, no work), and was stopped`
                : `the Pagefind process answered nothing for ${duration(quiet >= CHECKS ? ms : ms * MOST_SILENT_LIMITS)}, and was stopped`,
            ),
          );
        });
      }, ms / CHECKS));
    wait();
  });
  heard.catch(() => undefined);
  return {
    heard,
    stop: () => {
      clearTimeout(timer);
      if (check) clearImmediate(check);
      child.stdout?.off('data', onData);
    },
  };
}

/** The processor time `pid` has used so far (its threads' user and system clock ticks), where Linux's /proc tells. */
function cpuTime(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  try {
    // The fields after the command name, which is in parentheses and may hold spaces: state is the
    // first of them, utime and stime the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${fields[11]} ${fields[12]}`;
  } catch {
    return undefined;
  }
}

const duration = (ms: number) => (ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`);

/** A slot's process; `ended` settles with how it ended (see endOf). */
interface Running {
  child: ChildProcess;
  ended: Promise<string>;
}

/** What `start` returns, and the child processes it spawned before it returned. */
function spawnedBy<T>(start: () => T): { value: T; children: ChildProcess[] } {
  const spawn = childProcess.spawn;
  const children: ChildProcess[] = [];
  childProcess.spawn = ((...args: Parameters<typeof spawn>) => {
    const child = (spawn as (...a: Parameters<typeof spawn>) => ChildProcess)(...args);
    stopOnRefusedWrite(child);
    children.push(child);
    return child;
  }) as typeof spawn;
  try {
    return { value: start(), children };
  } finally {
    childProcess.spawn = spawn;
  }
}

/**
 * Pagefind's module prints a stack trace for each request whose write its process's pipe refuses,
 * and for the process's own failure: a process that dies while a shard's records are being sent
 * filled the terminal with thousands of them. The pool reports that end once, from the process's
 * exit (see endOf). So a refused write is dropped, and stops the process if it still runs: made
 * before Pagefind's first write, when the process is spawned.
 */
function stopOnRefusedWrite(child: ChildProcess): void {
  const stdin = child.stdin;
  if (!stdin) return;
  const write = stdin.write.bind(stdin) as (chunk: unknown, encoding: BufferEncoding, done: (err?: Error | null) => void) => boolean;
  stdin.write = ((chunk: unknown, ...rest: unknown[]) => {
    const encoding = rest.find((arg): arg is BufferEncoding => typeof arg === 'string') ?? 'utf8';
    const done = rest.find((arg): arg is (err?: Error | null) => void => typeof arg === 'function');
    return write(chunk, encoding, (err) => (err ? stopChild(child) : done?.(err)));
  }) as typeof stdin.write;
}

/** Then Pagefind's own handlers of the process's and the pipe's errors (which print them) are replaced. */
function quieten(child: ChildProcess): void {
  child.removeAllListeners('error');
  child.on('error', () => undefined);
  child.stdin?.removeAllListeners('error');
  child.stdin?.on('error', () => stopChild(child));
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill();
}

/** Settles with how `child` ended, once it has. */
function endOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `was stopped by ${signal}` : `ended with exit code ${code}`));
    child.once('error', (err) => resolve(`could not run: ${err.message}`));
  });
}
