// The send loop. The ledger says who is owed a copy; a fixed number of workers take rows from it,
// fill the issue's precompiled message with each reader's own links and hand it to the transport.
// Outcomes go back to the ledger one by one, so stopping at any point loses nothing:
//   - a graceful stop (signal) finishes the messages in flight and leaves the rest queued;
//   - 4xx answers and lost connections are retried with backoff; 5xx marks the address bounced;
//   - if the server stops answering altogether the run ends, the rest still queued for next time.
import type { Edition } from '../compose/slots.ts';
import type { Ledger, Delivery, LedgerCounts, Outcome } from '../store/ledger.ts';
import type { MessageTemplate } from './message.ts';
import type { Recipient } from '../render/tokens.ts';

/** Where messages go: nodemailer's pooled SMTP in production, anything with this shape in tests. */
export interface Transport {
  send(raw: Buffer, envelope: { from: string; to: string }): Promise<void>;
  close(): void;
}

/** An SMTP failure as nodemailer reports it: a reply code when the server answered, none when the connection failed. */
export interface SendError {
  responseCode?: number;
  code?: string;
  message: string;
}

export interface SendSettings {
  concurrency: number;
  maxAttempts: number;
  /** Backoff before retry n (1-based): base · 2^(n-1), capped. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive connection failures after which the run gives up (the rest stays queued). */
  giveUpAfter: number;
  leaseMs: number;
}

export const DEFAULT_SEND_SETTINGS: SendSettings = {
  concurrency: 5,
  maxAttempts: 5,
  retryBaseMs: 2_000,
  retryMaxMs: 5 * 60_000,
  giveUpAfter: 10,
  leaseMs: 60_000,
};

export interface SendJob {
  issueId: string;
  edition: Edition;
  envelopeFrom: string;
  template: MessageTemplate;
  /** Each reader's own values: Message-ID, signed links. */
  personalise: (d: Delivery) => { messageId: string; unsubscribeUrl: string; unsubscribeMailto: string; tokens: Recipient };
  /** Marks an address as bounced after a permanent failure. */
  bounce: (subscriberId: number, now: number) => void;
}

export interface SendReport {
  counts: LedgerCounts;
  queuedNow: number;
  recovered: number;
  /** Why the run ended early, if it did. */
  stopped?: 'signal' | 'server';
  lastError?: string;
}

