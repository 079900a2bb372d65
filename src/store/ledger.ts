// The send ledger: the truth about who got an issue. One row per (issue, subscriber), written before
// any mail leaves. A row is claimed ('sending') before its message goes out and settled after; a
// row found 'sending' when a sender starts was in flight when the last one died, so it is sent
// again and marked uncertain (it may have arrived twice). Nothing else is ever sent twice.
//
// Every claim and outcome is fenced by the sender's lease: the lease carries a generation number
// that goes up each time anyone takes it, and each write checks it in the same transaction. A
// sender that lost its lease (paused past it, or taken over by a host whose clock runs ahead)
// changes nothing more and learns so at its next write. Only the generation is compared, never a
// clock, so hosts need not agree on the time for this to hold.
import type { Edition } from '../compose/slots.ts';
import type { Db } from './database.ts';
import type { Quota } from './quota.ts';
import type { Transaction } from 'better-sqlite3';

const DELIVERY_STATES = ['queued', 'sending', 'sent', 'failed', 'skipped'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface Delivery {
  subscriberId: number;
  email: string;
  name: string;
  /** The subscriber's keys for signed links ('' once they are removed: such a row is skipped). */
  tokenKey: string;
  unsubscribeKey: string;
  attempts: number;
  uncertain: boolean;
  /** The subscriber's status now: a reader who unsubscribed since the issue was queued is skipped. */
  subscriberStatus: string;
}

export type LedgerCounts = Record<DeliveryState, number> & { uncertain: number; retried: number };

/** Proof of holding an issue's send lease: valid until someone else takes it. */
export interface Lease {
  issueId: string;
  holder: string;
  generation: number;
}

/** A write was refused because the lease passed to another sender: this one must stop at once. */
export class LeaseLost extends Error {
  override name = 'LeaseLost';
  constructor(lease: Lease) {
    super(`the send lease of issue ${lease.issueId} was taken over by another sender`);
  }
}

/** One reader who did not simply get the issue, for `issue status --failed`. */
export interface DeliveryProblem {
  email: string;
  state: 'failed' | 'skipped' | 'queued' | 'sending';
  uncertain: boolean;
  attempts: number;
  /** The last error: the server's words, or why the copy is uncertain. */
  error: string | null;
  /** The server refused the address for good when the issue was sent, and it was marked bounced. */
  bounced: boolean;
}

/** What became of a claim: taken; no longer queued (settled or taken elsewhere); or held back by the sending quota until a time. */
export type Claim = { claimed: true } | { claimed: false; quotaUntil?: number };

/** Readers `issue send --retry` sends to again: those whose row failed, or whose copy is uncertain. */
export type RetryKind = 'failed' | 'uncertain';

export interface Ledger {
  /** Queues every active subscriber of the edition not queued yet; returns how many were added. */
  enqueue(issueId: string, edition: Edition, now: number): number;
  /** Rows left 'sending' by a sender that died: back to the queue, marked uncertain. */
  recoverInFlight(lease: Lease, now: number): number;
  /** Up to `limit` rows due at `now` (still 'queued': nothing is marked until a message is about to go). */
  due(issueId: string, limit: number, now: number): Delivery[];
  /**
   * In one transaction, fenced by the lease: records how the previous message went (if any) and
   * claims the next row (if any) just before its message goes out, counting it against the sending
   * quota. Says whether the claim succeeded, or until when the quota holds it back. Throws LeaseLost
   * when the lease has passed on.
   */
  step(lease: Lease, settled: { subscriberId: number; outcome: Outcome } | undefined, next: number | undefined, now: number): Claim;
  /**
   * Queues again, once, the rows of readers still active that failed (`failed`) or whose copy is
   * uncertain and was not re-sent before (`uncertain`); returns how many.
   */
  requeue(lease: Lease, kind: RetryKind, now: number): number;
  /** Records that the run stopped for the quota until `until` (0: not paused). */
  pause(lease: Lease, until: number): void;
  /** Until when the issue's send is paused by the quota, if it is. */
  pausedUntil(issueId: string): number | undefined;
  /**
   * Issues sent by hand (no scheduler slot) that the quota paused until `now` or earlier, with rows
   * still queued and nobody holding their lease: for a running scheduler to finish.
   */
  pausedByHand(now: number): string[];
  /** When the next row waiting for a retry becomes due, if any. */
  nextRetry(issueId: string): number | undefined;
  counts(issueId: string): LedgerCounts;
  /** Every reader not (yet) sent: failed, skipped, still queued or in flight. */
  problems(issueId: string): DeliveryProblem[];
  /** Whether the issue has started going out (any row at all): such an issue is never rebuilt. */
  hasDeliveries(issueId: string): boolean;
  /** Takes the issue's send lease (a new generation), or says who holds it. */
  acquire(issueId: string, holder: string, now: number, leaseMs: number): { ok: true; lease: Lease } | { ok: false; holder: string; expiresAt: number };
  /** Extends the lease; false when it was taken over (the caller must stop sending). */
  renew(lease: Lease, now: number, leaseMs: number): boolean;
  release(lease: Lease): void;
}

export type Outcome =
  | { state: 'sent' }
  | { state: 'skipped'; reason: string }
  /** Refused for good; `bounce` also marks the address bounced, in the same transaction. */
  | { state: 'failed'; error: string; bounce?: boolean }
  | { state: 'retry'; error: string; at: number }
  /** Its fate is unknown (stopped or cut off mid-message): queued again and marked, it may arrive twice. */
  | { state: 'uncertain'; error: string }
  /** Nothing left for it (the run failed before the message went): queued again as it was. */
  | { state: 'unsent' };

export interface SqliteLedgerOptions {
  /** Marks an address bounced; called inside the transaction that records the refusal (the server's words in `error`). */
  bounce?: (subscriberId: number, now: number, refusal: { issueId: string; error: string }) => void;
  /** The sending quota, checked and counted in the transaction of each claim. */
  quota?: Quota;
}

type Settled = { subscriberId: number; outcome: Outcome };

/** Why a row a sender left in flight is uncertain. */
export const IN_FLIGHT_AT_STOP = 'in flight when an earlier run ended: it may have arrived';

export class SqliteLedger implements Ledger {
  private readonly stepTx: Transaction<(lease: Lease, settled: Settled | undefined, next: number | undefined, now: number) => Claim>;
  private readonly dueStmt;
  private readonly leaseStmt;
  private readonly claimStmt;
  private readonly settleStmts;

  constructor(private readonly db: Db, private readonly options: SqliteLedgerOptions = {}) {
    this.dueStmt = db.prepare<[string, number, number], { subscriber_id: number; email: string; attempts: number; uncertain: number; name: string | null; status: string | null; token_key: string | null; unsubscribe_key: string | null }>(
      `SELECT d.subscriber_id, d.email, d.attempts, d.uncertain, s.name, s.status, s.token_key, s.unsubscribe_key
         FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
        WHERE d.issue_id = ? AND d.status = 'queued' AND d.retry_at <= ?
        ORDER BY d.subscriber_id LIMIT ?`,
    );
    this.leaseStmt = db.prepare<[string, string, number], { x: number }>('SELECT 1 AS x FROM send_locks WHERE issue_id = ? AND holder = ? AND generation = ?');
    // Only a row still queued, of a reader still active, is claimed: a row read in an earlier batch
    // may have moved on since, and its reader may have unsubscribed (the next read skips the row).
    this.claimStmt = db.prepare(
      `UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = @now WHERE issue_id = @issue AND subscriber_id = @id AND status = 'queued'
          AND EXISTS (SELECT 1 FROM subscribers WHERE id = @id AND status = 'active')`,
    );
    const where = `updated_at = @now WHERE issue_id = @issue AND subscriber_id = @id AND status = 'sending'`;
    this.settleStmts = {
      // An uncertain copy keeps why it is uncertain, for `issue status --failed`.
      sent: db.prepare(`UPDATE deliveries SET status = 'sent', error = CASE WHEN uncertain = 1 THEN error END, ${where}`),
      skipped: db.prepare(`UPDATE deliveries SET status = 'skipped', error = @error, updated_at = @now WHERE issue_id = @issue AND subscriber_id = @id AND status = 'queued'`),
      failed: db.prepare(`UPDATE deliveries SET status = 'failed', error = @error, ${where}`),
      retry: db.prepare(`UPDATE deliveries SET status = 'queued', error = @error, retry_at = @at, ${where}`),
      uncertain: db.prepare(`UPDATE deliveries SET status = 'queued', uncertain = 1, error = @error, ${where}`),
      unsent: db.prepare(`UPDATE deliveries SET status = 'queued', attempts = max(attempts - 1, 0), ${where}`),
    };
    this.stepTx = db.transaction((lease: Lease, settled: Settled | undefined, next: number | undefined, now: number) => {
      if (!this.leaseStmt.get(lease.issueId, lease.holder, lease.generation)) throw new LeaseLost(lease);
      if (settled) this.settle(lease.issueId, settled, now);
      if (next === undefined) return { claimed: false };
      const quotaUntil = this.options.quota?.blockedUntil();
      if (quotaUntil !== undefined) return { claimed: false, quotaUntil };
      if (this.claimStmt.run({ now, issue: lease.issueId, id: next }).changes !== 1) return { claimed: false };
      this.options.quota?.record();
      return { claimed: true };
    });
  }

  enqueue(issueId: string, edition: Edition, now: number): number {
    // One statement, however long the list: nothing is held in memory.
    return this.db
      .prepare(
        `INSERT OR IGNORE INTO deliveries (issue_id, subscriber_id, email, status, updated_at)
         SELECT ?, s.id, s.email, 'queued', ? FROM subscriber_editions e JOIN subscribers s ON s.id = e.subscriber_id
         WHERE e.edition = ? AND s.status = 'active'`,
      )
      .run(issueId, now, edition).changes;
  }

  recoverInFlight(lease: Lease, now: number): number {
    return this.db.transaction(() => {
      if (!this.leaseStmt.get(lease.issueId, lease.holder, lease.generation)) throw new LeaseLost(lease);
      return this.db
        .prepare(`UPDATE deliveries SET status = 'queued', uncertain = 1, error = ?, updated_at = ? WHERE issue_id = ? AND status = 'sending'`)
        .run(IN_FLIGHT_AT_STOP, now, lease.issueId).changes;
    }).immediate();
  }

  due(issueId: string, limit: number, now: number): Delivery[] {
    const rows = this.dueStmt.all(issueId, now, limit);
    return rows.map((r) => ({
      subscriberId: r.subscriber_id,
      email: r.email,
      name: r.name ?? '',
      tokenKey: r.token_key ?? '',
      unsubscribeKey: r.unsubscribe_key ?? '',
      attempts: r.attempts + 1,
      uncertain: r.uncertain === 1,
      subscriberStatus: r.status ?? 'removed',
    }));
  }

  step(lease: Lease, settled: Settled | undefined, next: number | undefined, now: number): Claim {
    // IMMEDIATE: the lease is read before the row is written. A deferred transaction would hold a
    // read snapshot and then fail at once with SQLITE_BUSY, without waiting, whenever another
    // process (the server recording an unsubscribe, an import) is writing at that moment.
    return this.stepTx.immediate(lease, settled, next, now);
  }

  private settle(issueId: string, { subscriberId, outcome }: Settled, now: number): void {
    const key = { now, issue: issueId, id: subscriberId };
    switch (outcome.state) {
      case 'sent':
        this.settleStmts.sent.run(key);
        break;
      case 'skipped':
        this.settleStmts.skipped.run({ ...key, error: outcome.reason });
        break;
      case 'failed':
        if (this.settleStmts.failed.run({ ...key, error: outcome.error }).changes === 1 && outcome.bounce) this.options.bounce?.(subscriberId, now, { issueId, error: outcome.error });
        break;
      case 'retry':
        this.settleStmts.retry.run({ ...key, error: outcome.error, at: outcome.at });
        break;
      case 'uncertain':
        this.settleStmts.uncertain.run({ ...key, error: outcome.error });
        break;
      case 'unsent':
        this.settleStmts.unsent.run(key);
        break;
    }
  }

  requeue(lease: Lease, kind: RetryKind, now: number): number {
    const which = kind === 'failed' ? `status = 'failed'` : `status = 'sent' AND uncertain = 1 AND retried_at IS NULL`;
    return this.db.transaction(() => {
      if (!this.leaseStmt.get(lease.issueId, lease.holder, lease.generation)) throw new LeaseLost(lease);
      // A reader who unsubscribed, bounced or complained since is not written to again.
      return this.db
        .prepare(
          `UPDATE deliveries SET status = 'queued', attempts = 0, retry_at = 0, retried_at = @now, updated_at = @now
            WHERE issue_id = @issue AND ${which} AND EXISTS (SELECT 1 FROM subscribers WHERE id = deliveries.subscriber_id AND status = 'active')`,
        )
        .run({ now, issue: lease.issueId }).changes;
    }).immediate();
  }

  pause(lease: Lease, until: number): void {
    this.db.prepare('UPDATE send_locks SET paused_until = ? WHERE issue_id = ? AND holder = ? AND generation = ?').run(until, lease.issueId, lease.holder, lease.generation);
  }

  pausedUntil(issueId: string): number | undefined {
    const row = this.db.prepare<[string], { at: number }>('SELECT paused_until AS at FROM send_locks WHERE issue_id = ?').get(issueId);
    return row && row.at > 0 ? row.at : undefined;
  }

  pausedByHand(now: number): string[] {
    return this.db
      .prepare<[number, number], { issue_id: string }>(
        `SELECT l.issue_id FROM send_locks l
          WHERE l.paused_until > 0 AND l.paused_until <= ? AND l.expires_at < ?
            AND EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = l.issue_id AND d.status = 'queued')
            AND NOT EXISTS (SELECT 1 FROM slot_runs s WHERE s.issue_id = l.issue_id)
          ORDER BY l.paused_until`,
      )
      .all(now, now)
      .map((r) => r.issue_id);
  }

  nextRetry(issueId: string): number | undefined {
    const row = this.db
      .prepare<[string], { at: number | null }>(`SELECT min(retry_at) AS at FROM deliveries WHERE issue_id = ? AND status = 'queued'`)
      .get(issueId);
    return row?.at ?? undefined;
  }

  counts(issueId: string): LedgerCounts {
    const counts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0, uncertain: 0, retried: 0 } as LedgerCounts;
    const rows = this.db
      .prepare<[string], { status: DeliveryState; n: number; uncertain: number; retried: number }>(
        `SELECT status, count(*) AS n, sum(uncertain) AS uncertain, sum(attempts > 1) AS retried FROM deliveries WHERE issue_id = ? GROUP BY status`,
      )
      .all(issueId);
    for (const r of rows) {
      counts[r.status] = r.n;
      counts.uncertain += r.uncertain;
      counts.retried += r.retried;
    }
    return counts;
  }

  problems(issueId: string): DeliveryProblem[] {
    // A refusal that bounced the address is in the reader's history under its own report id (recordRefusal, store/mail-events.ts).
    return this.db
      .prepare<[string], { email: string; status: DeliveryProblem['state']; uncertain: number; attempts: number; error: string | null; bounced: number }>(
        `SELECT d.email, d.status, d.uncertain, d.attempts, d.error,
                d.status = 'failed' AND EXISTS (SELECT 1 FROM mail_events e WHERE e.report_id = 'refused:' || d.issue_id || ':' || d.subscriber_id) AS bounced
           FROM deliveries d
          WHERE d.issue_id = ? AND (d.status <> 'sent' OR d.uncertain = 1) ORDER BY d.status, d.email`,
      )
      .all(issueId)
      .map((r) => ({ email: r.email, state: r.status, uncertain: r.uncertain === 1, attempts: r.attempts, error: r.error, bounced: r.bounced === 1 }));
  }

  hasDeliveries(issueId: string): boolean {
    return this.db.prepare<[string], { x: number }>('SELECT 1 AS x FROM deliveries WHERE issue_id = ? LIMIT 1').get(issueId) !== undefined;
  }

  acquire(issueId: string, holder: string, now: number, leaseMs: number): { ok: true; lease: Lease } | { ok: false; holder: string; expiresAt: number } {
    return this.db.transaction(() => {
      const current = this.db
        .prepare<[string], { holder: string; expires_at: number; generation: number }>('SELECT holder, expires_at, generation FROM send_locks WHERE issue_id = ?')
        .get(issueId);
      if (current && current.holder !== holder && current.expires_at > now) {
        return { ok: false as const, holder: current.holder, expiresAt: current.expires_at };
      }
      // A new generation every time, even for the same holder: whoever held it before is fenced out.
      const generation = (current?.generation ?? 0) + 1;
      this.db
        .prepare(
          'INSERT INTO send_locks (issue_id, holder, expires_at, generation) VALUES (?, ?, ?, ?) ON CONFLICT (issue_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, generation = excluded.generation, paused_until = 0',
        )
        .run(issueId, holder, now + leaseMs, generation);
      return { ok: true as const, lease: { issueId, holder, generation } };
    }).immediate(); // read-then-write under contention: wait for the lock rather than fail
  }

  renew(lease: Lease, now: number, leaseMs: number): boolean {
    return this.db.prepare('UPDATE send_locks SET expires_at = ? WHERE issue_id = ? AND holder = ? AND generation = ?').run(now + leaseMs, lease.issueId, lease.holder, lease.generation).changes === 1;
  }

  release(lease: Lease): void {
    // The row stays (expired) so that the generation only ever goes up.
    this.db.prepare('UPDATE send_locks SET expires_at = 0 WHERE issue_id = ? AND holder = ? AND generation = ?').run(lease.issueId, lease.holder, lease.generation);
  }
}

/**
 * A removed subscriber: the ledger keeps each issue's counts but not the address. Rows still
 * queued are cancelled (skipped, "removed"); a row in flight keeps its state so the sender can
 * settle it, without the address.
 */
export function forgetDeliveries(db: Db, subscriberId: number): void {
  db.prepare(`UPDATE deliveries SET email = '', status = CASE WHEN status = 'queued' THEN 'skipped' ELSE status END,
                error = CASE WHEN status = 'queued' THEN 'removed' ELSE error END WHERE subscriber_id = ?`).run(subscriberId);
}
