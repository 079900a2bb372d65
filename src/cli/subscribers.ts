import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { editionChoices, editionNames, isEdition, type Edition } from '../compose/slots.ts';
import { ContentError, IoError, UsageError, formatProblem } from '../content/problems.ts';
import { databasePath, openDatabase, type Db } from '../store/database.ts';
import { MailEvents, type MailEvent } from '../store/mail-events.ts';
import { editionsExpected, importCsv, parseEditions } from '../store/import.ts';
import { neutraliseCell } from '../store/csv-cells.ts';
import { STATUSES, SqliteSubscribers, addressProblem, hasLeft, type Subscriber, type SubscriberFilter, type SubscriberStatus } from '../store/subscribers.ts';
import { printJson, printJsonList, withJson } from './json.ts';
import { globals, resolveNow } from './options.ts';
import { siteConfig } from './site-config.ts';
import { systemError, systemErrorWords } from './system-error.ts';

function withStore<T>(cmd: Command, fn: (store: SqliteSubscribers, root: string, db: Db) => T): T {
  const { root } = globals(cmd);
  const db = openDatabase(databasePath(path.resolve(root)));
  try {
    return fn(new SqliteSubscribers(db), path.resolve(root), db);
  } finally {
    db.close();
  }
}

/** The site's edition names, from its config: only read when a command names editions. */
async function configuredEditions(cmd: Command): Promise<Edition[]> {
  return editionNames((await siteConfig(globals(cmd).root)).config);
}

async function editionsOption(cmd: Command, value: string | undefined): Promise<Edition[] | undefined> {
  if (value === undefined) return undefined;
  const names = await configuredEditions(cmd);
  const editions = parseEditions(value, names);
  if (!editions) throw new UsageError(`--editions expects editions of this site (${editionsExpected(names)}), found "${value}"`);
  return editions;
}

async function filterOptions(cmd: Command, opts: { edition?: string; status?: string }): Promise<SubscriberFilter> {
  if (opts.edition !== undefined) {
    const { config } = await siteConfig(globals(cmd).root);
    if (!isEdition(config, opts.edition)) throw new UsageError(`--edition expects ${editionChoices(config)} (the editions of almanac.config.json), found "${opts.edition}"`);
  }
  if (opts.status !== undefined && !(STATUSES as readonly string[]).includes(opts.status)) {
    throw new UsageError(`--status expects one of ${STATUSES.join(', ')}, found "${opts.status}"`);
  }
  return { edition: opts.edition as Edition | undefined, status: opts.status as SubscriberStatus | undefined };
}

