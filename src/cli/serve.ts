import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../content/config.ts';
import { ContentError, UsageError } from '../content/problems.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { httpsCertificates } from '../mail/sns.ts';
import { TemplateSet } from '../render/templates.ts';
import { createApp, createServer } from '../server/app.ts';
import { startConfirmationWorker, type Worker } from '../server/confirm-worker.ts';
import { confirmationComposer } from '../server/confirmation-mail.ts';
import { DatabaseHealth } from '../server/db-health.ts';
import { ConfirmationQueue } from '../store/confirmations.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import { hasLimits, takeQuota } from '../store/quota.ts';
import { MailEvents } from '../store/mail-events.ts';
import { SqliteSubscribers } from '../store/subscribers.ts';
import { globals, smtpUrlFromEnv } from './options.ts';

/** How long a write from the server may wait for another process's lock before answering 503. */
const SERVER_BUSY_TIMEOUT_MS = 50;
const STOP_GRACE_MS = 5000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve dist/ with the subscribe, confirm, unsubscribe and preferences endpoints (ALMANAC_SECRET; SMTP_URL for confirmations)')
    .option('--port <n>', 'port to listen on', '4000')
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .action(async (opts: { port: string; host: string }, cmd: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects a number from 0 to 65535, found "${opts.port}"`);
      const root = path.resolve(globals(cmd).root);
      const { config, problems } = await loadConfig(root);
      if (problems.length) throw new ContentError(problems);
      const distDir = path.join(root, 'dist');
      if (!existsSync(path.join(distDir, 'index.html'))) {
        throw new ContentError([{ file: 'dist/index.html', expected: 'a built site (run "almanac build" first)', found: 'none' }]);
      }
      const secret = secretFromEnv();
      // Optional here, but a value that is set must be one the mail library can read, or every
      // confirmation would fail only once someone subscribes.
      const smtp = process.env.SMTP_URL?.trim() ? smtpUrlFromEnv() : undefined;
      const db = openDatabase(databasePath(root));
      // better-sqlite3 waits on a lock synchronously, stalling every request meanwhile: the server's
      // connection waits briefly, then answers 503 (see DatabaseHealth).
      db.pragma(`busy_timeout = ${SERVER_BUSY_TIMEOUT_MS}`);
      const clock = () => Date.now();
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      const subscribers = new SqliteSubscribers(db);
      const health = new DatabaseHealth(clock);
      const queue = new ConfirmationQueue(db);
      let worker: Worker | undefined;
      let transport: { close(): void } | undefined;
      if (smtp) {
        const [{ smtpTransport }, { smtpTimeouts }, { messageSigner }] = await Promise.all([import('../mail/transport.ts'), import('../mail/send-job.ts'), import('../mail/dkim-signer.ts')]);
        // One connection, with the same deadlines as every send: a relay that hangs cannot hold the queue.
        const mailer = smtpTransport({ url: smtp, concurrency: 1, ratePerSecond: 0, timeouts: smtpTimeouts(config), signer: messageSigner(config, { clock }) });
        transport = mailer;
        const { limits } = config.sending;
        const quota = hasLimits(limits) ? () => takeQuota(db, limits, Date.now()) : undefined;
        worker = startConfirmationWorker({ queue, transport: mailer, compose: confirmationComposer({ config, secret, subscribers }), clock, log, health, quota });
      }
      health.probe(db, SERVER_BUSY_TIMEOUT_MS);
      const probe = setInterval(() => health.probe(db, SERVER_BUSY_TIMEOUT_MS), 2000);
      probe.unref();
      const app = createApp({
        distDir,
        config,
        subscribers,
        secret,
        templates: await TemplateSet.load(root, 'site'),
        confirmations: worker && { queue, wake: () => worker.wake() },
        health,
        clock,
        log,
        bounces: {
          events: new MailEvents(db, subscribers, config.bounces),
          mailgunKey: process.env.MAILGUN_WEBHOOK_SIGNING_KEY?.trim() || undefined,
          ses: config.bounces.sesTopicArn ? { topicArn: config.bounces.sesTopicArn, certificates: httpsCertificates() } : undefined,
        },
      });
      const server = createServer(app);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, opts.host, resolve));
      const address = server.address() as { port: number };
      // One write, so that whoever waits for the address sees the notice with it.
      process.stdout.write(
        (worker ? '' : 'SMTP_URL is not set: subscribing answers 503 until it is (confirmation emails cannot be sent).\n') +
          `Serving ${path.relative(process.cwd(), distDir) || 'dist'}/ at http://${opts.host}:${address.port}/\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      clearInterval(probe);
      // A confirmation in flight gets a few seconds to finish; if it cannot, its row stays queued and
      // goes out after the next start (at worst twice, which a confirmation link survives).
      const stopping = worker?.stop();
      await Promise.race([stopping, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
      transport?.close();
      db.close();
      // A relay connection still in its handshake would keep the process alive until its own
      // deadline: everything owned is closed, so leave (with the exit code already decided).
      setTimeout(() => process.exit(), 500).unref();
    });
}
