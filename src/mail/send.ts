// The send loop. The ledger says who is owed a copy; a fixed number of workers take rows from it,
// fill the issue's precompiled message with each reader's own links and hand it to the transport
// (send-pipe.ts). Outcomes go back to the ledger one by one, each fenced by the send lease
// (send-record.ts), so stopping at any point loses nothing and a sender that lost its lease changes
// nothing:
//   - a stop (signal) finishes the messages in flight within `stopMs`, records any still unanswered
//     as uncertain, and leaves the rest queued;
//   - 4xx answers are retried with backoff; a 5xx for one recipient marks that address bounced;
//   - a failure of the connection, TLS, login or the sender is the run's: it stops at once and no
//     reader's state changes (a message cut off mid-transaction is marked uncertain);
//   - a lost lease (renewal refused, or a write fenced out) stops the sender at once;
//   - before anything is written, a preflight opens one session as the run will (connect, EHLO,
//     STARTTLS, AUTH): a failure there is the run's, and not even the queue changes;
//   - the sending quota (store/quota.ts) holds claims back: a short wait is waited out, a longer one
//     pauses the run with the rest queued and records until when.
// This file holds the run: its lease, its workers, and the deadline after a stop.
import { processRunning } from '../files/pid.ts';
import type { Delivery, Lease, LedgerCounts } from '../store/ledger.ts';
import { classify } from './outcome.ts';
import { Pipe } from './send-pipe.ts';
import type { SendJob, SendLedger, SendProgress, SendSettings, Transport } from './send-ports.ts';
import { Halt, Recorder, type StopReason } from './send-record.ts';

export const DEFAULT_SEND_SETTINGS: SendSettings = {
  concurrency: 5,
  maxAttempts: 5,
  retryBaseMs: 2_000,
  retryMaxMs: 5 * 60_000,
  leaseMs: 60_000,
  stopMs: 20_000,
  // Longer than a minute and its last bucket: a per-minute limit is waited out within the run, an
  // hourly or daily one pauses it.
  quotaWaitMs: 90_000,
};

export interface SendReport {
  counts: LedgerCounts;
  queuedNow: number;
  recovered: number;
  /**
   * Why the run ended early, if it did: a stop signal; a failure of the run itself (connection,
   * TLS, login, sender refused); the lease passing to another sender; or the sending quota.
   */
  stopped?: StopReason;
  /** When the quota lets the paused run go on (stopped 'quota'). */
  pausedUntil?: number;
  /** The server's words for a failure of the run. */
  failure?: string;
  /** Messages still unanswered when the stop deadline came: recorded uncertain. */
  abandoned: number;
}

export interface SendContext {
  ledger: SendLedger;
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

export function newProgress(): SendProgress {
  return { total: 0, sent: 0, failed: 0, retried: 0, skipped: 0 };
}

export class SendRefused extends Error {
  override name = 'SendRefused';
}

export async function sendIssue(job: SendJob, ctx: SendContext): Promise<SendReport> {
  const { ledger, settings, clock, realClock } = ctx;
  // Preflight: a wrong password, a refused TLS upgrade or a server that does not answer is found
  // before anything is written, so such a run changes nobody's state (not even the queue).
  const refused = await preflight(ctx.transport);
  if (refused !== undefined) return { counts: ledger.counts(job.issueId), queuedNow: 0, recovered: 0, stopped: 'failure', failure: refused, abandoned: 0 };
  let lock = ledger.acquire(job.issueId, ctx.holder, realClock(), settings.leaseMs);
  if (!lock.ok && !ctx.holderAlive(lock.holder)) {
    // Its process is gone (killed, or the machine restarted): no need to wait for the lease to lapse.
    lock = ledger.acquire(job.issueId, ctx.holder, lock.expiresAt + 1, settings.leaseMs);
  }
  if (!lock.ok) {
    throw new SendRefused(`issue ${job.issueId} is being sent by ${lock.holder} (lease until ${new Date(lock.expiresAt).toISOString()}); wait for it to finish`);
  }
  const lease: Lease = lock.lease;
  const halt = new Halt(ctx.signal);
  const renew = () => {
    try {
      if (!ledger.renew(lease, realClock(), settings.leaseMs)) halt.halt('lease');
    } catch {
      // A busy database: the next tick renews; the lease is long enough to miss one.
    }
  };
  const renewal = setInterval(renew, settings.leaseMs / 4);
  renewal.unref();
  let lastRenewal = realClock();
  const renewIfDue = () => {
    if (realClock() - lastRenewal < settings.leaseMs / 4) return;
    lastRenewal = realClock();
    renew();
  };
  try {
    const recovered = ledger.recoverInFlight(lease, clock());
    const queuedNow = job.retry ? ledger.requeue(lease, job.retry, clock()) : ledger.enqueue(job.issueId, job.edition, clock());
    const progress = ctx.progress ?? newProgress();
    progress.total = ledger.counts(job.issueId).queued;
    const recorder = new Recorder(ledger, lease, settings, progress, halt, clock, realClock);
    const pipe = new Pipe({ job, ledger, transport: ctx.transport, recorder, halt, progress, realClock, sleep: ctx.sleep, quotaWaitMs: settings.quotaWaitMs, renewIfDue, beforeSend: ctx.beforeSend });
    const workers = pipe.run(settings.concurrency);
    // A stop, or the run failing or losing its lease, gives the messages in flight `stopMs` to
    // finish; past that they are abandoned.
    const deadline = new AbortController();
    let startDeadline = () => {};
    const stopDeadline = new Promise<'deadline'>((resolve) => {
      startDeadline = () => void ctx.sleep(settings.stopMs, deadline.signal).then(() => resolve('deadline'));
    });
    if (halt.waits.aborted) startDeadline();
    else halt.waits.addEventListener('abort', startDeadline, { once: true });
    const ended = await Promise.race([workers, stopDeadline]);
    halt.waits.removeEventListener('abort', startDeadline);
    deadline.abort();
    let abandoned = 0;
    if (ended === 'deadline') {
      const left = [...pipe.inFlight.values()];
      recorder.abandon(left);
      abandoned = left.length;
      workers.catch(() => {}); // they end when the transport closes; nothing of theirs is recorded now
    }
    const stopped = halt.reason ?? (ctx.signal.aborted ? 'signal' : undefined);
    if (stopped === 'quota' && halt.pausedUntil !== undefined) ledger.pause(lease, halt.pausedUntil);
    return { counts: ledger.counts(job.issueId), queuedNow, recovered, stopped, pausedUntil: halt.pausedUntil, failure: halt.failure, abandoned };
  } finally {
    clearInterval(renewal);
    try {
      ledger.release(lease);
    } catch {
      // The lease lapses on its own.
    }
  }
}

/** Why the transport's session cannot be opened (the server's words), or undefined when it can. */
async function preflight(transport: Transport): Promise<string | undefined> {
  try {
    await transport.verify?.();
    return undefined;
  } catch (err) {
    return `before the first message: ${classify(err).reason}`;
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
    return processRunning(Number(m[2]));
  };
}
