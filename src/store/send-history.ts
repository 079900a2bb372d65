// Which issues have gone out, read from the send ledger: sends the scheduler made and sends made by
// hand with `issue send` alike, since both write the same deliveries.
import type { Edition } from '../compose/slots.ts';
import type { Db } from './database.ts';

export interface SendRecord {
  issueId: string;
  /** When a delivery of it last changed. */
  lastActivity: number;
  /** Whether a scheduler slot sent it (otherwise it was sent by hand). */
  scheduled: boolean;
}

/** The edition's issue with the latest delivery activity, if any went out. */
export function lastSend(db: Db, edition: Edition): SendRecord | undefined {
  // Issue ids are "<YYYY-MM-DD>-<edition>".
  const row = db
    .prepare<[string], { issue_id: string; at: number; scheduled: number }>(
      `SELECT d.issue_id, max(d.updated_at) AS at, EXISTS (SELECT 1 FROM slot_runs s WHERE s.issue_id = d.issue_id) AS scheduled
         FROM deliveries d WHERE d.issue_id GLOB '????-??-??-' || ?
        GROUP BY d.issue_id ORDER BY at DESC, d.issue_id DESC LIMIT 1`,
    )
    .get(edition);
  return row && { issueId: row.issue_id, lastActivity: row.at, scheduled: row.scheduled === 1 };
}