/** --edition and --status, shared by list and export. */
function withFilterOptions(command: Command): Command {
  return command
    .option('--edition <edition>', 'only those who receive this edition')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`);
}

/** Who runs the command, for the record of a re-subscription. */
function osUser(): string {
  try {
    return os.userInfo().username || 'unknown user';
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown user';
  }
}

/** One entry of `subscribers list --json`. */
export interface SubscriberEntry {
  email: string;
  name: string;
  editions: Edition[];
  status: SubscriberStatus;
  createdAt: string;
}

const listEntry = (s: Subscriber): SubscriberEntry => ({ email: s.email, name: s.name, editions: [...s.editions], status: s.status, createdAt: new Date(s.createdAt).toISOString() });

/** What `subscribers show --json` prints. */
export interface SubscriberShow extends SubscriberEntry {
  confirmedAt: string | null;
  unsubscribedAt: string | null;
  unsubscribeReason: string | null;
  resubscribedAt: string | null;
  resubscribedBy: string | null;
  history: { date: string; kind: string; issue: string | null; code: string; text: string }[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const showEntry = (s: Subscriber): Omit<SubscriberShow, 'history'> => ({
  ...listEntry(s),
  confirmedAt: iso(s.confirmedAt),
  unsubscribedAt: iso(s.unsubscribedAt),
  unsubscribeReason: s.unsubscribeReason,
  resubscribedAt: iso(s.resubscribedAt),
  resubscribedBy: s.resubscribedBy,
});

const historyEntry = (e: MailEvent) => ({ date: new Date(e.receivedAt).toISOString(), kind: e.kind, issue: e.issueId, code: e.code, text: e.text });

const label = (editions: readonly Edition[]) => (editions.length ? editions.join(' ') : 'none');

export function registerSubscribers(program: Command): void {
  const subscribers = program.command('subscribers').description('manage the subscriber list (SQLite at DATABASE_URL or .almanac/almanac.db)');

  subscribers
    .command('add <email>')
    .description('add an active subscriber, or update one (never one who unsubscribed or bounced, unless --resubscribe)')
    .option('--name <name>', "the reader's name")
    .option('--editions <list>', 'editions of the config, e.g. midweek, sunday or "midweek,sunday" (default: all)')
    .option('--resubscribe', 'bring back an address that unsubscribed or bounced, because its reader asked; who and when are recorded')
    .option('--by <name>', 'who is re-subscribing it, for the record (default: the operating-system user)')
    .action(async (email: string, opts: { name?: string; editions?: string; resubscribe?: boolean; by?: string }, cmd: Command) => {
      const wrong = addressProblem(email.trim());
      if (wrong) throw new ContentError([{ file: 'command line', field: 'email', expected: 'an email address', found: wrong }]);
      const editions = await editionsOption(cmd, opts.editions);
      // A new address with no --editions gets every edition of the site; an existing one keeps its own.
      const all = editions ? undefined : await configuredEditions(cmd);
      if (opts.by !== undefined && !opts.resubscribe) throw new UsageError('--by names who re-subscribes an address: use it with --resubscribe');
      if (opts.by !== undefined && !opts.by.trim()) throw new UsageError('--by expects a name, found nothing');
      const by = opts.resubscribe ? (opts.by?.trim() ?? osUser()) : undefined;
      const now = resolveNow(globals(cmd).now);
      withStore(cmd, (store) => {
        const before = store.find(email);
        const { subscriber, created } = store.upsert({ email, name: opts.name, editions: editions ?? (before ? undefined : all), status: 'active', resubscribedBy: by }, now);
        const back = before && hasLeft(before.status);
        const verb = created ? 'Added' : back ? 'Re-subscribed' : 'Updated';
        const record = back ? `; recorded as re-subscribed by ${by} at ${new Date(now).toISOString()}` : '';
        process.stdout.write(`${verb} ${subscriber.email} (${label(subscriber.editions)})${record}\n`);
      });
    });

  subscribers
    .command('remove <email>')
    .description("delete a subscriber: their row and signed links, and their address in the send ledger (which keeps only each issue's counts); queued copies are cancelled")
    .action((email: string, _opts: unknown, cmd: Command) => {
      withStore(cmd, (store, _root, db) => {
        if (!store.remove(email)) {
          throw new ContentError([{ file: 'subscribers', field: 'email', expected: 'an address on the list', found: JSON.stringify(email) }]);
        }
        // Copies of the old pages still in the write-ahead log go too (unless a reader holds them:
        // then they go at the next checkpoint).
        db.pragma('wal_checkpoint(TRUNCATE)');
        process.stdout.write(`Removed ${email.trim()}\n`);
      });
    });

  withJson(withFilterOptions(subscribers.command('list').description('list subscribers, oldest first (tab-separated)')))
    .action(async (opts: { edition?: string; status?: string; json?: boolean }, cmd: Command) => {
      const filter = await filterOptions(cmd, opts);
      withStore(cmd, (store) => {
        if (opts.json) return printJsonList(store.list(filter), listEntry);
        let n = 0;
        for (const s of store.list(filter)) {
          n++;
          const since = new Date(s.createdAt).toISOString().slice(0, 10);
          process.stdout.write(`${s.email}\t${s.name}\t${label(s.editions)}\t${s.status}\t${since}\n`);
        }
        process.stderr.write(`${n} subscriber${n === 1 ? '' : 's'}\n`);
      });
    });

  withJson(subscribers.command('show <email>').description("one reader: their state, and every bounce, complaint and mailto unsubscribe that came back"))
    .action((email: string, opts: { json?: boolean }, cmd: Command) => {
      withStore(cmd, (store, _root, db) => {
        const s = store.find(email);
        if (!s) throw new ContentError([{ file: 'subscribers', field: 'email', expected: 'an address on the list', found: JSON.stringify(email) }]);
        // The rules only matter when applying a report; reading the history needs none.
        const history = new MailEvents(db, store, { softLimit: 0, softWindowDays: 0 }).forSubscriber(s.id).map(historyEntry);
        if (opts.json) return printJson({ ...showEntry(s), history } satisfies SubscriberShow);
        const e = showEntry(s);
        process.stdout.write(
          `${e.email}${e.name ? ` (${e.name})` : ''}\n` +
            `status\t${e.status}${e.unsubscribeReason ? ` (${e.unsubscribeReason})` : ''}\n` +
            `editions\t${label(s.editions)}\n` +
            `since\t${e.createdAt}\n` +
            (e.confirmedAt ? `confirmed\t${e.confirmedAt}\n` : '') +
            (e.unsubscribedAt ? `unsubscribed\t${e.unsubscribedAt}\n` : '') +
            (e.resubscribedAt ? `re-subscribed\t${e.resubscribedAt} by ${e.resubscribedBy}\n` : ''),
        );
        process.stdout.write(history.length ? 'history:\n' : 'history: nothing came back\n');
        for (const h of history) process.stdout.write(`  ${h.date}\t${h.kind}\t${h.issue ?? '-'}\t${h.code || '-'}\t${h.text}\n`);
      });
    });

  subscribers
    .command('import <file>')
    .description('import a CSV with a header row: email (required), name, editions')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const { config } = await siteConfig(g.root);
      let source: Buffer;
      try {
        source = readFileSync(path.resolve(file));
      } catch (err) {
        const io = systemError(err);
        if (!io) throw err;
        throw new IoError([{ file, expected: 'a readable CSV file', found: io.code === 'ENOENT' ? 'no such file' : systemErrorWords(io) }], io.code, { cause: err });
      }
      withStore(cmd, (store) => {
        const report = importCsv(store, source, file, resolveNow(g.now), editionNames(config), config.editionsOff ?? []);
        process.stdout.write(
          `Imported ${report.imported} new subscriber${report.imported === 1 ? '' : 's'}, merged ${report.merged} ` +
            `duplicate${report.merged === 1 ? '' : 's'}, left ${report.kept} who had unsubscribed or bounced as they were, ` +
            `rejected ${report.rejected.length} line${report.rejected.length === 1 ? '' : 's'}.\n`,
        );
        for (const p of report.rejected) process.stdout.write(`  rejected ${formatProblem(p)}\n`);
      });
    });

  withFilterOptions(subscribers.command('export').description('write the list as CSV to standard output (the import format, plus status and dates; cells that a spreadsheet would run as formulas start with a single quote)'))
    .action(async (opts: { edition?: string; status?: string }, cmd: Command) => {
      const filter = await filterOptions(cmd, opts);
      withStore(cmd, (store) => {
        process.stdout.write(stringify([['email', 'name', 'editions', 'status', 'created_at']]));
        for (const s of store.list(filter)) {
          const cells = [s.email, s.name, s.editions.join(' '), s.status, new Date(s.createdAt).toISOString()];
          process.stdout.write(stringify([cells.map(neutraliseCell)]));
        }
      });
    });
}
