// `issue send` and `issue status`: wiring only. The loop is mail/send.ts, the ledger store/ledger.ts.
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { loadConfig } from '../content/config.ts';
import { ContentError, UsageError, formatProblem } from '../content/problems.ts';
import { addressOf, compileIssueMessage } from '../mail/message.ts';
import { SmtpError } from '../mail/outcome.ts';
import { SendRefused, abortableSleep, localHolderAlive, newProgress, sendIssue } from '../mail/send.ts';
import { personaliser, sendJob, sendSettings, smtpTimeouts } from '../mail/send-job.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import { IssueStore, type StoredIssueFiles } from '../store/issues.ts';
import { SqliteLedger, type DeliveryProblem } from '../store/ledger.ts';
import { SqliteSubscribers } from '../store/subscribers.ts';
import { addressProblem, newKey } from '../store/subscribers.ts';
import { globals, redactUrl, resolveNow, smtpUrlFromEnv } from './options.ts';

function loadIssue(root: string, id: string): StoredIssueFiles {
  const found = new IssueStore(root).get(id);
  if (!found) {
    throw new ContentError([{ file: `.almanac/issues/${id}`, expected: 'an issue built with "almanac issue build"', found: 'no such issue' }]);
  }
  return found;
}

/** nodemailer is loaded only when a command is about to send. */
async function transportModule() {
  return import('../mail/transport.ts');
}

