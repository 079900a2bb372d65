// What became of each message, and writing it to the ledger. Every write is fenced by the run's
// lease; a write refused because the lease passed on, or because the database failed, halts the
// whole run, so that no worker sends what cannot be recorded.
import { LeaseLost, type Claim, type Delivery, type Lease, type Outcome } from '../store/ledger.ts';
import { classify } from './outcome.ts';
import type { SendLedger, SendProgress, SendSettings } from './send-ports.ts';

/** Permanent refusals with no message accepted in between after which a run stops as a failure. */
export const REFUSALS_BEFORE_ACCEPTED = 5;

/**
 * Why a run ended early: a stop signal, a failure of the run itself, the lease passing to another
 * sender, or the sending quota used up for longer than the run waits.
 */
export type StopReason = 'signal' | 'failure' | 'lease' | 'quota';

export type Settled = { subscriberId: number; outcome: Outcome };

/** A run's early end: the first reason wins, and every wait for a retry ends with it. */
export class Halt {
  reason?: StopReason;
  /** The server's (or the database's) words for a failure of the run. */
  failure?: string;
  /** When the quota lets the run go on, when it stopped for the quota. */
  pausedUntil?: number;
  private readonly halted = new AbortController();
  /** Aborts on a stop signal or a halt: a worker's wait for a retry ends on either. */
  readonly waits: AbortSignal;

  constructor(private readonly signal: AbortSignal) {
    this.waits = AbortSignal.any([signal, this.halted.signal]);
  }

  halt(why: StopReason, failure?: string): void {
    if (this.reason) return;
    this.reason = why;
    this.failure = failure;
    this.halted.abort();
  }

  /** Stops the run until the quota allows more; the rest stays queued. */
  pause(until: number): void {
    if (this.reason) return;
    this.pausedUntil = until;
    this.halt('quota');
  }

  /** No new message goes out: stopped by a signal, or halted. */
  get stopping(): boolean {
    return this.signal.aborted || this.reason !== undefined;
  }
}

export class Recorder {
  // Until this run has had a message accepted, a permanent refusal is held back (its row queued
  // again as it was): a relay that refuses every recipient ("relay access denied" when the login is
  // missing from SMTP_URL) would otherwise bounce the whole list. Refusals in a row with nothing
  // accepted are the run's failure.
  private accepted = false;
  private refusedBeforeAccepted = 0;
  /** Set once the stop deadline has passed and the messages still in flight are recorded uncertain: nothing more is written. */
  abandoned = false;

  constructor(
    private readonly ledger: SendLedger,
    private readonly lease: Lease,
    private readonly settings: SendSettings,
    private readonly progress: SendProgress,
    private readonly halt: Halt,
    /** The time recorded in the ledger. */
    private readonly clock: () => number,
    /** The real time, for retries. */
    private readonly realClock: () => number,
  ) {}

  /** What became of one message (`err` undefined: accepted), to be written to the ledger. */
  outcomeOf(d: Delivery, err: unknown): Outcome {
    const { progress, settings } = this;
    if (err === undefined) {
      this.accepted = true;
      progress.sent++;
      return { state: 'sent' };
    }
    const verdict = classify(err);
    if (verdict.kind === 'run') {
      this.halt.halt('failure', verdict.reason);
      return verdict.maybeDelivered ? { state: 'uncertain', error: verdict.reason } : { state: 'unsent' };
    }
    if (verdict.kind === 'permanent' && !this.accepted) {
      if (++this.refusedBeforeAccepted >= REFUSALS_BEFORE_ACCEPTED) {
        this.halt.halt('failure', `the server refused ${this.refusedBeforeAccepted} recipients in a row and accepted none (nobody was marked bounced): ${verdict.reason}`);
      }
      return { state: 'unsent' };
    }
    if (verdict.kind === 'permanent') {
      progress.failed++;
      return { state: 'failed', error: verdict.reason, bounce: true };
    }
    if (d.attempts >= settings.maxAttempts) {
      progress.failed++;
      return { state: 'failed', error: `${verdict.reason} (after ${d.attempts} attempts)` };
    }
    progress.retried++;
    const wait = Math.min(settings.retryBaseMs * 2 ** (d.attempts - 1), settings.retryMaxMs);
    return { state: 'retry', error: verdict.reason, at: this.realClock() + wait };
  }

  /**
   * Records `settled` and claims `next` in one fenced transaction; says whether the claim
   * succeeded, or until when the quota holds it back. A lost lease stops the run (and this write
   * changed nothing).
   */
  write(settled: Settled | undefined, next: number | undefined): Claim {
    if (this.abandoned || (!settled && next === undefined)) return { claimed: false };
    try {
      return this.ledger.step(this.lease, settled, next, this.clock());
    } catch (err) {
      if (err instanceof LeaseLost) {
        this.halt.halt('lease');
        return { claimed: false };
      }
      // The database refused the write (locked past its timeout, disk full, read-only): stop the
      // whole run rather than this worker alone, so that no other worker sends what it cannot record.
      // A message sent and not recorded stays in flight: the next run sends it again, uncertain.
      this.halt.halt('failure', `the send ledger could not be written: ${(err as Error).message}`);
      return { claimed: false };
    }
  }

  /** Past the stop deadline: the messages still unanswered are recorded uncertain, and nothing is written after. */
  abandon(inFlight: readonly Delivery[]): void {
    for (const d of inFlight) this.write({ subscriberId: d.subscriberId, outcome: { state: 'uncertain', error: `no answer within ${this.settings.stopMs} ms of the stop` } }, undefined);
    this.abandoned = true;
  }
}
