import path from 'node:path';
import type { Command } from 'commander';
import { editionConfig, editionNames, nextSlot, type Edition } from '../compose/slots.ts';
import type { Config } from '../content/config-schema.ts';
import { databasePath, openForReading } from '../store/database.ts';
import { SqliteLedger, type LedgerCounts } from '../store/ledger.ts';
import { COMPLAINT_RATE_LIMIT, complaintRates, type ComplaintRate } from '../store/mail-events.ts';
import { lastSend } from '../store/send-history.ts';
import { SlotStore, type SlotState } from '../store/slots.ts';
import { printJson, withJson } from './json.ts';
import { globals, resolveNow } from './options.ts';
import { localTime, siteConfig } from './site-config.ts';

/** What `status --json` prints: one entry per edition. */
export interface StatusReport {
  editions: {
    edition: Edition;
    label: string;
    next: string;
    /** The scheduler's last slot of this edition. */
    lastRun: { scheduledAt: string; state: SlotState; detail: string | null; issue: string | null; counts: LedgerCounts | null; pausedUntil: string | null } | null;
    /** The last issue of this edition that went out, by the scheduler or by `issue send`. */
    lastSend: { issue: string; scheduled: boolean; lastActivity: string; counts: LedgerCounts; pausedUntil: string | null } | null;
  }[];
  /** Every issue with complaints; `flagged` when their rate passes 0.3 % of the messages sent. */
  complaints: ComplaintRate[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const pausedLine = (config: Config, until: string | null) => (until ? ` · paused by the sending quota until ${localTime(config, Date.parse(until))}` : '');
const countsLine = (c: LedgerCounts) => `${c.sent} sent, ${c.queued} queued, ${c.failed} failed, ${c.skipped} skipped, ${c.uncertain} uncertain`;

export function registerStatus(program: Command): void {
  withJson(program.command('status').description("last and next run of each edition, and the last issue's deliveries, sent on schedule or by hand")).action(
    async (opts: { json?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const now = resolveNow(g.now);
      const { root, config } = await siteConfig(g.root);
      const db = openForReading(databasePath(path.resolve(root)));
      let report: StatusReport;
      try {
        const slots = new SlotStore(db);
        const ledger = new SqliteLedger(db);
        // Until when the sending quota holds an issue's rest back, while any of it is still queued.
        const paused = (issue: string): string | null => {
          const at = ledger.pausedUntil(issue);
          return at !== undefined && ledger.counts(issue).queued > 0 ? iso(at) : null;
        };
        report = {
          editions: editionNames(config).map((edition) => {
            const run = slots.last(edition);
            const sent = lastSend(db, edition);
            return {
              edition,
              label: editionConfig(config, edition).label,
              next: iso(nextSlot(config, edition, now)),
              lastRun: run
                ? {
                    scheduledAt: iso(run.scheduledAt),
                    state: run.state,
                    detail: run.detail,
                    issue: run.issueId,
                    counts: run.issueId ? ledger.counts(run.issueId) : null,
                    pausedUntil: run.issueId ? paused(run.issueId) : null,
                  }
                : null,
              lastSend: sent
                ? { issue: sent.issueId, scheduled: sent.scheduled, lastActivity: iso(sent.lastActivity), counts: ledger.counts(sent.issueId), pausedUntil: paused(sent.issueId) }
                : null,
            };
          }),
          complaints: complaintRates(db),
        };
      } finally {
        db.close();
      }
      if (opts.json) return printJson(report);
      for (const e of report.editions) {
        process.stdout.write(`${e.label}: next ${localTime(config, Date.parse(e.next))}\n`);
        const run = e.lastRun;
        if (run) {
          process.stdout.write(`  last ${localTime(config, Date.parse(run.scheduledAt))}: ${run.state}${run.detail ? ` — ${run.detail}` : ''}\n`);
          if (run.issue && run.counts) process.stdout.write(`  ${run.issue}: ${countsLine(run.counts)}${pausedLine(config, run.pausedUntil)}\n`);
        } else {
          process.stdout.write('  no scheduled run yet\n');
        }
        const sent = e.lastSend;
        if (sent && sent.issue !== run?.issue) {
          const how = sent.scheduled ? 'sent on schedule' : 'sent with issue send';
          process.stdout.write(`  ${sent.issue} (${how}, last delivery ${localTime(config, Date.parse(sent.lastActivity))}): ${countsLine(sent.counts)}${pausedLine(config, sent.pausedUntil)}\n`);
        }
      }
      for (const c of report.complaints.filter((r) => r.flagged)) {
        process.stdout.write(
          `! ${c.issueId}: complaint rate ${(c.rate * 100).toFixed(2)} % (${c.complaints} of ${c.sent} sent) passes ${COMPLAINT_RATE_LIMIT * 100} %; mailbox providers may start refusing this list's mail\n`,
        );
      }
    },
  );
}