export interface SendContext {
  ledger: Ledger;
  transport: Transport;
  settings: SendSettings;
  clock: () => number;
  holder: string;
  signal: AbortSignal;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Whether a lease holder is still running; a dead holder's lease is taken over at once. */
  holderAlive: (holder: string) => boolean;
  /** Updated as the run goes, for a progress display (read it on a timer). */
  progress?: SendProgress;
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

/** Rows read from the ledger at a time: large enough that reading is cheap, small enough to stay flat in memory. */
const DUE_BATCH = 200;

export class SendRefused extends Error {
  override name = 'SendRefused';
}

export async function sendIssue(job: SendJob, ctx: SendContext): Promise<SendReport> {
  const { ledger, settings, clock } = ctx;
  let lock = ledger.acquire(job.issueId, ctx.holder, clock(), settings.leaseMs);
  if (!lock.ok && !ctx.holderAlive(lock.holder)) {
    // Its process is gone (killed, or the machine restarted): no need to wait for the lease to lapse.
    lock = ledger.acquire(job.issueId, ctx.holder, lock.expiresAt + 1, settings.leaseMs);
  }
  if (!lock.ok) {
    throw new SendRefused(`issue ${job.issueId} is being sent by ${lock.holder} (lease until ${new Date(lock.expiresAt).toISOString()}); wait for it to finish`);
  }
  const renewal = setInterval(() => {
    try {
      ledger.renew(job.issueId, ctx.holder, clock(), settings.leaseMs);
    } catch {
      // A busy database: the next tick renews; the lease is long enough to miss one.
    }
  }, settings.leaseMs / 4);
  renewal.unref();
  let stopped: SendReport['stopped'];
  let lastError: string | undefined;
  let connectionFailures = 0;
  try {
    const recovered = ledger.recoverInFlight(job.issueId, clock());
    const queuedNow = ledger.enqueue(job.issueId, job.edition, clock());
    const progress = ctx.progress ?? newProgress();
    progress.total = ledger.counts(job.issueId).queued;
    const queue: Delivery[] = [];
    // Rows another worker of this run is sending right now: still 'sending' in the ledger, never picked twice.
    const taken = new Set<number>();
    const stopping = () => ctx.signal.aborted || stopped !== undefined;

    /** What became of one message, to be written to the ledger. */
    const outcomeOf = (d: Delivery, err: unknown): Outcome => {
      if (err === undefined) {
        connectionFailures = 0;
        progress.sent++;
        return { state: 'sent' };
      }
      const e = err as SendError;
      lastError = e.message;
      const code = e.responseCode;
      if (code !== undefined && code >= 500) {
        progress.failed++;
        return { state: 'failed', error: `${code} ${e.message}`, bounce: true };
      }
      if (code === undefined && ++connectionFailures >= settings.giveUpAfter) stopped = 'server';
      if (code !== undefined && d.attempts >= settings.maxAttempts) {
        progress.failed++;
        return { state: 'failed', error: `${code} ${e.message} (after ${d.attempts} attempts)` };
      }
      progress.retried++;
      const wait = Math.min(settings.retryBaseMs * 2 ** (d.attempts - 1), settings.retryMaxMs);
      return { state: 'retry', error: code ? `${code} ${e.message}` : e.message, at: clock() + wait };
    };

    // Each worker writes the outcome of its last message and the start of its next one in a single
    // transaction: one commit per message, and still at most one message per connection whose fate
    // the ledger does not know if the process dies at any instant.
    const worker = async (): Promise<void> => {
      let settled: { d: Delivery; outcome: Outcome } | undefined;
      const commit = (next: Delivery | undefined) =>
        ledger.step(job.issueId, settled && { subscriberId: settled.d.subscriberId, outcome: settled.outcome }, next?.subscriberId, clock());
      for (;;) {
        let next: Delivery | undefined;
        if (!stopping()) {
          if (queue.length === 0) queue.push(...ledger.due(job.issueId, DUE_BATCH, clock()).filter((d) => !taken.has(d.subscriberId)));
          next = queue.shift();
        }
        if (next && next.subscriberStatus !== 'active') {
          // Unsubscribed (or removed) since it was queued: nothing to send.
          commit(undefined);
          settled = { d: next, outcome: { state: 'skipped', reason: next.subscriberStatus } };
          progress.skipped++;
          continue;
        }
        commit(next);
        if (settled?.outcome.state === 'failed' && settled.outcome.bounce) job.bounce(settled.d.subscriberId, clock());
        settled = undefined;
        if (!next) {
          if (stopping()) return;
          // Nothing due now: wait for the next retry, or finish when nothing is left.
          const retryAt = ledger.nextRetry(job.issueId);
          if (retryAt === undefined) return;
          await ctx.sleep(Math.max(50, retryAt - clock()), ctx.signal);
          continue;
        }
        taken.add(next.subscriberId);
        const raw = job.template.render({ email: next.email, name: next.name, ...job.personalise(next) });
        let error: unknown;
        try {
          await ctx.transport.send(raw, { from: job.envelopeFrom, to: next.email });
        } catch (err) {
          error = err ?? new Error('unknown error');
        }
        taken.delete(next.subscriberId);
        settled = { d: next, outcome: outcomeOf(next, error) };
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency }, worker));
    if (ctx.signal.aborted && !stopped) stopped = 'signal';
    return { counts: ledger.counts(job.issueId), queuedNow, recovered, stopped, lastError };
  } finally {
    clearInterval(renewal);
    ledger.release(job.issueId, ctx.holder);
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
