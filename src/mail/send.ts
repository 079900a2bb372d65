// The send loop. The ledger says who is owed a copy; a fixed number of workers take rows from it,
// fill the issue's precompiled message with each reader's own links and hand it to the transport.
// Outcomes go back to the ledger one by one, each fenced by the send lease, so stopping at any
// point loses nothing and a sender that lost its lease changes nothing:
//   - a stop (signal) finishes the messages in flight within `stopMs`, records any still unanswered
//     as uncertain, and leaves the rest queued;
//   - 4xx answers are retried with backoff; a 5xx for one recipient marks that address bounced;
//   - a failure of the connection, TLS, login or the sender is the run's: it stops at once and no
//     reader's state changes (a message cut off mid-transaction is marked uncertain);
//   - a lost lease (renewal refused, or a write fenced out) stops the sender at once.
import type { Edition } from '../compose/slots.ts';
import { LeaseLost, type Delivery, type Lease, type Ledger, type LedgerCounts, type Outcome } from '../store/ledger.ts';
import type { MessageTemplate } from './message.ts';
import { classify } from './outcome.ts';
import type { Recipient } from '../render/tokens.ts';

/** Where messages go: nodemailer's pooled SMTP in production, anything with this shape in tests. */
export interface Transport {
  send(raw: Buffer, envelope: { from: string; to: string }): Promise<void>;
  close(): void;
}

export interface SendSettings {
  concurrency: number;
  maxAttempts: number;
  /** Backoff before retry n (1-based): base · 2^(n-1), capped. */
  retryBaseMs: number;
  retryMaxMs: number;
  leaseMs: number;
  /** After a stop signal, how long messages in flight may take before they are recorded uncertain. */
  stopMs: number;
}

export const DEFAULT_SEND_SETTINGS: SendSettings = {
  concurrency: 5,
  maxAttempts: 5,
  retryBaseMs: 2_000,
  retryMaxMs: 5 * 60_000,
  leaseMs: 60_000,
  stopMs: 20_000,
};

export interface SendJob {
  issueId: string;
  edition: Edition;
  envelopeFrom: string;
  template: MessageTemplate;
  /** Each reader's own values: Message-ID, signed links. */
  personalise: (d: Delivery) => { messageId: string; unsubscribeUrl: string; unsubscribeMailto: string; tokens: Recipient };
}

export interface SendReport {
  counts: LedgerCounts;
  queuedNow: number;
  recovered: number;
  /**
   * Why the run ended early, if it did: a stop signal; a failure of the run itself (connection,
   * TLS, login, sender refused); or the lease passing to another sender.
   */
  stopped?: 'signal' | 'failure' | 'lease';
  /** The server's words for a failure of the run. */
  failure?: string;
  /** Messages still unanswered when the stop deadline came: recorded uncertain. */
  abandoned: number;
}

export interface SendContext {
  ledger: Ledger;
  transport: Transport;
  settings: SendSettings;
  /** The time recorded in the ledger (may be fixed by --now). */
  clock: () => number;
  /** The real time, for waits, retries and the lease: never a fixed clock. */
  realClock: () => number;
  holder: string;
  signal: AbortSignal;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Whether a lease holder is still running; a dead holder's lease is taken over at once. */
  holderAlive: (holder: string) => boolean;
  /** Updated as the run goes, for a progress display (read it on a timer). */
  progress?: SendProgress;
  /** Called with every row this run is about to send (tests pause or steal the lease here). */
  beforeSend?: (d: Delivery) => void | Promise<void>;
}

export interface SendProgress {
  /** Rows this run set out to settle. */
  total: number;
  sent: number;
  failed: number;
  retried: number;
  skipped: number;
}

export function newProgress(): SendProgress {
  return { total: 0, sent: 0, failed: 0, retried: 0, skipped: 0 };
}

/** Permanent refusals with no message accepted in between after which a run stops as a failure. */
export const REFUSALS_BEFORE_ACCEPTED = 5;

/** Rows read from the ledger at a time: large enough that reading is cheap, small enough to stay flat in memory. */
const DUE_BATCH = 200;

