// The scheduler's polling of the bounces.imap mailbox: one poll at start, then one every interval
// (counted from the start of the previous one). A poll is never started while another runs; a poll
// that fails is logged and the next interval tries again; a poll that outlasts its deadline is
// aborted. stop() aborts the poll in flight and returns within its bound even if the server hangs.
import type { Config, ImapConfig } from '../content/config-schema.ts';
import { bounceRecorder, countsLine, emptyCounts, entryLine } from '../mail/bounce-intake.ts';
import { pollMailbox } from '../mail/imap-intake.ts';
import type { Db } from '../store/database.ts';

/** setTimeout and clearTimeout, or a test's own. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BouncePollingDeps {
  /** One poll; what it resolves to is logged. */
  poll: (signal: AbortSignal) => Promise<string>;
  intervalMs: number;
  /** A poll still running after this long is aborted (default: the interval). */
  deadlineMs?: number;
  /** How long stop() waits for the poll in flight once aborted. */
  stopMs: number;
  clock: () => number;
  log: (line: string) => void;
  timers?: Timers;
}

export class BouncePolling {
  private readonly timers: Timers;
  private next: unknown;
  private current?: Promise<void>;
  private controller?: AbortController;
  private stopped = false;

  constructor(private readonly d: BouncePollingDeps) {
    this.timers = d.timers ?? realTimers;
  }

  start(): void {
    this.next = this.timers.set(() => this.run(), 0);
  }

  /** Whether a poll is running now. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Aborts the poll in flight; resolves whether it ended within `stopMs`. No poll starts after. */
  async stop(): Promise<boolean> {
    this.stopped = true;
    this.timers.clear(this.next);
    this.controller?.abort();
    if (!this.current) return true;
    let timer: unknown;
    const inTime = await Promise.race([
      this.current.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = this.timers.set(() => resolve(false), this.d.stopMs);
      }),
    ]);
    this.timers.clear(timer);
    if (!inTime) this.d.log(`bounces: the IMAP poll in flight did not end within ${this.d.stopMs} ms; leaving it`);
    return inTime;
  }

  private run(): void {
    if (this.stopped || this.current) return;
    const startedAt = this.d.clock();
    const controller = new AbortController();
    this.controller = controller;
    const minutes = Math.round((this.d.intervalMs / 60_000) * 10) / 10;
    const deadlineMs = this.d.deadlineMs ?? this.d.intervalMs;
    // The reason is what the log says the poll ended with.
    const deadline = this.timers.set(() => controller.abort(`no end within ${Math.round((deadlineMs / 60_000) * 10) / 10} min`), deadlineMs);
    this.current = this.d
      .poll(controller.signal)
      .then(
        (summary) => this.d.log(summary),
        (err: Error) => this.d.log(`bounces: the IMAP poll failed: ${err.message.split('\n')[0]}; trying again in ${minutes} min`),
      )
      .finally(() => {
        this.timers.clear(deadline);
        this.current = undefined;
        if (!this.stopped) this.next = this.timers.set(() => this.run(), Math.max(0, startedAt + this.d.intervalMs - this.d.clock()));
      });
  }
}

/** The poll `schedule` runs: the bounces.imap mailbox through the store's intake, each message logged. */
export function imapBouncePoll(
  db: Db,
  config: Config & { bounces: { imap: ImapConfig } },
  secret: string,
  password: string,
  clock: () => number,
  log: (line: string) => void,
): (signal: AbortSignal) => Promise<string> {
  const record = bounceRecorder(db, config.bounces, secret, clock);
  return async (signal) => {
    const counts = emptyCounts();
    const result = await pollMailbox({
      imap: config.bounces.imap,
      password,
      signal,
      handle: async (m) => {
        const entry = await record(m);
        counts[entry.kind]++;
        log(`bounces: ${entryLine(entry)}`);
        return entry;
      },
    });
    const failed = result.messages.filter((m) => 'error' in m);
    for (const m of failed) log(`bounces: ${m.source} not recorded (${'error' in m ? m.error : ''}); it is tried again on the next poll`);
    const waiting = result.waiting ? `; ${result.waiting} more waiting for the next poll` : '';
    return `bounces: ${countsLine(counts)}${waiting}`;
  };
}
