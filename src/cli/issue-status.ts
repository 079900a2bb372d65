// `issue status`: an issue's deliveries from the ledger.
import path from 'node:path';
import type { Command } from 'commander';
import { databasePath, openDatabase } from '../store/database.ts';
import { SqliteLedger, type DeliveryProblem, type LedgerCounts } from '../store/ledger.ts';
import { issueEventCounts, type IssueEventCounts } from '../store/mail-events.ts';
import { printJson, withJson } from './json.ts';
import { globals } from './options.ts';
import { loadIssue } from './stored-issue.ts';

/** What `issue status --json` prints; `readers` only with --failed or --uncertain. */
export interface IssueStatusReport {
  issue: string;
  counts: LedgerCounts;
  /** When the sending quota lets the paused send go on (ISO 8601), or null when it is not paused. */
  pausedUntil: string | null;
  /** Bounces (hard ones include refusals at send time), complaints and mailto unsubscribes. */
  returned: IssueEventCounts;
  readers?: (Omit<DeliveryProblem, 'state'> & { state: string })[];
}

export function registerIssueStatus(issue: Command): void {
  const status = issue
    .command('status <id>')
    .description("an issue's deliveries by state; with --failed, who did not simply get it and why")
    .option('--failed', 'list every reader not sent (or sent but uncertain): address, state, last error')
    .option('--uncertain', 'list only the readers whose copy is uncertain (those --retry uncertain writes to)');
  withJson(status).action((id: string, opts: { failed?: boolean; uncertain?: boolean; json?: boolean }, cmd: Command) => {
    const root = path.resolve(globals(cmd).root);
    const { issue } = loadIssue(root, id);
    const db = openDatabase(databasePath(root));
    try {
      const ledger = new SqliteLedger(db);
      const c = ledger.counts(id);
      const r = issueEventCounts(db, id);
      const listed = opts.failed || opts.uncertain ? ledger.problems(id).filter((p) => opts.failed || p.uncertain) : undefined;
      const problems = listed?.map((p) => ({ ...p, state: readerState(p) }));
      const paused = ledger.pausedUntil(id);
      const pausedUntil = paused !== undefined && c.queued > 0 ? new Date(paused).toISOString() : null;
      if (opts.json) {
        return printJson({ issue: id, counts: c, pausedUntil, returned: r, ...(problems ? { readers: problems } : {}) } satisfies IssueStatusReport);
      }
      process.stdout.write(
        `${issue.editionLabel} #${issue.number} (${id}): ${c.sent} sent, ${c.queued} queued, ${c.sending} sending, ` +
          `${c.failed} failed, ${c.skipped} skipped, ${c.uncertain} uncertain, ${c.retried} needed a retry\n`,
      );
      if (pausedUntil) process.stdout.write(`  paused by the sending quota until ${pausedUntil}\n`);
      // Only when something came back, so that the lines after the first are the listed readers.
      if (r.hard + r.soft + r.complaint + r.unsubscribe > 0) {
        process.stdout.write(`  came back: ${r.hard} hard bounce(s), ${r.soft} soft bounce(s), ${r.complaint} complaint(s), ${r.unsubscribe} mailto unsubscribe(s)\n`);
      }
      for (const p of problems ?? []) process.stdout.write(`${p.email}\t${p.state}\t${p.error ?? ''}\n`);
    } finally {
      db.close();
    }
  });
}

/** A reader's state as `issue status --failed` names it. */
function readerState(p: DeliveryProblem): string {
  if (p.state === 'queued') return p.uncertain ? 'queued (uncertain)' : p.attempts > 0 ? 'queued (retry)' : 'queued';
  if (p.state === 'sending') return 'in flight';
  if (p.uncertain) return `${p.state} (uncertain: may have two copies)`;
  if (p.bounced) return 'failed (bounced)';
  return p.state;
}