export class SendRefused extends Error {
  override name = 'SendRefused';
}

type Settled = { subscriberId: number; outcome: Outcome };

export async function sendIssue(job: SendJob, ctx: SendContext): Promise<SendReport> {
  const { ledger, settings, clock, realClock } = ctx;
  let lock = ledger.acquire(job.issueId, ctx.holder, realClock(), settings.leaseMs);
  if (!lock.ok && !ctx.holderAlive(lock.holder)) {
    // Its process is gone (killed, or the machine restarted): no need to wait for the lease to lapse.
    lock = ledger.acquire(job.issueId, ctx.holder, lock.expiresAt + 1, settings.leaseMs);
  }
  if (!lock.ok) {
    throw new SendRefused(`issue ${job.issueId} is being sent by ${lock.holder} (lease until ${new Date(lock.expiresAt).toISOString()}); wait for it to finish`);
  }
  const lease: Lease = lock.lease;
  let stopped: SendReport['stopped'];
  let failure: string | undefined;
  // Ends a worker's wait for a retry when the run fails or loses its lease, not only on a stop signal.
  const halted = new AbortController();
  const waits = AbortSignal.any([ctx.signal, halted.signal]);
  const halt = (why: NonNullable<SendReport['stopped']>, reason?: string) => {
    if (stopped) return;
    stopped = why;
    failure = reason;
    halted.abort();
  };
  const renew = () => {
    try {
      if (!ledger.renew(lease, realClock(), settings.leaseMs)) halt('lease');
    } catch {
      // A busy database: the next tick renews; the lease is long enough to miss one.
    }
  };
  const renewal = setInterval(renew, settings.leaseMs / 4);
  renewal.unref();
  let lastRenewal = realClock();
  try {
    const recovered = ledger.recoverInFlight(lease, clock());
    const queuedNow = ledger.enqueue(job.issueId, job.edition, clock());
    const progress = ctx.progress ?? newProgress();
    progress.total = ledger.counts(job.issueId).queued;
    const queue: Delivery[] = [];
    // Rows a worker of this run is sending right now, and past the stop deadline, abandoned to uncertainty.
    const inFlight = new Map<number, Delivery>();
    let abandoned = false;
    const stopping = () => ctx.signal.aborted || stopped !== undefined;

    // Until this run has had a message accepted, a permanent refusal is held back (its row queued
    // again as it was): a relay that refuses every recipient ("relay access denied" when the login is
    // missing from SMTP_URL) would otherwise bounce the whole list. Refusals in a row with nothing
    // accepted are the run's failure.
    let accepted = false;
    let refusedBeforeAccepted = 0;

    /** What became of one message, to be written to the ledger. */
    const outcomeOf = (d: Delivery, err: unknown): Outcome => {
      if (err === undefined) {
        accepted = true;
        progress.sent++;
        return { state: 'sent' };
      }
      const verdict = classify(err);
      if (verdict.kind === 'run') {
        halt('failure', verdict.reason);
        return verdict.maybeDelivered ? { state: 'uncertain', error: verdict.reason } : { state: 'unsent' };
      }
      if (verdict.kind === 'permanent' && !accepted) {
        if (++refusedBeforeAccepted >= REFUSALS_BEFORE_ACCEPTED) {
          halt('failure', `the server refused ${refusedBeforeAccepted} recipients in a row and accepted none (nobody was marked bounced): ${verdict.reason}`);
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
      return { state: 'retry', error: verdict.reason, at: realClock() + wait };
    };

    /** A fenced write; a lost lease stops the run (and this write changed nothing). */
    const write = (settled: Settled | undefined, next: number | undefined): boolean => {
      if (abandoned || (!settled && next === undefined)) return false;
      try {
        return ledger.step(lease, settled, next, clock());
      } catch (err) {
        if (err instanceof LeaseLost) {
          halt('lease');
          return false;
        }
        // The database refused the write (locked past its timeout, disk full, read-only): stop the
        // whole run rather than this worker alone, so that no other worker sends what it cannot record.
        // A message sent and not recorded stays in flight: the next run sends it again, uncertain.
        halt('failure', `the send ledger could not be written: ${(err as Error).message}`);
        return false;
      }
    };

    // Each worker writes the outcome of its last message and the claim of its next one in a single
    // transaction: one commit per message, and still at most one message per connection whose fate
    // the ledger does not know if the process dies at any instant.
    const worker = async (): Promise<void> => {
      let pending: Settled | undefined;
      for (;;) {
        let next: Delivery | undefined;
        if (!stopping()) {
          if (realClock() - lastRenewal >= settings.leaseMs / 4) {
            lastRenewal = realClock();
            renew();
          }
          if (queue.length === 0) queue.push(...ledger.due(job.issueId, DUE_BATCH, realClock()).filter((d) => !inFlight.has(d.subscriberId)));
          next = queue.shift();
        }
        if (next && next.subscriberStatus !== 'active') {
          // Unsubscribed (or removed) since it was queued: nothing to send.
          write(pending, undefined);
          pending = { subscriberId: next.subscriberId, outcome: { state: 'skipped', reason: next.subscriberStatus } };
          progress.skipped++;
          continue;
        }
        const claimed = write(pending, next?.subscriberId);
        pending = undefined;
        if (next && !claimed) {
          if (stopping()) return;
          continue; // settled or taken since the batch was read: not ours to send
        }
        if (!next) {
          if (stopping()) return;
          // Nothing due now: wait for the next retry, or finish when nothing is left.
          const retryAt = ledger.nextRetry(job.issueId);
          if (retryAt === undefined) return;
          await ctx.sleep(Math.max(50, retryAt - realClock()), waits);
          continue;
        }
        inFlight.set(next.subscriberId, next);
        let error: unknown;
        try {
          await ctx.beforeSend?.(next);
          const raw = job.template.render({ email: next.email, name: next.name, ...job.personalise(next) });
          await ctx.transport.send(raw, { from: job.envelopeFrom, to: next.email });
        } catch (err) {
          error = err ?? new Error('unknown error');
        }
        inFlight.delete(next.subscriberId);
        if (abandoned) return; // already recorded uncertain when the stop deadline passed
        pending = { subscriberId: next.subscriberId, outcome: outcomeOf(next, error) };
      }
    };

    const workers = Promise.all(Array.from({ length: settings.concurrency }, worker));
    // A stop, or the run failing or losing its lease, gives the messages in flight `stopMs` to
    // finish; past that they are abandoned.
    const deadline = new AbortController();
    let startDeadline = () => {};
    const stopDeadline = new Promise<'deadline'>((resolve) => {
      startDeadline = () => void ctx.sleep(settings.stopMs, deadline.signal).then(() => resolve('deadline'));
    });
    if (waits.aborted) startDeadline();
    else waits.addEventListener('abort', startDeadline, { once: true });
    const ended = await Promise.race([workers, stopDeadline]);
    waits.removeEventListener('abort', startDeadline);
    deadline.abort();
    let abandonedCount = 0;
    if (ended === 'deadline') {
      const left = [...inFlight.values()];
      for (const d of left) write({ subscriberId: d.subscriberId, outcome: { state: 'uncertain', error: `no answer within ${settings.stopMs} ms of the stop` } }, undefined);
      abandonedCount = left.length;
      abandoned = true;
      workers.catch(() => {}); // they end when the transport closes; nothing of theirs is recorded now
    }
    if (ctx.signal.aborted && !stopped) stopped = 'signal';
    return { counts: ledger.counts(job.issueId), queuedNow, recovered, stopped, failure, abandoned: abandonedCount };
  } finally {
    clearInterval(renewal);
    try {
      ledger.release(lease);
    } catch {
      // The lease lapses on its own.
    }
  }
}

/** A sleep that ends early when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A holder named "host:pid" is alive unless it is on this host and that process no longer runs. */
export function localHolderAlive(hostname: string): (holder: string) => boolean {
  return (holder) => {
    const m = /^(.*):(\d+)$/.exec(holder);
    if (!m || m[1] !== hostname) return true;
    try {
      process.kill(Number(m[2]), 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
}
