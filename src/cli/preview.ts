import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE, CONTENT_DIR, TEMPLATES_DIR } from '../content/paths.ts';
import { UsageError } from '../content/problems.ts';
import type { Transport } from '../mail/send-ports.ts';
import { isHostName } from '../server/origin.ts';
import { globals, resolveNow } from './options.ts';

/** Past the watcher's 50 ms window for repeated changes to one file. */
const RECHECK_MS = 80;

function stampOf(file: string): string {
  const stats = statSync(file, { throwIfNoEntry: false });
  return stats ? `${stats.size}:${stats.mtimeMs}` : 'gone';
}

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description("the editor's preview with live reload: working copies, the next issues, a viewer and checks")
    .option('--port <n>', 'port to listen on (always on 127.0.0.1)', '4001')
    .option('--host-name <name>', 'a name the preview answers to besides localhost, 127.0.0.1 and [::1] (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (opts: { port: string; hostName: string[] }, cmd: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects a number from 0 to 65535, found "${opts.port}"`);
      for (const name of opts.hostName) {
        if (!isHostName(name)) throw new UsageError(`--host-name expects a host name such as almanac.test (no scheme, port or path), found "${name}"`);
      }
      const g = globals(cmd);
      const root = path.resolve(g.root);
      // --now fixes the clock, so "the next issue" can be any date that has news.
      const clock = g.now ? () => resolveNow(g.now) : () => Date.now();
      const [{ Preview }, { watch }] = await Promise.all([import('../server/preview.ts'), import('chokidar')]);
      const smtp = process.env.SMTP_URL?.trim();
      const mailer = smtp ? await previewMailer(root, smtp) : undefined;
      const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
      // Test copies may go to active subscribers: the list is read only once there is one (the preview
      // never creates it), so the first reader added while the preview runs counts too.
      const { databasePath, openDatabase } = await import('../store/database.ts');
      const { SqliteSubscribers } = await import('../store/subscribers.ts');
      const { IntakeStore } = await import('../store/intake.ts');
      const { hasLimits, takeQuota } = await import('../store/quota.ts');
      const dbFile = databasePath(root);
      let db: ReturnType<typeof openDatabase> | undefined;
      let subscribers: InstanceType<typeof SqliteSubscribers> | undefined;
      const isSubscriber = (email: string) => {
        if (!subscribers && existsSync(dbFile)) {
          db ??= openDatabase(dbFile);
          subscribers = new SqliteSubscribers(db);
        }
        return subscribers?.find(email)?.status === 'active';
      };
      // What news fetch brought, from the store it keeps (once there is one).
      const arrivals = (since: number) => {
        if (!db && existsSync(dbFile)) db = openDatabase(dbFile);
        return db ? new IntakeStore(db).arrivedSince(since) : [];
      };
      // The quota is counted in the store every sender shares, so with limits set the store is
      // made if need be, as `issue send --to` makes it. The quota runs on the real time, never --now.
      const quota = (limits: Parameters<typeof takeQuota>[1]) => {
        if (!hasLimits(limits)) return undefined;
        db ??= openDatabase(dbFile);
        return takeQuota(db, limits, Date.now());
      };
      const preview = new Preview({ root, clock, log, mailer, hostNames: opts.hostName, isSubscriber, arrivals, takeQuota: quota });
      await preview.reload();
      const server = http.createServer((req, res) => {
        preview.handle(req, res).catch((err: Error) => {
          log(`error: ${err.message}`);
          if (!res.headersSent) res.writeHead(500).end('Something went wrong');
        });
      });
      // The server never dies on bad content: reload() turns it into an overlay.
      let timer: NodeJS.Timeout | undefined;
      let pending = new Set<string>();
      // Reloads run one after another, so an older one can never finish after a newer one.
      let queue = Promise.resolve();
      const watcher = watch([CONTENT_DIR, TEMPLATES_DIR, CONFIG_FILE].map((p) => path.join(root, p)), { ignoreInitial: true });
      // The address is printed only once every file is watched: an edit right after it is never missed.
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
      /** Each changed file's size and modification time when it was last reloaded. */
      const seen = new Map<string, string>();
      const schedule = (file: string) => {
        pending.add(file);
        clearTimeout(timer);
        timer = setTimeout(() => {
          const files = [...pending];
          pending = new Set();
          for (const f of files) seen.set(f, stampOf(f));
          queue = queue.then(() => preview.reload(files.length === 1 ? files[0] : undefined)).catch((err: Error) => void log(`error: ${err.message}`));
        }, 15);
      };
      watcher.on('all', (_event, file) => {
        schedule(file);
        // The watcher drops a second change to a file within 50 ms of the first (an editor that saves
        // twice, a formatter on save): look again once that window has passed.
        setTimeout(() => {
          if (stampOf(file) !== seen.get(file)) schedule(file);
        }, RECHECK_MS);
      });
      // Loopback only: drafts and "send test" are for the editor at this machine, never the network.
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      const bound = server.address() as { address: string; port: number };
      process.stdout.write(`Preview at http://${bound.address}:${bound.port}/ (watching content/, templates/ and almanac.config.json)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void watcher.close();
          server.closeAllConnections();
          server.close(() => resolve());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      mailer?.close();
      db?.close();
    });
}

/** Test copies from the preview are signed as a real send would be, with the configuration as it is at start. */
async function previewMailer(root: string, smtp: string): Promise<Transport> {
  const [{ smtpTransport }, { messageSigner }, { siteConfig }] = await Promise.all([import('../mail/transport.ts'), import('../mail/dkim-signer.ts'), import('./site-config.ts')]);
  const { config } = await siteConfig(root);
  return smtpTransport({ url: smtp, concurrency: 1, ratePerSecond: 0, signer: messageSigner(config) });
}
