// Slots the scheduler has run or is running. A slot is claimed with a lease; the holder renews it
// while it works. Another scheduler takes a slot over only when the lease has lapsed (or its holder's
// process is known to be gone), so two schedulers never run one slot at once.
import type { Edition } from '../compose/slots.ts';
import type { Db } from './database.ts';

export type SlotState = 'running' | 'done' | 'empty' | 'skipped';

export interface SlotRun {
  slot: string;
  edition: Edition;
  scheduledAt: number;
  state: SlotState;
  issueId: string | null;
  holder: string | null;
  leaseUntil: number;
  detail: string | null;
  updatedAt: number;
}

interface Row {
  slot: string;
  edition: Edition;
  scheduled_at: number;
  state: SlotState;
  issue_id: string | null;
  holder: string | null;
  lease_until: number;
  detail: string | null;
  updated_at: number;
}

const fromRow = (r: Row): SlotRun => ({
  slot: r.slot,
  edition: r.edition,
  scheduledAt: r.scheduled_at,
  state: r.state,
  issueId: r.issue_id,
  holder: r.holder,
  leaseUntil: r.lease_until,
  detail: r.detail,
  updatedAt: r.updated_at,
});

export function slotKey(edition: Edition, at: number): string {
  return `${edition}@${new Date(at).toISOString()}`;
}

export class SlotStore {
  constructor(private readonly db: Db) {}

  get(slot: string): SlotRun | undefined {
    const row = this.db.prepare<[string], Row>('SELECT * FROM slot_runs WHERE slot = ?').get(slot);
    return row && fromRow(row);
  }

  /**
   * Claims the slot for `holder`. 'finished' when it already ran to an end; 'busy' when another
   * live holder has it.
   */
  claim(edition: Edition, at: number, holder: string, now: number, leaseMs: number, holderAlive: (h: string) => boolean): 'claimed' | 'finished' | 'busy' {
    const slot = slotKey(edition, at);
    return this.db.transaction(() => {
      const current = this.get(slot);
      if (current && current.state !== 'running') return 'finished' as const;
      if (current && current.holder && current.holder !== holder && current.leaseUntil > now && holderAlive(current.holder)) return 'busy' as const;
      this.db
        .prepare(
          `INSERT INTO slot_runs (slot, edition, scheduled_at, state, holder, lease_until, updated_at) VALUES (?, ?, ?, 'running', ?, ?, ?)
           ON CONFLICT (slot) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until, updated_at = excluded.updated_at`,
        )
        .run(slot, edition, at, holder, now + leaseMs, now);
      return 'claimed' as const;
      // IMMEDIATE: this reads then writes, and two schedulers race for it; a deferred transaction
      // would fail at once with SQLITE_BUSY instead of waiting its turn.
    }).immediate();
  }

  renew(slot: string, holder: string, now: number, leaseMs: number): void {
    this.db.prepare('UPDATE slot_runs SET lease_until = ?, updated_at = ? WHERE slot = ? AND holder = ?').run(now + leaseMs, now, slot, holder);
  }

  /** Gives the slot up unfinished (a shutdown): another scheduler, or this one restarted, resumes it. */
  release(slot: string, holder: string, now: number): void {
    this.db.prepare('UPDATE slot_runs SET lease_until = 0, holder = NULL, updated_at = ? WHERE slot = ? AND holder = ?').run(now, slot, holder);
  }

  /**
   * Gives the slot up until `until` (its send paused by the sending quota): no scheduler takes it
   * before then, and any takes it after, however late (its issue has started going out).
   */
  pause(slot: string, holder: string, until: number, issueId: string, detail: string, now: number): void {
    this.db
      .prepare('UPDATE slot_runs SET lease_until = ?, holder = NULL, issue_id = ?, detail = ?, updated_at = ? WHERE slot = ? AND holder = ?')
      .run(until, issueId, detail, now, slot, holder);
  }

  finish(slot: string, state: Exclude<SlotState, 'running'>, issueId: string | null, detail: string, now: number): void {
    this.db.prepare('UPDATE slot_runs SET state = ?, issue_id = ?, detail = ?, lease_until = 0, updated_at = ? WHERE slot = ?').run(state, issueId, detail, now, slot);
  }

  /** Records a slot that was missed beyond the catch-up window (unless it already has a record). */
  skip(edition: Edition, at: number, detail: string, now: number): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO slot_runs (slot, edition, scheduled_at, state, detail, updated_at) VALUES (?, ?, ?, 'skipped', ?, ?)`)
      .run(slotKey(edition, at), edition, at, detail, now);
  }

  setIssue(slot: string, issueId: string): void {
    this.db.prepare('UPDATE slot_runs SET issue_id = ? WHERE slot = ?').run(issueId, slot);
  }

  /** Unfinished slots whose holder's lease has lapsed: candidates to resume. */
  stalled(now: number): SlotRun[] {
    return this.db.prepare<[number], Row>(`SELECT * FROM slot_runs WHERE state = 'running' AND lease_until < ? ORDER BY scheduled_at`).all(now).map(fromRow);
  }

  last(edition: Edition): SlotRun | undefined {
    const row = this.db.prepare<[string], Row>('SELECT * FROM slot_runs WHERE edition = ? ORDER BY scheduled_at DESC LIMIT 1').get(edition);
    return row && fromRow(row);
  }
}
