// What came back from readers' mail systems, kept one row per report: bounces, complaints and mailto
// unsubscribes with their issue, code and text, and reports that were ignored with the reason. Each
// verdict is applied here in one transaction with its effect on the reader, so a report fed in twice
// (a replay, an mbox imported again) counts once.
import type { Db } from './database.ts';
import { hasLeft, type SubscriberStatus, type SubscriberStore } from './subscribers.ts';

export type EventKind = 'hard' | 'soft' | 'complaint' | 'unsubscribe';

/** What the classifier (mail/bounce-classify.ts) made of one report. */
export type Verdict =
  | { kind: EventKind; subscriber: number; issueId: string; code: string; text: string; reportId: string }
  | { kind: 'ignored'; reason: string; reportId: string; subscriber?: number; issueId?: string };

export type RecordedKind = EventKind | 'ignored';

export interface MailEvent {
  receivedAt: number;
  subscriberId: number | null;
  issueId: string | null;
  kind: RecordedKind;
  code: string;
  text: string;
  reportId: string;
}

export interface BounceRules {
  /** Soft bounces within the window that make a reader bounced. */
  softLimit: number;
  softWindowDays: number;
}

/** What one report did: what was recorded, and the reader's status before and after when it changed. */
export interface Intake {
  kind: RecordedKind;
  /** For an ignored report, why; otherwise the event's text. */
  text: string;
  subscriberId: number | null;
  issueId: string | null;
  changed?: { from: string; to: string };
}

export type IssueEventCounts = Record<EventKind, number>;

interface Row {
  received_at: number;
  subscriber_id: number | null;
  issue_id: string | null;
  kind: RecordedKind;
  code: string;
  text: string;
  report_id: string;
}

const DAY_MS = 86_400_000;

export class MailEvents {
  constructor(
    private readonly db: Db,
    private readonly subscribers: SubscriberStore,
    private readonly rules: BounceRules,
  ) {}

  /** Records the verdict on one report and applies its effect on the reader. */
  apply(verdict: Verdict, now: number): Intake {
    return this.subscribers.transaction(() => {
      const earlier = this.db.prepare<[string], { received_at: number }>('SELECT received_at FROM mail_events WHERE report_id = ? ORDER BY id LIMIT 1').get(verdict.reportId);
      // A replay is kept off the reader's history: it is the same event again, not a new one.
      if (earlier) return this.ignore({ kind: 'ignored', reason: '', reportId: verdict.reportId }, `replayed: the same report was received on ${new Date(earlier.received_at).toISOString()}`, now);
      if (verdict.kind === 'ignored') return this.ignore(verdict, verdict.reason, now);
      const reader = this.subscribers.get(verdict.subscriber);
      if (!reader) return this.ignore(verdict, 'the reader it names is no longer on the list', now);
      // A report can arrive days after the delivery (a final DSN after the delayed ones, a late
      // complaint); the reader's explicit re-subscription since then is the newer word.
      if (reader.resubscribedAt !== null && this.sentAt(verdict.issueId, reader.id) < reader.resubscribedAt) {
        return this.ignore(verdict, `about an issue sent before the reader re-subscribed on ${new Date(reader.resubscribedAt).toISOString()}`, now);
      }
      this.insert({ receivedAt: now, subscriberId: reader.id, issueId: verdict.issueId, kind: verdict.kind, code: verdict.code, text: verdict.text, reportId: verdict.reportId });
      const to = this.effect(verdict.kind, reader.id, reader.status, now);
      const intake: Intake = { kind: verdict.kind, text: verdict.text, subscriberId: reader.id, issueId: verdict.issueId };
      return to ? { ...intake, changed: { from: reader.status, to } } : intake;
    });
  }

  /** The status the reader moves to, having moved them; undefined when it stays. */
  private effect(kind: EventKind, id: number, status: SubscriberStatus, now: number): string | undefined {
    switch (kind) {
      case 'complaint':
        // Whatever the reader's state, a complaint is kept on them: no import or add brings them back.
        this.subscribers.setStatus(id, 'unsubscribed', now, 'complaint');
        return status === 'unsubscribed' ? undefined : 'unsubscribed';
      case 'unsubscribe':
        if (hasLeft(status)) return undefined;
        this.subscribers.setStatus(id, 'unsubscribed', now, 'mailto');
        return 'unsubscribed';
      case 'hard':
        if (hasLeft(status)) return undefined;
        this.subscribers.setStatus(id, 'bounced', now);
        return 'bounced';
      case 'soft': {
        if (hasLeft(status)) return undefined;
        const since = now - this.rules.softWindowDays * DAY_MS;
        const n = this.db
          .prepare<[number, number], { n: number }>("SELECT count(*) AS n FROM mail_events WHERE subscriber_id = ? AND kind = 'soft' AND received_at > ?")
          .get(id, since)!.n;
        if (n < this.rules.softLimit) return undefined;
        this.subscribers.setStatus(id, 'bounced', now);
        return 'bounced';
      }
    }
  }

