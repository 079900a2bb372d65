// The send ledger: the truth about who got an issue. One row per (issue, subscriber), written before
// any mail leaves. A row is claimed ('sending') before its message goes out and settled after; a
// row found 'sending' when a sender starts was in flight when the last one died, so it is sent
// again and marked uncertain (it may have arrived twice). Nothing else is ever sent twice.
import type { Edition } from '../compose/slots.ts';
import type { Db } from './database.ts';

export const DELIVERY_STATES = ['queued', 'sending', 'sent', 'failed', 'skipped'] as const;
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

export interface Ledger {
  /** Queues every active subscriber of the edition not queued yet; returns how many were added. */
  enqueue(issueId: string, edition: Edition, now: number): number;
  /** Rows left 'sending' by a sender that died: back to the queue, marked uncertain. */
  recoverInFlight(issueId: string, now: number): number;
  /** Up to `limit` rows due now (still 'queued': nothing is marked until a message is about to go). */
  due(issueId: string, limit: number, now: number): Delivery[];
  /**
   * In one transaction: records how the previous message went (if any) and marks the next row
   * 'sending' (if any) just before its message goes out.
   */
  step(issueId: string, settled: { subscriberId: number; outcome: Outcome } | undefined, next: number | undefined, now: number): void;
  /** When the next row waiting for a retry becomes due, if any. */
  nextRetry(issueId: string): number | undefined;
  counts(issueId: string): LedgerCounts;
  /** Whether the issue has started going out (any row at all): such an issue is never rebuilt. */
  hasDeliveries(issueId: string): boolean;
  /** Takes the issue's send lease, or says who holds it. */
  acquire(issueId: string, holder: string, now: number, leaseMs: number): { ok: true } | { ok: false; holder: string; expiresAt: number };
  renew(issueId: string, holder: string, now: number, leaseMs: number): void;
  release(issueId: string, holder: string): void;
}

export type Outcome =
  | { state: 'sent' }
  | { state: 'skipped'; reason: string }
  | { state: 'failed'; error: string; bounce?: boolean }
  | { state: 'retry'; error: string; at: number };

export class SqliteLedger implements Ledger {
  private readonly beginStmt;
  private readonly stepTx: (issueId: string, settled: { subscriberId: number; outcome: Outcome } | undefined, next: number | undefined, now: number) => void;
  private readonly dueStmt;
  private readonly settleStmts;

  constructor(private readonly db: Db) {
    this.dueStmt = db.prepare<[string, number, number], { subscriber_id: number; email: string; attempts: number; uncertain: number; name: string | null; status: string | null; token_key: string | null; unsubscribe_key: string | null }>(
      `SELECT d.subscriber_id, d.email, d.attempts, d.uncertain, s.name, s.status, s.token_key, s.unsubscribe_key
         FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
        WHERE d.issue_id = ? AND d.status = 'queued' AND d.retry_at <= ?
        ORDER BY d.subscriber_id LIMIT ?`,
    );
    this.beginStmt = db.prepare(`UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = ? WHERE issue_id = ? AND subscriber_id = ?`);
    const where = 'updated_at = @now WHERE issue_id = @issue AND subscriber_id = @id';
    this.settleStmts = {
      sent: db.prepare(`UPDATE deliveries SET status = 'sent', error = NULL, ${where}`),
      skipped: db.prepare(`UPDATE deliveries SET status = 'skipped', error = @error, ${where}`),
      failed: db.prepare(`UPDATE deliveries SET status = 'failed', error = @error, ${where}`),
      retry: db.prepare(`UPDATE deliveries SET status = 'queued', error = @error, retry_at = @at, ${where}`),
    };
    this.stepTx = db.transaction((issueId: string, settled: { subscriberId: number; outcome: Outcome } | undefined, next: number | undefined, now: number) => {
      if (settled) this.settle(issueId, settled.subscriberId, settled.outcome, now);
      if (next !== undefined) this.beginStmt.run(now, issueId, next);
    });
  }

  enqueue(issueId: string, edition: Edition, now: number): number {
    const flag = edition === 'midweek' ? 'midweek' : 'sunday';
    // One statement, however long the list: nothing is held in memory.
    return this.db
      .prepare(
        `INSERT OR IGNORE INTO deliveries (issue_id, subscriber_id, email, status, updated_at)
         SELECT ?, id, email, 'queued', ? FROM subscribers WHERE status = 'active' AND ${flag} = 1`,
      )
      .run(issueId, now).changes;
  }

  recoverInFlight(issueId: string, now: number): number {
    return this.db
      .prepare(`UPDATE deliveries SET status = 'queued', uncertain = 1, updated_at = ? WHERE issue_id = ? AND status = 'sending'`)
      .run(now, issueId).changes;
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

  step(issueId: string, settled: { subscriberId: number; outcome: Outcome } | undefined, next: number | undefined, now: number): void {
    if (!settled && next === undefined) return;
    this.stepTx(issueId, settled, next, now);
  }


  private settle(issueId: string, subscriberId: number, outcome: Outcome, now: number): void {
    const key = { now, issue: issueId, id: subscriberId };
    switch (outcome.state) {
      case 'sent':
        this.settleStmts.sent.run(key);
        break;
      case 'skipped':
        this.settleStmts.skipped.run({ ...key, error: outcome.reason });
        break;
      case 'failed':
        this.settleStmts.failed.run({ ...key, error: outcome.error });
        break;
      case 'retry':
        this.settleStmts.retry.run({ ...key, error: outcome.error, at: outcome.at });
        break;
    }
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

  hasDeliveries(issueId: string): boolean {
    return this.db.prepare<[string], { x: number }>('SELECT 1 AS x FROM deliveries WHERE issue_id = ? LIMIT 1').get(issueId) !== undefined;
  }

  acquire(issueId: string, holder: string, now: number, leaseMs: number): { ok: true } | { ok: false; holder: string; expiresAt: number } {
    return this.db.transaction(() => {
      const current = this.db
        .prepare<[string], { holder: string; expires_at: number }>('SELECT holder, expires_at FROM send_locks WHERE issue_id = ?')
        .get(issueId);
      if (current && current.holder !== holder && current.expires_at > now) {
        return { ok: false as const, holder: current.holder, expiresAt: current.expires_at };
      }
      this.db
        .prepare('INSERT INTO send_locks (issue_id, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (issue_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at')
        .run(issueId, holder, now + leaseMs);
      return { ok: true as const };
    }).immediate(); // read-then-write under contention: wait for the lock rather than fail
  }

  renew(issueId: string, holder: string, now: number, leaseMs: number): void {
    this.db.prepare('UPDATE send_locks SET expires_at = ? WHERE issue_id = ? AND holder = ?').run(now + leaseMs, issueId, holder);
  }

  release(issueId: string, holder: string): void {
    this.db.prepare('DELETE FROM send_locks WHERE issue_id = ? AND holder = ?').run(issueId, holder);
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
