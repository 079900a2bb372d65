// The scheduler: each edition's cron (node-cron, in the site's time zone) triggers its slot; a slot is
// built and sent once, whatever happens:
//   - a slot lease in the database decides which scheduler runs it (two hosts sharing a database, or
//     two processes by mistake); a holder that dies loses the lease and another takes over;
//   - building is idempotent and sending is the ledger's exactly-once, so a taken-over slot resumes;
//   - at start, a slot missed while nothing ran is caught up if it is within `catchUpMs`, and
//     recorded as skipped otherwise.
import type { Config } from '../content/config-schema.ts';
import { editionConfig, editionNames, localDate, nextSlot, previousSlot, type Edition } from '../compose/slots.ts';
import { slotKey, type SlotStore } from '../store/slots.ts';

export type SlotOutcome =
  | { state: 'done' | 'empty'; issueId: string | null; detail: string }
  /**
   * Stopped before the end (shutdown, SMTP gone): the slot stays open for a later run. `resumeAt`:
   * paused by the sending quota, to go on at that time.
   */
  | { state: 'interrupted'; issueId: string | null; detail: string; resumeAt?: number };

export interface SlotRunner {
  run(edition: Edition, at: number, signal: AbortSignal): Promise<SlotOutcome>;
  /** Goes on with an issue sent by hand that the sending quota paused. */
  resume?(issueId: string, signal: AbortSignal): Promise<SlotOutcome>;
}

/** The part of node-cron the scheduler uses, so that tests can drive time themselves. */
export interface CronLike {
  schedule(expression: string, fn: () => void, options: { timezone: string; name: string }): { stop(): void | Promise<void> };
}

export interface SchedulerDeps {
  config: Config;
  slots: SlotStore;
  runner: SlotRunner;
  cron: CronLike;
  clock: () => number;
  log: (line: string) => void;
  holder: string;
  holderAlive: (holder: string) => boolean;
  /** Issues sent by hand that the sending quota paused and now allows (see Ledger.pausedByHand). */
  pausedByHand?: (now: number) => string[];
  catchUpMs: number;
  leaseMs: number;
  /**
   * How long stop() waits for the slot runs in flight. Their sends stop within the configured stop
   * deadline on their own; this bound (a little longer) only guards against anything else hanging,
   * so a service manager's stop timeout is never reached.
   */
  stopMs?: number;
}

export class Scheduler {
  private readonly controller = new AbortController();
  private readonly running = new Map<string, Promise<void>>();
  /** Each running slot's lease renewal: a run left behind at stop must not hold its slot. */
  private readonly renewals = new Set<NodeJS.Timeout>();
  private readonly tasks: { stop(): void | Promise<void> }[] = [];
  private watchdog?: NodeJS.Timeout;

  constructor(private readonly d: SchedulerDeps) {}

  /** Next run of each edition, for logs and `schedule --list`. */
  nextRuns(count = 1): { edition: Edition; at: number }[] {
    const out: { edition: Edition; at: number }[] = [];
    for (const edition of editionNames(this.d.config)) {
      let at = this.d.clock();
      for (let i = 0; i < count; i++) out.push({ edition, at: (at = nextSlot(this.d.config, edition, at)) });
    }
    return out.sort((a, b) => a.at - b.at);
  }

  async start(): Promise<void> {
    const { config, clock, log } = this.d;
    // Slots missed while nothing ran: the latest one of each edition, if still worth sending.
    for (const edition of editionNames(this.d.config)) {
      const at = previousSlot(config, edition, clock() + 1);
      const record = this.d.slots.get(slotKey(edition, at));
      if (record && record.state !== 'running') continue;
      if (clock() - at <= this.d.catchUpMs) {
        log(`${this.label(edition, at)} was missed; catching up (within ${this.hours()} h)`);
        this.trigger(edition, at);
      } else if (!record) {
        this.d.slots.skip(edition, at, `missed by more than ${this.hours()} h`, clock());
        log(`${this.label(edition, at)} was missed by more than ${this.hours()} h: skipped`);
      }
    }
    for (const edition of editionNames(this.d.config)) {
      this.tasks.push(
        this.d.cron.schedule(editionConfig(config, edition).cron, () => this.trigger(edition, previousSlot(config, edition, clock() + 1000)), {
          timezone: config.timezone,
          name: edition,
        }),
      );
    }
    // Slots another scheduler started and abandoned (its lease lapsed): resume them.
    this.watchdog = setInterval(() => this.guard(() => this.resumeStalled()), Math.max(200, Math.min(this.d.leaseMs / 2, 30_000)));
    for (const { edition, at } of this.nextRuns()) log(`next ${editionConfig(config, edition).label}: ${this.when(at)}`);
  }

