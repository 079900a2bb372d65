import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { EDITIONS, isEdition, type Edition } from '../compose/slots.ts';
import { ContentError, UsageError, formatProblem } from '../content/problems.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import { importCsv, parseEditions } from '../store/import.ts';
import { STATUSES, SqliteSubscribers, isEmailAddress, type SubscriberFilter, type SubscriberStatus } from '../store/subscribers.ts';
import { globals, resolveNow } from './options.ts';

function withStore<T>(cmd: Command, fn: (store: SqliteSubscribers, root: string) => T): T {
  const { root } = globals(cmd);
  const db = openDatabase(databasePath(path.resolve(root)));
  try {
    return fn(new SqliteSubscribers(db), path.resolve(root));
  } finally {
    db.close();
  }
}

function editionsOption(value: string | undefined): Edition[] | undefined {
  if (value === undefined) return undefined;
  const editions = parseEditions(value);
  if (!editions) throw new UsageError(`--editions expects midweek, sunday or "midweek,sunday", found "${value}"`);
  return editions;
}

function filterOptions(opts: { edition?: string; status?: string }): SubscriberFilter {
  if (opts.edition !== undefined && !isEdition(opts.edition)) throw new UsageError(`--edition expects ${EDITIONS.join(' or ')}, found "${opts.edition}"`);
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

const label = (editions: readonly Edition[]) => (editions.length ? editions.join(' ') : 'none');

export function registerSubscribers(program: Command): void {
  const subscribers = program.command('subscribers').description('manage the subscriber list (SQLite at DATABASE_URL or .almanac/almanac.db)');

  subscribers
    .command('add <email>')
    .description('add an active subscriber, or update one')
    .option('--name <name>', "the reader's name")
    .option('--editions <list>', 'midweek, sunday or "midweek,sunday" (default: both)')
    .action((email: string, opts: { name?: string; editions?: string }, cmd: Command) => {
      if (!isEmailAddress(email.trim())) {
        throw new ContentError([{ file: 'command line', field: 'email', expected: 'an email address', found: JSON.stringify(email) }]);
      }
      const editions = editionsOption(opts.editions);
      const now = resolveNow(globals(cmd).now);
      withStore(cmd, (store) => {
        const { subscriber, created } = store.upsert({ email, name: opts.name, editions, status: 'active' }, now);
        process.stdout.write(`${created ? 'Added' : 'Updated'} ${subscriber.email} (${label(subscriber.editions)})\n`);
      });
    });

  subscribers
    .command('remove <email>')
    .description('delete a subscriber and everything known about them')
    .action((email: string, _opts: unknown, cmd: Command) => {
      withStore(cmd, (store) => {
        if (!store.remove(email)) {
          throw new ContentError([{ file: 'subscribers', field: 'email', expected: 'an address on the list', found: JSON.stringify(email) }]);
        }
        process.stdout.write(`Removed ${email.trim()}\n`);
      });
    });

  withFilterOptions(subscribers.command('list').description('list subscribers, oldest first'))
    .action((opts: { edition?: string; status?: string }, cmd: Command) => {
      const filter = filterOptions(opts);
      withStore(cmd, (store) => {
        let n = 0;
        for (const s of store.list(filter)) {
          n++;
          const since = new Date(s.createdAt).toISOString().slice(0, 10);
          process.stdout.write(`${s.email}\t${s.name}\t${label(s.editions)}\t${s.status}\t${since}\n`);
        }
        process.stderr.write(`${n} subscriber${n === 1 ? '' : 's'}\n`);
      });
    });

  subscribers
    .command('import <file>')
    .description('import a CSV with a header row: email (required), name, editions')
    .action((file: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      let source: Buffer;
      try {
        source = readFileSync(path.resolve(file));
      } catch (err) {
        throw new ContentError([{ file, expected: 'a readable CSV file', found: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message }]);
      }
      withStore(cmd, (store) => {
        const report = importCsv(store, source, file, resolveNow(g.now));
        process.stdout.write(
          `Imported ${report.imported} new subscriber${report.imported === 1 ? '' : 's'}, merged ${report.merged} ` +
            `duplicate${report.merged === 1 ? '' : 's'}, left ${report.kept} who had unsubscribed or bounced as they were, ` +
            `rejected ${report.rejected.length} line${report.rejected.length === 1 ? '' : 's'}.\n`,
        );
        for (const p of report.rejected) process.stdout.write(`  rejected ${formatProblem(p)}\n`);
      });
    });

  withFilterOptions(subscribers.command('export').description('write the list as CSV to standard output (the import format, plus status and dates)'))
    .action((opts: { edition?: string; status?: string }, cmd: Command) => {
      const filter = filterOptions(opts);
      withStore(cmd, (store) => {
        process.stdout.write(stringify([['email', 'name', 'editions', 'status', 'created_at']]));
        for (const s of store.list(filter)) {
          process.stdout.write(stringify([[s.email, s.name, s.editions.join(' '), s.status, new Date(s.createdAt).toISOString()]]));
        }
      });
    });
}
