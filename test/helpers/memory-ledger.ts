// The send ledger in memory, with the same contract as SqliteLedger: a lease with a generation that
// every claim and outcome checks, claims only of queued rows of active readers, outcomes only of rows in flight, and
// the bounce written with the refusal. Send-loop tests script faults against it; the same checks
// also run once against SqliteLedger so that the two cannot drift apart.
import type { Edition } from '../../src/compose/slots.ts';
import { IN_FLIGHT_AT_STOP, LeaseLost, type Claim, type Delivery, type DeliveryProblem, type DeliveryState, type Lease, type Ledger, type LedgerCounts, type Outcome, type RetryKind } from '../../src/store/ledger.ts';
import type { Quota } from '../../src/store/quota.ts';

export interface MemoryRow {
  subscriberId: number;
  email: string;
  status: DeliveryState;
  attempts: number;
  uncertain: boolean;
  retryAt: number;
  error: string | null;
  retried: boolean;
}

export interface MemoryReader {
  id: number;
  email: string;
  status: 'active' | 'unsubscribed' | 'bounced';
}

export class MemoryLedger implements Ledger {
  readonly rows = new Map<number, MemoryRow>();
  lock: { holder: string; expiresAt: number; generation: number; pausedUntil: number } | undefined;

  /** `quota`: checked and counted with each claim, as SqliteLedger does in its transaction. */
  constructor(readonly readers: MemoryReader[], readonly quota?: Quota) {}

  enqueue(_issueId: string, _edition: Edition, _now: number): number {
    let added = 0;
    for (const r of this.readers) {
      if (r.status !== 'active' || this.rows.has(r.id)) continue;
      this.rows.set(r.id, { subscriberId: r.id, email: r.email, status: 'queued', attempts: 0, uncertain: false, retryAt: 0, error: null, retried: false });
      added++;
    }
    return added;
  }

  private fence(lease: Lease): void {
    if (!this.lock || this.lock.holder !== lease.holder || this.lock.generation !== lease.generation) throw new LeaseLost(lease);
  }

  recoverInFlight(lease: Lease, _now: number): number {
    this.fence(lease);
    let n = 0;
    for (const r of this.rows.values()) {
      if (r.status === 'sending') {
        r.status = 'queued';
        r.uncertain = true;
        r.error = IN_FLIGHT_AT_STOP;
        n++;
      }
    }
    return n;
  }

  due(_issueId: string, limit: number, now: number): Delivery[] {
    const out: Delivery[] = [];
    for (const r of [...this.rows.values()].sort((a, b) => a.subscriberId - b.subscriberId)) {
      if (out.length >= limit) break;
      if (r.status !== 'queued' || r.retryAt > now) continue;
      const reader = this.readers.find((x) => x.id === r.subscriberId);
      out.push({ subscriberId: r.subscriberId, email: r.email, name: '', attempts: r.attempts + 1, uncertain: r.uncertain, subscriberStatus: reader?.status ?? 'removed', tokenKey: `t${r.subscriberId}`, unsubscribeKey: `u${r.subscriberId}` });
    }
    return out;
  }

  step(lease: Lease, settled: { subscriberId: number; outcome: Outcome } | undefined, next: number | undefined, _now: number): Claim {
    this.fence(lease);
    if (settled) this.settle(settled.subscriberId, settled.outcome);
    if (next === undefined) return { claimed: false };
    const quotaUntil = this.quota?.blockedUntil();
    if (quotaUntil !== undefined) return { claimed: false, quotaUntil };
    const row = this.rows.get(next);
    if (!row || row.status !== 'queued') return { claimed: false };
    // As in SqliteLedger: a reader who left since the batch was read is not claimed.
    if (this.readers.find((x) => x.id === next)?.status !== 'active') return { claimed: false };
    row.status = 'sending';
    row.attempts++;
    this.quota?.record();
    return { claimed: true };
  }

