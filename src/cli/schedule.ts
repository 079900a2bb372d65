import os from 'node:os';
import type { Command } from 'commander';
import { editionConfig, editionNames, nextSlot, type Edition } from '../compose/slots.ts';
import { UsageError } from '../content/problems.ts';
import type { Config } from '../content/config-schema.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { databasePath, openDatabase, type Db } from '../store/database.ts';
import { SlotStore } from '../store/slots.ts';
import { IntakeStore } from '../store/intake.ts';
import { fetchBeforeIssue } from '../intake/before-issue.ts';
import { printJson, withJson } from './json.ts';
import { globals, resolveNow, smtpUrlFromEnv } from './options.ts';
import { localTime, siteConfig } from './site-config.ts';

/** What `schedule --list --json` prints: the next three runs of each edition. */
export interface ScheduleList {
  timezone: string;
  editions: { edition: Edition; label: string; cron: string; next: string[] }[];
}

function scheduleList(config: Config, now: number): ScheduleList {
  return {
    timezone: config.timezone,
    editions: editionNames(config).map((edition) => {
      let at = now;
      const next = [0, 1, 2].map(() => new Date((at = nextSlot(config, edition, at))).toISOString());
      return { edition, label: editionConfig(config, edition).label, cron: editionConfig(config, edition).cron, next };
    }),
  };
}

export function registerSchedule(program: Command): void {
  withJson(
    program
      .command('schedule')
      .description('run in the foreground: build and send each edition on its cron, once (SMTP_URL, ALMANAC_SECRET)')
      .option('--list', 'print the next runs (after --now, if given) and exit'),
  ).action(async (opts: { list?: boolean; json?: boolean }, cmd: Command) => {
    const g = globals(cmd);
    const { root, config: cfg } = await siteConfig(g.root);
    if (opts.list) {
      const list = scheduleList(cfg, resolveNow(g.now));
      if (opts.json) return printJson(list);
      for (const e of list.editions) {
        process.stdout.write(`${e.label} (${e.cron}, ${cfg.timezone}): ${e.next.map((r) => localTime(cfg, Date.parse(r))).join(' · ')}\n`);
      }
      return;
    }
    if (opts.json) throw new UsageError('--json goes with --list: the running scheduler writes a log');
    const secret = secretFromEnv();
    const smtp = smtpUrlFromEnv();
    const [{ Scheduler }, { slotRunner }, { smtpTransport }, { smtpTimeouts, pacePerSecond }, { localHolderAlive }, { sendingLedger }, cron] = await Promise.all([
      import('../schedule/scheduler.ts'),
      import('../schedule/run-slot.ts'),
      import('../mail/transport.ts'),
      import('../mail/send-job.ts'),
      import('../mail/send.ts'),
      import('../store/sending-ledger.ts'),
      import('node-cron'),
    ]);
    const db = openDatabase(databasePath(root));
    const { messageSigner } = await import('../mail/dkim-signer.ts');
    const signer = messageSigner(cfg);
    const transport = smtpTransport({ url: smtp, concurrency: cfg.sending.concurrency, ratePerSecond: pacePerSecond(cfg), timeouts: smtpTimeouts(cfg), signer });
    const holder = `${os.hostname()}:${process.pid}`;
    const holderAlive = localHolderAlive(os.hostname());
    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    const ledger = sendingLedger(db, cfg);
    const scheduler = new Scheduler({
      config: cfg,
      slots: new SlotStore(db),
      runner: slotRunner({ root, secret, ledger, transport, clock: () => Date.now(), holder, holderAlive, beforeBuild: fetchBeforeIssue({ root, store: new IntakeStore(db), clock: () => Date.now(), log }) }),
      pausedByHand: (now) => ledger.pausedByHand(now),
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
    const polling = await bouncePolling(cfg, db, secret, log);
    log(`scheduler ${holder} started for ${cfg.title} (${cfg.timezone}; catching up slots missed by up to ${cfg.catchUpHours} h)`);
    await scheduler.start();
    polling?.start();
    const inTime = await new Promise<boolean>((resolve) => {
      const stop = (name: string) => () => {
        log(`${name}: finishing the messages in flight (at most ${cfg.sending.stopTimeoutSeconds} s), then stopping`);
        void Promise.all([scheduler.stop(), polling?.stop() ?? true]).then((ended) => resolve(ended.every(Boolean)));
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
}

/** Polling of the bounces.imap mailbox every `intervalMinutes`, when one is configured. */
async function bouncePolling(cfg: Config, db: Db, secret: string, log: (line: string) => void) {
  const imap = cfg.bounces.imap;
  if (!imap) return undefined;
  const [{ BouncePolling, imapBouncePoll }, { imapPasswordFromEnv }] = await Promise.all([import('../schedule/bounce-polling.ts'), import('../mail/imap-intake.ts')]);
  const password = imapPasswordFromEnv();
  log(`bounces: polling ${imap.user}@${imap.host}:${imap.port} "${imap.mailbox}" every ${imap.intervalMinutes} min`);
  return new BouncePolling({
    poll: imapBouncePoll(db, { ...cfg, bounces: { ...cfg.bounces, imap } }, secret, password, () => Date.now(), log),
    intervalMs: imap.intervalMinutes * 60_000,
    // A poll aborted at stop ends as soon as its connection closes; this only bounds a hang.
    stopMs: 3000,
    clock: () => Date.now(),
    log,
  });
}