export function registerSend(issue: Command): void {
  issue
    .command('send <id>')
    .description('send a built issue to every subscriber of its edition, exactly once (SMTP_URL, ALMANAC_SECRET)')
    .option('--to <email>', 'send one test copy to this address instead (subject starts with [Test]; not recorded)')
    .option('--dry-run', 'count and render every message without sending anything')
    .action(async (id: string, opts: { to?: string; dryRun?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const root = path.resolve(g.root);
      const clock = g.now ? () => resolveNow(g.now) : () => Date.now();
      const { config, problems } = await loadConfig(root);
      if (problems.length) throw new ContentError(problems);
      const stored = loadIssue(root, id);
      const { issue } = stored;
      const secret = secretFromEnv();
      const personalise = personaliser(config, secret, issue.id);
      const fromAddress = addressOf(config.from);

      if (opts.to !== undefined) {
        const wrong = addressProblem(opts.to.trim());
        if (wrong) throw new UsageError(`--to expects an email address, found ${wrong}`);
        const template = compileIssueMessage(config, { ...issue, subject: `[Test] ${issue.subject}` }, stored);
        const { smtpTransport } = await transportModule();
        const transport = smtpTransport({ url: smtpUrlFromEnv(), concurrency: 1, ratePerSecond: 0, timeouts: smtpTimeouts(config) });
        try {
          await transport.send(template.render({ email: opts.to.trim(), name: '', ...personalise({ subscriberId: 0, name: '', tokenKey: newKey(), unsubscribeKey: newKey() }) }), { from: fromAddress, to: opts.to.trim() });
        } catch (err) {
          throw new SmtpError({ file: 'SMTP', expected: 'the test copy accepted' }, err);
        } finally {
          transport.close();
        }
        process.stdout.write(`Sent a test copy of ${issue.editionLabel} #${issue.number} to ${opts.to.trim()} ("[Test] ${issue.subject}").\n`);
        return;
      }

      const db = openDatabase(databasePath(root));
      try {
        const subscribers = new SqliteSubscribers(db);
        if (opts.dryRun) {
          const template = compileIssueMessage(config, issue, stored);
          const already = new SqliteLedger(db).counts(issue.id);
          let count = 0;
          let bytes = 0;
          for (const s of subscribers.list({ edition: issue.edition, status: 'active' })) {
            count++;
            bytes += template.render({ email: s.email, name: s.name, ...personalise({ subscriberId: s.id, name: s.name, tokenKey: s.tokenKey, unsubscribeKey: s.unsubscribeKey }) }).length;
          }
          process.stdout.write(
            `Dry run of ${issue.editionLabel} #${issue.number} (${issue.id}): ${count} active ${issue.editionLabel} subscriber${count === 1 ? '' : 's'}` +
              `, ${already.sent} already sent; every message rendered (${count ? Math.round(bytes / count).toLocaleString('en-US') : 0} bytes each on average). Nothing was sent.\n`,
          );
          return;
        }

        const url = smtpUrlFromEnv();
        const settings = sendSettings(config);
        const { smtpTransport } = await transportModule();
        const transport = smtpTransport({ url, concurrency: settings.concurrency, ratePerSecond: config.sending.ratePerSecond, timeouts: smtpTimeouts(config) });
        const controller = new AbortController();
        let stopSignal: string | undefined;
        const onSignal = (name: string) => () => {
          if (controller.signal.aborted) process.exit(1); // a second Ctrl-C: leave now; the ledger already knows
          stopSignal = name;
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
        const ledger = new SqliteLedger(db, { bounce: (id, now) => subscribers.setStatus(id, 'bounced', now) });
        let report;
        try {
          report = await sendIssue(sendJob(config, secret, stored), {
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
        if (report.stopped) setTimeout(() => process.exit(), 1000).unref();
        const c = report.counts;
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        process.stdout.write(
          `${issue.editionLabel} #${issue.number} (${issue.id}): ${c.sent} sent, ${c.failed} failed permanently, ` +
            `${c.retried} retried, ${c.skipped} skipped (unsubscribed since queued), ${c.uncertain} uncertain` +
            `${c.queued ? `, ${c.queued} still queued` : ''} · ${(progress.sent / seconds).toFixed(0)} messages/s this run\n`,
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
        if (report.stopped === 'failure' || report.stopped === 'lease') {
          const problem =
            report.stopped === 'failure'
              ? {
                  file: `SMTP ${redactUrl(url)}`,
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
          process.stdout.write(`Stopped. ${c.queued} still queued: run the same command again to finish; nobody gets a second copy${c.uncertain ? ' except those marked uncertain' : ''}.\n`);
          // Stopping on SIGTERM is what a service manager asks for: done as asked. Ctrl-C is an interruption.
          process.exitCode = stopSignal === 'Terminated' ? 0 : 1;
        }
      } finally {
        db.close();
      }
    });

  issue
    .command('status <id>')
    .description("an issue's deliveries by state; with --failed, who did not simply get it and why")
    .option('--failed', 'list every reader not sent (or sent but uncertain): address, state, last error')
    .option('--json', 'print the counts (and with --failed the readers) as JSON')
    .action((id: string, opts: { failed?: boolean; json?: boolean }, cmd: Command) => {
      const root = path.resolve(globals(cmd).root);
      const { issue } = loadIssue(root, id);
      const db = openDatabase(databasePath(root));
      try {
        const ledger = new SqliteLedger(db);
        const c = ledger.counts(id);
        const problems = opts.failed ? ledger.problems(id).map((p) => ({ ...p, state: readerState(p) })) : undefined;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ issue: id, counts: c, ...(problems ? { readers: problems } : {}) }, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${issue.editionLabel} #${issue.number} (${id}): ${c.sent} sent, ${c.queued} queued, ${c.sending} sending, ` +
            `${c.failed} failed, ${c.skipped} skipped, ${c.uncertain} uncertain, ${c.retried} needed a retry\n`,
        );
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
  return p.state;
}

/** A bar with rate and ETA on a terminal; a plain line every few seconds otherwise. */
function progressDisplay(label: string, p: ReturnType<typeof newProgress>): { stop: () => void } {
  const done = () => p.sent + p.failed + p.skipped;
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} · {rate}/s · ETA {eta_formatted}`, stream: process.stderr, hideCursor: true });
    let started = false;
    const started0 = Date.now();
    const timer = setInterval(() => {
      if (!started && p.total) {
        bar.start(p.total, 0, { rate: 0 });
        started = true;
      }
      if (started) bar.update(done(), { rate: (p.sent / Math.max(0.001, (Date.now() - started0) / 1000)).toFixed(0) });
    }, 200);
    return { stop: () => (clearInterval(timer), started && bar.stop()) };
  }
  const started0 = Date.now();
  const timer = setInterval(() => {
    const rate = p.sent / Math.max(0.001, (Date.now() - started0) / 1000);
    const left = Math.max(0, p.total - done());
    process.stderr.write(`${label}: ${done()}/${p.total} · ${rate.toFixed(0)}/s · ETA ${rate ? Math.ceil(left / rate) : '?'} s\n`);
  }, 5000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

