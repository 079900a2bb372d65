// `issue send`: the real run to every active subscriber of the issue's edition. This module wires
// the send loop (mail/send.ts) to the database, SMTP, the process's signals and a progress display.
import os from 'node:os';
import { UsageError } from '../content/problems.ts';
import type { Config } from '../content/config-schema.ts';
import { SendRefused, abortableSleep, localHolderAlive, newProgress, sendIssue } from '../mail/send.ts';
import { pacePerSecond, sendJob, sendSettings, smtpTimeouts } from '../mail/send-job.ts';
import type { Db } from '../store/database.ts';
import type { StoredIssueFiles } from '../store/issues.ts';
import type { LedgerCounts, RetryKind } from '../store/ledger.ts';
import { sendingLedger } from '../store/sending-ledger.ts';
import { smtpUrlFromEnv } from './options.ts';
import { progressDisplay } from './send-progress.ts';

export interface RunReport {
  issue: string;
  mode: 'send';
  counts: LedgerCounts;
  /** Messages in flight when an earlier run stopped, sent again and marked uncertain. */
  recovered: number;
  /** Messages unanswered at the stop deadline, marked uncertain. */
  abandoned: number;
  /** With --retry: how many readers were queued again (those who failed, or whose copy is uncertain); null otherwise. */
  retrying: number | null;
  /** Why the run ended early, or null when it finished. */
  stopped: 'signal' | 'failure' | 'lease' | 'quota' | null;
  /** When the sending quota lets a paused run go on (stopped 'quota'), ISO 8601. */
  pausedUntil: string | null;
  /** The server's words when the run itself failed. */
  failure: string | null;
  messagesPerSecond: number;
}

export interface Run {
  report: RunReport;
  /** The SMTP server, its password hidden, for a problem that names it. */
  smtpUrl: string;
  /** Terminated (SIGTERM) or Interrupted (SIGINT), when a signal stopped the run. */
  signal?: 'Terminated' | 'Interrupted';
}

export async function sendToAll(db: Db, config: Config, secret: string, stored: StoredIssueFiles, clock: () => number, retry?: RetryKind): Promise<Run> {
  const { issue } = stored;
  const url = smtpUrlFromEnv();
  const settings = sendSettings(config);
  // nodemailer is loaded only when a command is about to send.
  const [{ smtpTransport }, { messageSigner }] = await Promise.all([import('../mail/transport.ts'), import('../mail/dkim-signer.ts')]);
  // The DKIM signatures of many messages are made on libuv's thread pool (see mail/dkim-signer.ts).
  const signer = messageSigner(config);
  const transport = smtpTransport({ url, concurrency: settings.concurrency, ratePerSecond: pacePerSecond(config), timeouts: smtpTimeouts(config), signer });
  const controller = new AbortController();
  let signal: Run['signal'];
  const onSignal = (name: NonNullable<Run['signal']>) => () => {
    if (controller.signal.aborted) process.exit(1); // a second Ctrl-C: leave now; the ledger already knows
    signal = name;
    process.stderr.write(`\n${name}: finishing the messages in flight (at most ${settings.stopMs / 1000} s), then stopping…\n`);
    controller.abort();
  };
  const onInt = onSignal('Interrupted');
  const onTerm = onSignal('Terminated');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const progress = newProgress();
  const started = Date.now();
  const display = progressDisplay(`${issue.editionLabel} #${issue.number}`, progress);
  const ledger = sendingLedger(db, config);
  let result;
  try {
    result = await sendIssue({ ...sendJob(config, secret, stored), retry }, {
      ledger,
      transport,
      settings,
      clock,
      realClock: () => Date.now(),
      holder: `${os.hostname()}:${process.pid}`,
      holderAlive: localHolderAlive(os.hostname()),
      signal: controller.signal,
      sleep: abortableSleep,
      progress,
    });
  } catch (err) {
    if (err instanceof SendRefused) throw new UsageError(err.message);
    throw err;
  } finally {
    display.stop();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    transport.close();
  }
  // A connection that never answered may keep the process alive: once the report is out, leave.
  if (result.stopped) setTimeout(() => process.exit(), 1000).unref();
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const report: RunReport = {
    issue: issue.id,
    mode: 'send',
    counts: result.counts,
    recovered: result.recovered,
    abandoned: result.abandoned,
    retrying: retry ? result.queuedNow : null,
    stopped: result.stopped ?? null,
    pausedUntil: result.pausedUntil === undefined ? null : new Date(result.pausedUntil).toISOString(),
    failure: result.failure ?? null,
    messagesPerSecond: Math.round(progress.sent / seconds),
  };
  return { report, smtpUrl: url, signal };
}
