// What the scheduler does in a slot: build the edition's issue for that date and send it. An issue
// that has already started going out is never rebuilt, so a resumed slot sends the same message.
import { readIssueNotes } from '../content/issue-notes.ts';
import type { Edition } from '../compose/slots.ts';
import type { Config } from '../content/config-schema.ts';
import { buildCatalog } from '../compose/catalog.ts';
import { composeIssue } from '../compose/issue.ts';
import { localDate } from '../compose/slots.ts';
import { loadSite } from '../content/load.ts';
import { markdownHere } from '../render/markdown.ts';
import { buildIssue } from '../issue/build.ts';
import { issueId } from '../issue/prepare.ts';
import { issuesSent } from '../issue/earlier.ts';
import { sendJob, sendSettings } from '../mail/send-job.ts';
import type { Transport } from '../mail/send-ports.ts';
import { SendRefused, abortableSleep, sendIssue } from '../mail/send.ts';
import { IssueStore } from '../store/issues.ts';
import type { Ledger } from '../store/ledger.ts';
import type { SlotOutcome, SlotRunner } from './scheduler.ts';

export interface SlotRunnerDeps {
  root: string;
  secret: string;
  ledger: Ledger;
  transport: Transport;
  clock: () => number;
  /** The real time for waits and the lease; defaults to `clock`. */
  realClock?: () => number;
  holder: string;
  holderAlive: (holder: string) => boolean;
  /** Runs before a slot's issue is built (the news fetch); it handles its own failures. */
  /** Given the run's signal: a stopped run stops waiting for it. */
  beforeBuild?: (signal: AbortSignal) => Promise<void>;
}

export function slotRunner(d: SlotRunnerDeps): SlotRunner {
  /** Sends the stored issue `id` (resuming where its ledger stands) and says how it went. */
  async function send(config: Config, id: string, signal: AbortSignal): Promise<SlotOutcome> {
    const stored = new IssueStore(d.root).get(id);
    if (!stored) throw new Error(`issue ${id} is not stored`);
    let report;
    try {
      report = await sendIssue(sendJob(config, d.secret, stored), {
        ledger: d.ledger,
        transport: d.transport,
        settings: sendSettings(config),
        clock: d.clock,
        realClock: d.realClock ?? d.clock,
        holder: d.holder,
        holderAlive: d.holderAlive,
        signal,
        sleep: abortableSleep,
      });
    } catch (err) {
      if (err instanceof SendRefused) return { state: 'interrupted', issueId: id, detail: err.message };
      throw err;
    }
    const c = report.counts;
    const detail = `${stored.issue.editionLabel} #${stored.issue.number}: ${c.sent} sent, ${c.failed} failed, ${c.skipped} skipped, ${c.uncertain} uncertain`;
    if (report.stopped === 'quota' && report.pausedUntil !== undefined) {
      const until = new Date(report.pausedUntil).toISOString();
      return { state: 'interrupted', issueId: id, detail: `${detail}, ${c.queued} still queued (paused by the sending quota until ${until})`, resumeAt: report.pausedUntil };
    }
    if (report.stopped) {
      const why = report.stopped === 'failure' ? ` (${report.failure})` : report.stopped === 'lease' ? ' (lease taken over)' : '';
      return { state: 'interrupted', issueId: id, detail: `${detail}, ${c.queued} still queued${why}` };
    }
    return { state: 'done', issueId: id, detail };
  }

  return {
    async run(edition: Edition, at: number, signal: AbortSignal): Promise<SlotOutcome> {
      await d.beforeBuild?.(signal);
      const site = await loadSite(d.root, { cache: true, markdown: markdownHere });
      const { config } = site;
      const date = localDate(config, at);
      const id = issueId(edition, date);
      if (!d.ledger.hasDeliveries(id)) {
        const earlier = issuesSent(d.root, d.ledger);
        // With the editor's notes, as the build applies them (a story they drop is not there to send).
        const composed = composeIssue(site, buildCatalog(site), edition, date, Infinity, earlier, readIssueNotes(d.root, id));
        // Notes that name no story are the build's to report, as any content problem.
        if (!composed.ok && composed.reason !== 'notes') return { state: 'empty', issueId: null, detail: composed.repeats ? 'nothing new to send' : 'nothing to send' };
        await buildIssue(site, edition, date, d.clock(), { earlier });
      }
      return send(config, id, signal);
    },
    async resume(id: string, signal: AbortSignal): Promise<SlotOutcome> {
      const { config } = await loadSite(d.root, { cache: true, markdown: markdownHere });
      return send(config, id, signal);
    },
  };
}
