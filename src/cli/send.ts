// `issue send`: which of its three runs to make, and how to print what it did. The runs are
// send-test-copy.ts, send-dry-run.ts and send-run.ts; the loop itself is mail/send.ts.
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError, formatProblem, type Problem } from '../content/problems.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { databasePath, openDatabase, type Db } from '../store/database.ts';
import { SqliteLedger, type RetryKind } from '../store/ledger.ts';
import type { StoredIssue } from '../store/issues.ts';
import { registerIssueStatus } from './issue-status.ts';
import { printJson, withJson } from './json.ts';
import { globals, redactUrl, resolveNow } from './options.ts';
import { siteConfig } from './site-config.ts';
import { dryRun, type DryRunReport } from './send-dry-run.ts';
import { sendToAll, type Run, type RunReport } from './send-run.ts';
import { sendTestCopy, type TestCopyReport } from './send-test-copy.ts';
import { loadIssue } from './stored-issue.ts';

/** What `issue send --json` prints: one of three shapes, told apart by `mode`. */
export type SendReport = TestCopyReport | DryRunReport | RunReport;

export function registerSend(issue: Command): void {
  withJson(
    issue
      .command('send <id>')
      .description('send a built issue to every subscriber of its edition, exactly once (SMTP_URL, ALMANAC_SECRET)')
      .option('--to <email>', 'send one test copy to this address instead (subject starts with [Test]; not recorded)')
      .option('--dry-run', 'count and render every message without sending anything')
      .option('--retry <readers>', 'send again, once, to the readers who failed (failed) or whose copy is uncertain (uncertain); never to those who left since'),
  ).action(async (id: string, opts: { to?: string; dryRun?: boolean; retry?: string; json?: boolean }, cmd: Command) => {
    const retry = retryOption(opts.retry);
    if (retry && (opts.to !== undefined || opts.dryRun)) throw new UsageError('--retry goes alone: not with --to or --dry-run');
    const g = globals(cmd);
    const clock = g.now ? () => resolveNow(g.now) : () => Date.now();
    const { root, config } = await siteConfig(g.root);
    const stored = loadIssue(root, id);
    const secret = secretFromEnv();
    const { issue } = stored;

    if (opts.to !== undefined) {
      const report = await sendTestCopy(config, secret, stored, opts.to, path.resolve(root));
      if (opts.json) return printJson(report);
      process.stdout.write(`Sent a test copy of ${issue.editionLabel} #${issue.number} to ${report.to} ("${report.subject}").\n`);
      return;
    }

    const db = openDatabase(databasePath(path.resolve(root)));
    try {
      if (opts.dryRun) {
        const report = dryRun(db, config, secret, stored);
        if (opts.json) return printJson(report);
        const n = report.recipients;
        process.stdout.write(
          `Dry run of ${issue.editionLabel} #${issue.number} (${issue.id}): ${n} active ${issue.editionLabel} subscriber${n === 1 ? '' : 's'}` +
            `, ${report.alreadySent} already sent; every message rendered (${report.averageBytes.toLocaleString('en-US')} bytes each on average). Nothing was sent.\n`,
        );
        return;
      }
      if (retry) refuseUnfinished(db, id);
      const run = await sendToAll(db, config, secret, stored, clock, retry);
      if (opts.json) printJson(run.report);
      else printRun(issue, run.report);
      finishRun(issue, run);
    } finally {
      db.close();
    }
  });
  registerIssueStatus(issue);
}

function retryOption(value: string | undefined): RetryKind | undefined {
  if (value === undefined) return undefined;
  if (value === 'failed' || value === 'uncertain') return value;
  throw new UsageError(`--retry expects failed or uncertain, found "${value}"`);
}

/** A retry re-sends to exactly the readers it names: an issue still going out is finished first. */
function refuseUnfinished(db: Db, id: string): void {
  const c = new SqliteLedger(db).counts(id);
  if (c.queued + c.sending > 0) {
    throw new UsageError(`issue ${id} has not finished going out (${c.queued} queued, ${c.sending} in flight): finish it with "almanac issue send ${id}" before --retry`);
  }
}

function printRun(issue: StoredIssue, report: RunReport): void {
  const c = report.counts;
  if (report.retrying !== null) {
    process.stdout.write(`Sending again to ${report.retrying} reader${report.retrying === 1 ? '' : 's'} (each once; readers who left since are not written to).\n`);
  }
  process.stdout.write(
    `${issue.editionLabel} #${issue.number} (${issue.id}): ${c.sent} sent, ${c.failed} failed permanently, ` +
      `${c.retried} retried, ${c.skipped} skipped (unsubscribed since queued), ${c.uncertain} uncertain` +
      `${c.queued ? `, ${c.queued} still queued` : ''} · ${report.messagesPerSecond} messages/s this run\n`,
  );
  if (report.recovered) {
    process.stdout.write(
      `  ${report.recovered} message${report.recovered === 1 ? ' was' : 's were'} in flight when an earlier run stopped without finishing; ` +
        'they were sent again and are marked uncertain (those readers may have two copies).\n',
    );
  }
  if (report.abandoned) {
    process.stdout.write(
      `  ${report.abandoned} message${report.abandoned === 1 ? ' had' : 's had'} no answer by the stop deadline; ` +
        'marked uncertain, they go again on the next run (those readers may have two copies).\n',
    );
  }
  if (report.stopped === 'quota' && report.pausedUntil) {
    process.stdout.write(
      `Paused: the sending quota (sending.limits) is used up until ${report.pausedUntil}. ${c.queued} still queued: ` +
        'a running "almanac schedule" resumes the send then, or run the same command again after that time; nobody is skipped or sent twice.\n',
    );
  }
  if (report.stopped === 'signal') {
    process.stdout.write(`Stopped. ${c.queued} still queued: run the same command again to finish; nobody gets a second copy${c.uncertain ? ' except those marked uncertain' : ''}.\n`);
  }
}

/** A run that stopped early: the problem on standard error, and the exit code. */
function finishRun(issue: StoredIssue, { report, smtpUrl, signal }: Run): void {
  const c = report.counts;
  if (report.stopped === 'failure' || report.stopped === 'lease') {
    const problem: Problem =
      report.stopped === 'failure'
        ? {
            file: `SMTP ${redactUrl(smtpUrl)}`,
            expected: 'a server that accepts the connection, the login and the sender',
            found: `${report.failure ?? 'no answer'}; no reader was marked for it, ${c.queued} still queued: run the same command again to finish`,
          }
        : {
            file: `issue ${issue.id}`,
            expected: 'the send lease held until the end',
            found: 'another sender took it over (this one was paused past its lease, or another host saw it lapse); that sender sends the rest',
          };
    process.stderr.write(`${formatProblem(problem)}\n`);
    process.exitCode = 2;
  } else if (report.stopped === 'signal') {
    // Stopping on SIGTERM is what a service manager asks for: done as asked. Ctrl-C is an interruption.
    process.exitCode = signal === 'Terminated' ? 0 : 1;
  }
}
