// One message that came back, classified and applied to the store: what `bounces receive`, `import`
// and `fetch` print for it, and what the scheduler's polling logs. Every intake path goes through
// here, so a report counts once whichever path brought it (MailEvents keeps each report's id).
import type { Db } from '../store/database.ts';
import { MailEvents, type RecordedKind } from '../store/mail-events.ts';
import { SqliteSubscribers } from '../store/subscribers.ts';
import type { BounceRules } from '../store/mail-events.ts';
import { classify } from './bounce-classify.ts';
import type { MailboxMessage } from './mailbox.ts';

/** One message of `bounces receive|import|fetch --json`. */
export interface BounceEntry {
  source: string;
  kind: RecordedKind;
  email: string | null;
  issue: string | null;
  /** The event's text, or for an ignored message why it was ignored. */
  text: string;
  changed: { from: string; to: string } | null;
}

export type BounceCounts = Record<RecordedKind, number>;

export function emptyCounts(): BounceCounts {
  return { hard: 0, soft: 0, complaint: 0, unsubscribe: 0, ignored: 0 };
}

/** Records each message it is given in `db`, at the time `clock` says. */
export function bounceRecorder(db: Db, rules: BounceRules, secret: string, clock: () => number): (m: MailboxMessage) => Promise<BounceEntry> {
  const subscribers = new SqliteSubscribers(db);
  const events = new MailEvents(db, subscribers, rules);
  return async (m) => {
    const result = events.apply(await classify(m.raw, secret), clock());
    const email = result.subscriberId === null ? null : (subscribers.get(result.subscriberId)?.email ?? null);
    return { source: m.source, kind: result.kind, email, issue: result.issueId, text: result.text, changed: result.changed ?? null };
  };
}

/** "3 hard bounce(s), …": the summary line after the messages. */
export function countsLine(c: BounceCounts): string {
  return `${c.hard} hard bounce(s), ${c.soft} soft, ${c.complaint} complaint(s), ${c.unsubscribe} unsubscribe(s), ${c.ignored} ignored`;
}

/** One message as a line: source, kind, reader and issue, the change of status, the text. */
export function entryLine(e: BounceEntry): string {
  const who = [e.email, e.issue].filter(Boolean).join(' ');
  const change = e.changed ? ` (${e.changed.from} → ${e.changed.to})` : '';
  return `${e.source}\t${e.kind}${who ? `\t${who}` : ''}${change}\t${e.text}`;
}
