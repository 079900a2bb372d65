import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { EDITIONS, nextSlot } from '../compose/slots.ts';
import { loadConfig } from '../content/config.ts';
import { ContentError } from '../content/problems.ts';
import type { Config } from '../content/config-schema.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import { SqliteLedger } from '../store/ledger.ts';
import { SlotStore } from '../store/slots.ts';
import { weekdayTimeZone } from '../words/dates.ts';
import { globals, smtpUrlFromEnv } from './options.ts';

async function config(cmd: Command): Promise<{ root: string; config: Config }> {
  const root = path.resolve(globals(cmd).root);
  const { config, problems } = await loadConfig(root);
  if (problems.length) throw new ContentError(problems);
  return { root, config };
}

const local = (config: Config, ms: number) => weekdayTimeZone(ms, config.timezone);

export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description('run in the foreground: build and send each edition on its cron, once (SMTP_URL, ALMANAC_SECRET)')
    .option('--list', 'print the next runs and exit')
    .action(async (opts: { list?: boolean }, cmd: Command) => {
      const { root, config: cfg } = await config(cmd);
      if (opts.list) {
        for (const edition of EDITIONS) {
          let at = Date.now();
          const runs = [0, 1, 2].map(() => (at = nextSlot(cfg, edition, at)));
          process.stdout.write(`${cfg.editions[edition].label} (${cfg.editions[edition].cron}, ${cfg.timezone}): ${runs.map((r) => local(cfg, r)).join(' · ')}\n`);
        }
        return;
      }
      const secret = secretFromEnv();
      const smtp = smtpUrlFromEnv();
      const [{ Scheduler }, { slotRunner }, { smtpTransport }, { smtpTimeouts }, { localHolderAlive }, { SqliteSubscribers }, cron] = await Promise.all([
        import('../schedule/scheduler.ts'),
        import('../schedule/run-slot.ts'),
        import('../mail/transport.ts'),
        import('../mail/send-job.ts'),
        import('../mail/send.ts'),
        import('../store/subscribers.ts'),
        import('node-cron'),
      ]);
      const db = openDatabase(databasePath(root));
      const transport = smtpTransport({ url: smtp, concurrency: cfg.sending.concurrency, ratePerSecond: cfg.sending.ratePerSecond, timeouts: smtpTimeouts(cfg) });
      const holder = `${os.hostname()}:${process.pid}`;
      const subscribers = new SqliteSubscribers(db);
      const holderAlive = localHolderAlive(os.hostname());
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      const scheduler = new Scheduler({
        config: cfg,
        slots: new SlotStore(db),
        runner: slotRunner({ root, secret, ledger: new SqliteLedger(db, { bounce: (id, now) => subscribers.setStatus(id, 'bounced', now) }), transport, clock: () => Date.now(), holder, holderAlive }),
        cron: { schedule: (expression, fn, options) => cron.default.schedule(expression, fn, options) },
        clock: () => Date.now(),
        log,
        holder,
        holderAlive,
        catchUpMs: cfg.catchUpHours * 3600_000,
        leaseMs: cfg.leaseSeconds * 1000,
        // The send's own stop deadline, plus a margin for closing up.
        stopMs: cfg.sending.stopTimeoutSeconds * 1000 + 3000,
      });
      log(`scheduler ${holder} started for ${cfg.title} (${cfg.timezone}; catching up slots missed by up to ${cfg.catchUpHours} h)`);
      await scheduler.start();
      const inTime = await new Promise<boolean>((resolve) => {
        const stop = (name: string) => () => {
          log(`${name}: finishing the messages in flight (at most ${cfg.sending.stopTimeoutSeconds} s), then stopping`);
          void scheduler.stop().then(resolve);
        };
        process.once('SIGINT', stop('SIGINT'));
        process.once('SIGTERM', stop('SIGTERM'));
      });
      transport.close();
      if (inTime) db.close(); // a run still busy may yet write; the process ends below either way
      log('stopped');
      // A connection that never answered may keep the process alive: leave once everything is recorded.
      setTimeout(() => process.exit(), 1000).unref();
    });

  program
    .command('status')
    .description('last and next run of each edition, and the last issue\'s deliveries')
    .action(async (_opts: unknown, cmd: Command) => {
      const { root, config: cfg } = await config(cmd);
      const db = openDatabase(databasePath(root));
      try {
        const slots = new SlotStore(db);
        const ledger = new SqliteLedger(db);
        for (const edition of EDITIONS) {
          const last = slots.last(edition);
          const label = cfg.editions[edition].label;
          process.stdout.write(`${label}: next ${local(cfg, nextSlot(cfg, edition, Date.now()))}\n`);
          if (!last) {
            process.stdout.write('  no run yet\n');
            continue;
          }
          process.stdout.write(`  last ${local(cfg, last.scheduledAt)}: ${last.state}${last.detail ? ` — ${last.detail}` : ''}\n`);
          if (last.issueId) {
            const c = ledger.counts(last.issueId);
            process.stdout.write(`  ${last.issueId}: ${c.sent} sent, ${c.queued} queued, ${c.failed} failed, ${c.skipped} skipped, ${c.uncertain} uncertain\n`);
          }
        }
      } finally {
        db.close();
      }
    });
}
