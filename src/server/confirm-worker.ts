// Sends the queued confirmation mails, one at a time, apart from any request: the subscribe answer
// never waits on SMTP, so its timing says nothing about the address. Transient failures retry with
// exponential backoff; a permanent refusal (5xx) or the last attempt marks the row failed. Every send
// has a deadline. Logs name the queue row, never the address.
import type { Transport } from '../mail/send-ports.ts';
import type { ConfirmationJob, ConfirmationQueue } from '../store/confirmations.ts';
import { isBusyError, type DatabaseHealth } from './db-health.ts';

export interface ConfirmationMessage {
  raw: Buffer;
  from: string;
}

export interface WorkerOptions {
  queue: ConfirmationQueue;
  transport: Transport;
  /** The message for a job, or undefined when it is no longer needed (confirmed, removed). */
  compose: (job: ConfirmationJob) => Promise<ConfirmationMessage | undefined>;
  clock: () => number;
  log: (line: string) => void;
  health?: DatabaseHealth;
  maxAttempts?: number;
  /** The first retry's delay; each next one doubles, up to an hour. */
  backoffMs?: number;
  /** Deadline for one whole send (connect, greeting, envelope, data). */
  sendTimeoutMs?: number;
  /** How often to look for due rows when not woken (retries, rows queued by another process). */
  idleMs?: number;
  /** Takes one message from the shared sending quota, or says until when it is used up. */
  quota?: () => number | undefined;
}

export interface Worker {
  /** A row was queued: look now. */
  wake(): void;
  /** Finishes the send in flight (within its deadline) and stops. */
  stop(): Promise<void>;
}

const HOUR = 3600_000;
const KEEP_MS = 24 * HOUR;

/** Addresses out of a message (SMTP replies often quote the recipient). */
export function redactAddresses(text: string): string {
  return text.replace(/[^\s<>()[\]"',;:]+@[^\s<>()[\]"',;:]+/g, '<address>');
}

export function startConfirmationWorker(o: WorkerOptions): Worker {
  const maxAttempts = o.maxAttempts ?? 8;
  const backoffMs = o.backoffMs ?? 30_000;
  const sendTimeoutMs = o.sendTimeoutMs ?? 60_000;
  const idleMs = o.idleMs ?? 5000;
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let lastPrune = -Infinity;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped || woken) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  /** A queue write that must not be lost to a busy moment: retried for a while. */
  async function record(write: () => void): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        write();
        return;
      } catch (err) {
        if (!isBusyError(err) || tries >= 40 || stopped) throw err;
        o.health?.busy();
        await sleep(250);
      }
    }
  }

  async function attempt(job: ConfirmationJob): Promise<void> {
    try {
      const message = await o.compose(job);
      const until = message ? o.quota?.() : undefined;
      if (until !== undefined) {
        await record(() => o.queue.defer(job.id, until));
        o.log(`confirmation #${job.id} waits for the sending quota until ${new Date(until).toISOString()}`);
        return;
      }
      if (message) await withDeadline(o.transport.send(message.raw, { from: message.from, to: job.email }), sendTimeoutMs);
      await record(() => o.queue.sent(job.id));
    } catch (err) {
      const text = redactAddresses((err as Error).message ?? String(err));
      const code = (err as { responseCode?: number }).responseCode;
      if ((code !== undefined && code >= 500) || job.attempts >= maxAttempts) {
        await record(() => o.queue.failed(job.id, text)).catch(() => {});
        o.log(`confirmation #${job.id} failed for good after ${job.attempts} attempt(s): ${text}`);
      } else {
        const delay = Math.min(HOUR, backoffMs * 2 ** (job.attempts - 1));
        await record(() => o.queue.retry(job.id, o.clock() + delay, text)).catch(() => {});
        o.log(`confirmation #${job.id} failed (attempt ${job.attempts} of ${maxAttempts}), retrying in ${Math.ceil(delay / 1000)} s: ${text}`);
      }
    }
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      woken = false;
      let job: ConfirmationJob | undefined;
      let wait = idleMs;
      try {
        const now = o.clock();
        if (now - lastPrune > HOUR) {
          o.queue.prune(now - KEEP_MS);
          lastPrune = now;
        }
        // The lease outlasts the send's deadline, so a live worker never loses its row to another.
        job = o.queue.claim(now, sendTimeoutMs * 2);
        if (!job) {
          const next = o.queue.nextAt();
          if (next !== undefined) wait = Math.min(idleMs, Math.max(0, next - now));
        }
      } catch (err) {
        if (isBusyError(err)) o.health?.busy();
        else o.log(`confirmation queue: ${(err as Error).message}`);
      }
      if (job) await attempt(job);
      else await sleep(wait);
    }
  }

  const running = loop();
  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the mail server within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