  /** When the issue last went to the reader; with no row in the ledger, Infinity: nothing says the report is older. */
  private sentAt(issueId: string, subscriberId: number): number {
    const row = this.db.prepare<[string, number], { updated_at: number }>('SELECT updated_at FROM deliveries WHERE issue_id = ? AND subscriber_id = ?').get(issueId, subscriberId);
    return row?.updated_at ?? Infinity;
  }

  private ignore(verdict: Verdict, reason: string, now: number): Intake {
    const subscriberId = verdict.subscriber ?? null;
    const issueId = verdict.issueId ?? null;
    this.insert({ receivedAt: now, subscriberId, issueId, kind: 'ignored', code: '', text: reason, reportId: verdict.reportId });
    return { kind: 'ignored', text: reason, subscriberId, issueId };
  }

  private insert(e: MailEvent): void {
    this.db
      .prepare('INSERT INTO mail_events (received_at, subscriber_id, issue_id, kind, code, text, report_id) VALUES (@receivedAt, @subscriberId, @issueId, @kind, @code, @text, @reportId)')
      .run(e);
  }

  /** One reader's history, oldest first. */
  forSubscriber(id: number): MailEvent[] {
    return this.db
      .prepare<[number], Row>('SELECT * FROM mail_events WHERE subscriber_id = ? ORDER BY received_at, id')
      .all(id)
      .map((r) => ({ receivedAt: r.received_at, subscriberId: r.subscriber_id, issueId: r.issue_id, kind: r.kind, code: r.code, text: r.text, reportId: r.report_id }));
  }
}

/** Bounces, complaints and mailto unsubscribes per kind for one issue (ignored reports left out). */
export function issueEventCounts(db: Db, issueId: string): IssueEventCounts {
  const counts: IssueEventCounts = { hard: 0, soft: 0, complaint: 0, unsubscribe: 0 };
  for (const r of db.prepare<[string], { kind: RecordedKind; n: number }>("SELECT kind, count(*) AS n FROM mail_events WHERE issue_id = ? AND kind != 'ignored' GROUP BY kind").all(issueId)) {
    if (r.kind !== 'ignored') counts[r.kind] = r.n;
  }
  return counts;
}

/** Above this share of complaints per message sent, mailbox providers (Gmail, Yahoo) start refusing bulk mail. */
export const COMPLAINT_RATE_LIMIT = 0.003;

export interface ComplaintRate {
  issueId: string;
  sent: number;
  complaints: number;
  /** Complaints per message sent (0 when nothing was sent). */
  rate: number;
  flagged: boolean;
}

/** Every issue with at least one complaint, with its rate against the messages it sent. */
export function complaintRates(db: Db): ComplaintRate[] {
  return db
    .prepare<[], { issue_id: string; complaints: number; sent: number }>(
      `SELECT e.issue_id, count(*) AS complaints,
              (SELECT count(*) FROM deliveries d WHERE d.issue_id = e.issue_id AND d.status = 'sent') AS sent
       FROM mail_events e WHERE e.kind = 'complaint' AND e.issue_id IS NOT NULL GROUP BY e.issue_id ORDER BY e.issue_id`,
    )
    .all()
    .map((r) => {
      const rate = r.sent ? r.complaints / r.sent : 0;
      return { issueId: r.issue_id, sent: r.sent, complaints: r.complaints, rate, flagged: rate > COMPLAINT_RATE_LIMIT || (r.sent === 0 && r.complaints > 0) };
    });
}

/**
 * A refusal at send time (5xx at RCPT TO or after the message) as a hard bounce in the reader's history
 * and the issue's counts, so that what `subscribers show` prints explains every bounce. The ledger's
 * bounce hook calls it in the transaction that marks the address.
 */
export function recordRefusal(db: Db, subscriberId: number, issueId: string, error: string, now: number): void {
  const code = /\b[245]\.\d{1,3}\.\d{1,3}\b/.exec(error)?.[0] ?? /\b[45]\d\d\b/.exec(error)?.[0] ?? '';
  db.prepare("INSERT INTO mail_events (received_at, subscriber_id, issue_id, kind, code, text, report_id) VALUES (?, ?, ?, 'hard', ?, ?, ?)").run(
    now,
    subscriberId,
    issueId,
    code,
    `refused when sent: ${error.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 500)}`,
    `refused:${issueId}:${subscriberId}`,
  );
}
