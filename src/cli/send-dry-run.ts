// `issue send --dry-run`: every message rendered, none sent.
import type { Config } from '../content/config-schema.ts';
import { compileIssueMessage } from '../mail/message.ts';
import { personaliser } from '../mail/send-job.ts';
import type { Db } from '../store/database.ts';
import type { StoredIssueFiles } from '../store/issues.ts';
import { SqliteLedger } from '../store/ledger.ts';
import { SqliteSubscribers } from '../store/subscribers.ts';

export interface DryRunReport {
  issue: string;
  mode: 'dry-run';
  /** Active subscribers of the issue's edition. */
  recipients: number;
  alreadySent: number;
  averageBytes: number;
}

export function dryRun(db: Db, config: Config, secret: string, stored: StoredIssueFiles): DryRunReport {
  const { issue } = stored;
  const template = compileIssueMessage(config, issue, stored);
  const personalise = personaliser(config, secret, issue.id);
  let recipients = 0;
  let bytes = 0;
  for (const s of new SqliteSubscribers(db).list({ edition: issue.edition, status: 'active' })) {
    recipients++;
    bytes += template.render({ email: s.email, name: s.name, ...personalise({ subscriberId: s.id, name: s.name, tokenKey: s.tokenKey, unsubscribeKey: s.unsubscribeKey }) }).length;
  }
  return { issue: issue.id, mode: 'dry-run', recipients, alreadySent: new SqliteLedger(db).counts(issue.id).sent, averageBytes: recipients ? Math.round(bytes / recipients) : 0 };
}
