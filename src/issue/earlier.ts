// The issues that went out: those with any row in the send ledger (an issue that started sending,
// as for the rule that such an issue is never rebuilt), read from the stored issues.
import { existsSync } from 'node:fs';
import { sentItemsOf, type EarlierIssue } from '../compose/repeats.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import type { Ledger } from '../store/ledger.ts';
import { SqliteLedger } from '../store/ledger.ts';
import { IssueStore } from '../store/issues.ts';

export function issuesSent(root: string, ledger: Pick<Ledger, 'hasDeliveries'>): EarlierIssue[] {
  return new IssueStore(root)
    .list()
    .filter((f) => ledger.hasDeliveries(f.issue.id))
    .map(({ issue }) => ({ id: issue.id, scheduledAt: issue.scheduledAt, items: sentItemsOf(issue) }));
}

/** As issuesSent, with the site's own database; none when the site has no database yet. */
export function issuesSentFrom(root: string): EarlierIssue[] {
  const file = databasePath(root);
  if (!existsSync(file)) return [];
  const db = openDatabase(file);
  try {
    return issuesSent(root, new SqliteLedger(db));
  } finally {
    db.close();
  }
}
