import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../content/config.ts';
import { ContentError, UsageError } from '../content/problems.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { TemplateSet } from '../render/templates.ts';
import { createApp } from '../server/app.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import { SqliteSubscribers } from '../store/subscribers.ts';
import { globals } from './options.ts';

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
      const smtp = process.env.SMTP_URL?.trim();
      const mailer = smtp ? (await import('../mail/transport.ts')).smtpTransport({ url: smtp, concurrency: 2, ratePerSecond: 0 }) : undefined;
      const db = openDatabase(databasePath(root));
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      const app = createApp({
        distDir,
        config,
        subscribers: new SqliteSubscribers(db),
        secret,
        templates: await TemplateSet.load(root, 'site'),
        mailer,
        clock: () => Date.now(),
        log,
      });
      const server = http.createServer(app);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, opts.host, resolve));
      const address = server.address() as { port: number };
      // One write, so that whoever waits for the address sees the notice with it.
      process.stdout.write(
        (mailer ? '' : 'SMTP_URL is not set: subscribing answers 503 until it is (confirmation emails cannot be sent).\n') +
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
      mailer?.close();
      db.close();
    });
}