  /**
   * Stops taking slots, lets the current send finish the messages in flight, and returns within
   * `stopMs`. Returns whether every slot run ended in time (one that did not keeps its slot open:
   * its lease lapses and the slot resumes on the next start).
   */
  async stop(): Promise<boolean> {
    this.controller.abort();
    clearInterval(this.watchdog);
    await Promise.all(this.tasks.map((t) => t.stop()));
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      Promise.all(this.running.values()).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.d.stopMs ?? 25_000);
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      // Renewing their leases would keep the slots from the next scheduler (and this process alive).
      for (const renewal of this.renewals) clearInterval(renewal);
      this.d.log(`scheduler: ${this.running.size} slot run(s) still busy after ${this.d.stopMs ?? 25_000} ms; leaving them to resume`);
    }
    return inTime;
  }

  /** Waits for every slot run started so far (tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all(this.running.values());
  }

  private resumeStalled(): void {
    const now = this.d.clock();
    for (const slot of this.d.slots.stalled(now)) {
      // A send the quota paused has started going out: it is finished, however late the quota allows.
      if (now - slot.scheduledAt <= this.d.catchUpMs || slot.issueId !== null) this.trigger(slot.edition, slot.scheduledAt);
    }
    for (const id of this.d.pausedByHand?.(now) ?? []) this.resumeByHand(id);
  }

  /** An issue sent by hand and paused by the quota: finished here, under its own send lease. */
  private resumeByHand(issueId: string): void {
    const key = `issue:${issueId}`;
    const resume = this.d.runner.resume?.bind(this.d.runner);
    if (!resume || this.controller.signal.aborted || this.running.has(key)) return;
    this.d.log(`${issueId}: the sending quota allows more; going on with the send started by hand`);
    const run = resume(issueId, this.controller.signal)
      .then((outcome) => this.d.log(`${issueId}: ${outcome.state === 'done' ? outcome.detail : `stopped (${outcome.detail})`}`))
      .catch((err: Error) => this.d.log(`${issueId}: ${err.message.split('\n')[0]}; it will be retried`))
      .finally(() => this.running.delete(key));
    this.running.set(key, run);
  }

  private trigger(edition: Edition, at: number): void {
    const key = slotKey(edition, at);
    if (this.controller.signal.aborted || this.running.has(key)) return;
    const run = this.runSlot(edition, at)
      .catch((err: Error) => this.d.log(`${this.label(edition, at)}: ${err.message.split('\n')[0]}; it will be retried`))
      .finally(() => this.running.delete(key));
    this.running.set(key, run);
  }

  private async runSlot(edition: Edition, at: number): Promise<void> {
    const { slots, clock, log, holder, leaseMs } = this.d;
    const key = slotKey(edition, at);
    const claim = slots.claim(edition, at, holder, clock(), leaseMs, this.d.holderAlive);
    if (claim !== 'claimed') {
      if (claim === 'busy') log(`${this.label(edition, at)} is being run by another scheduler`);
      return;
    }
    const renewal = setInterval(() => this.guard(() => slots.renew(key, holder, clock(), leaseMs)), Math.max(100, leaseMs / 3));
    this.renewals.add(renewal);
    log(`${this.label(edition, at)}: building and sending`);
    try {
      const outcome = await this.d.runner.run(edition, at, this.controller.signal);
      if (outcome.state === 'interrupted' && outcome.resumeAt !== undefined && outcome.issueId !== null) {
        slots.pause(key, holder, outcome.resumeAt, outcome.issueId, outcome.detail, clock());
        log(`${this.label(edition, at)}: paused (${outcome.detail}); it resumes at ${this.when(outcome.resumeAt)}`);
      } else if (outcome.state === 'interrupted') {
        slots.release(key, holder, clock());
        log(`${this.label(edition, at)}: stopped (${outcome.detail}); it will resume`);
      } else {
        slots.finish(key, outcome.state, outcome.issueId, outcome.detail, clock());
        log(`${this.label(edition, at)}: ${outcome.state === 'empty' ? 'nothing to send' : outcome.detail}`);
      }
    } catch (err) {
      slots.release(key, holder, clock());
      log(`${this.label(edition, at)} failed: ${(err as Error).message.split('\n')[0]}; it will be retried`);
    } finally {
      clearInterval(renewal);
      this.renewals.delete(renewal);
    }
  }

  /** A timer's work must never take the process down: a busy database is tried again next tick. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.d.log(`scheduler: ${(err as Error).message}`);
    }
  }

  private label(edition: Edition, at: number): string {
    return `${editionConfig(this.d.config, edition).label} ${localDate(this.d.config, at)}`;
  }

  private when(at: number): string {
    return `${new Date(at).toISOString()} (${localDate(this.d.config, at)} in ${this.d.config.timezone})`;
  }

  private hours(): number {
    return Math.round((this.d.catchUpMs / 3600_000) * 10) / 10;
  }
}