  requeue(lease: Lease, kind: RetryKind, _now: number): number {
    this.fence(lease);
    let n = 0;
    for (const r of this.rows.values()) {
      const wanted = kind === 'failed' ? r.status === 'failed' : r.status === 'sent' && r.uncertain && !r.retried;
      if (!wanted || this.readers.find((x) => x.id === r.subscriberId)?.status !== 'active') continue;
      Object.assign(r, { status: 'queued', attempts: 0, retryAt: 0, retried: true });
      n++;
    }
    return n;
  }

  pause(lease: Lease, until: number): void {
    if (this.lock && this.lock.holder === lease.holder && this.lock.generation === lease.generation) this.lock.pausedUntil = until;
  }

  pausedByHand(_now: number): string[] {
    return [];
  }

  pausedUntil(_issueId: string): number | undefined {
    return this.lock?.pausedUntil || undefined;
  }

  private settle(id: number, outcome: Outcome): void {
    const row = this.rows.get(id);
    if (!row) return;
    if (outcome.state === 'skipped') {
      if (row.status === 'queued') Object.assign(row, { status: 'skipped', error: outcome.reason });
      return;
    }
    if (row.status !== 'sending') return;
    switch (outcome.state) {
      case 'sent':
        Object.assign(row, { status: 'sent', error: row.uncertain ? row.error : null });
        break;
      case 'failed':
        Object.assign(row, { status: 'failed', error: outcome.error });
        if (outcome.bounce) {
          const reader = this.readers.find((x) => x.id === id);
          if (reader) reader.status = 'bounced';
        }
        break;
      case 'retry':
        Object.assign(row, { status: 'queued', error: outcome.error, retryAt: outcome.at });
        break;
      case 'uncertain':
        Object.assign(row, { status: 'queued', uncertain: true, error: outcome.error });
        break;
      case 'unsent':
        Object.assign(row, { status: 'queued', attempts: Math.max(row.attempts - 1, 0) });
        break;
    }
  }

  nextRetry(_issueId: string): number | undefined {
    const queued = [...this.rows.values()].filter((r) => r.status === 'queued');
    return queued.length ? Math.min(...queued.map((r) => r.retryAt)) : undefined;
  }

  counts(_issueId: string): LedgerCounts {
    const c = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0, uncertain: 0, retried: 0 } as LedgerCounts;
    for (const r of this.rows.values()) {
      c[r.status]++;
      if (r.uncertain) c.uncertain++;
      if (r.attempts > 1) c.retried++;
    }
    return c;
  }

  problems(_issueId: string): DeliveryProblem[] {
    return [...this.rows.values()]
      .filter((r) => r.status !== 'sent' || r.uncertain)
      .map((r) => ({ email: r.email, state: r.status as DeliveryProblem['state'], uncertain: r.uncertain, attempts: r.attempts, error: r.error, bounced: false }));
  }

  hasDeliveries(_issueId: string): boolean {
    return this.rows.size > 0;
  }

  acquire(issueId: string, holder: string, now: number, leaseMs: number): { ok: true; lease: Lease } | { ok: false; holder: string; expiresAt: number } {
    if (this.lock && this.lock.holder !== holder && this.lock.expiresAt > now) return { ok: false, holder: this.lock.holder, expiresAt: this.lock.expiresAt };
    this.lock = { holder, expiresAt: now + leaseMs, generation: (this.lock?.generation ?? 0) + 1, pausedUntil: 0 };
    return { ok: true, lease: { issueId, holder, generation: this.lock.generation } };
  }

  renew(lease: Lease, now: number, leaseMs: number): boolean {
    if (!this.lock || this.lock.holder !== lease.holder || this.lock.generation !== lease.generation) return false;
    this.lock.expiresAt = now + leaseMs;
    return true;
  }

  release(lease: Lease): void {
    if (this.lock && this.lock.holder === lease.holder && this.lock.generation === lease.generation) this.lock.expiresAt = 0;
  }
}
