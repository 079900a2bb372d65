// The queue of confirmation mails: `POST /subscribe` adds a row and answers at once; a worker in
// `serve` sends it, with retries, across restarts. A row stays after it is sent, so the same inbox
// (however the address is spelled) cannot be mailed again within `gapMs` whoever asks; old rows are pruned.
import { mailboxKey } from '../content/address.ts';
import type { Db } from './database.ts';

export interface ConfirmationJob {
  id: number;
  email: string;
  subscriberId: number;
  attempts: number;
  requestedAt: number;
}

interface Row {
  id: number;
  email: string;
  subscriber_id: number;
  attempts: number;
  requested_at: number;
}

export class ConfirmationQueue {
  private readonly upsert;
  private readonly claimNext;
  private readonly markSent;
  private readonly markRetry;
  private readonly markFailed;
  private readonly pruneOld;
  private readonly nextDue;
  private readonly markDeferred;

  constructor(db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO confirmations (email, mailbox, subscriber_id, status, requested_at, attempts, next_at)
       VALUES (@email, @mailbox, @subscriber, 'queued', @now, 0, @now)
       ON CONFLICT (mailbox) DO UPDATE SET email = @email, subscriber_id = @subscriber, status = 'queued', requested_at = @now, attempts = 0, next_at = @now, error = NULL
       WHERE confirmations.requested_at <= @now - @gap`,
    );
    // Claiming moves next_at forward by a lease: a worker that dies mid-send gives the row back then.
    this.claimNext = db.prepare<{ now: number; lease: number }, Row>(
      `UPDATE confirmations SET attempts = attempts + 1, next_at = @now + @lease
       WHERE id = (SELECT id FROM confirmations WHERE status = 'queued' AND next_at <= @now ORDER BY next_at LIMIT 1)
       RETURNING id, email, subscriber_id, attempts, requested_at`,
    );
    this.markSent = db.prepare(`UPDATE confirmations SET status = 'sent', error = NULL WHERE id = ?`);
    this.markRetry = db.prepare(`UPDATE confirmations SET next_at = @at, error = @error WHERE id = @id AND status = 'queued'`);
    this.markDeferred = db.prepare(`UPDATE confirmations SET next_at = ?, attempts = max(attempts - 1, 0) WHERE id = ? AND status = 'queued'`);
    this.markFailed = db.prepare(`UPDATE confirmations SET status = 'failed', error = @error WHERE id = @id`);
    this.pruneOld = db.prepare(`DELETE FROM confirmations WHERE status != 'queued' AND requested_at < ?`);
    this.nextDue = db.prepare<[], { at: number | null }>(`SELECT min(next_at) AS at FROM confirmations WHERE status = 'queued'`);
  }

  /** Queues a mail to `email`; false (nothing queued) when one was asked for the same inbox within `gapMs`. */
  enqueue(subscriberId: number, email: string, now: number, gapMs: number): boolean {
    const address = email.trim();
    return this.upsert.run({ email: address, mailbox: mailboxKey(address), subscriber: subscriberId, now, gap: gapMs }).changes > 0;
  }

  /** The next due job, taken for `leaseMs`; undefined when none is due. */
  claim(now: number, leaseMs: number): ConfirmationJob | undefined {
    const r = this.claimNext.get({ now, lease: leaseMs });
    return r && { id: r.id, email: r.email, subscriberId: r.subscriber_id, attempts: r.attempts, requestedAt: r.requested_at };
  }

  sent(id: number): void {
    this.markSent.run(id);
  }

  retry(id: number, at: number, error: string): void {
    this.markRetry.run({ id, at, error });
  }

  /** Puts the job off until `at` without spending an attempt (the sending quota is used up). */
  defer(id: number, at: number): void {
    this.markDeferred.run(at, id);
  }

  failed(id: number, error: string): void {
    this.markFailed.run({ id, error });
  }

  /** When the next queued job is due (ms since the epoch), or undefined when none is queued. */
  nextAt(): number | undefined {
    return this.nextDue.get()?.at ?? undefined;
  }

  prune(before: number): number {
    return this.pruneOld.run(before).changes;
  }
}
