import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { ConfigError, UsageError } from '../content/problems.ts';
import type { Config } from '../content/config-schema.ts';
import { databasePath, openDatabase, openForReading } from '../store/database.ts';
import { IntakeStore } from '../store/intake.ts';
import { printJson, withJson } from './json.ts';
import { globals, resolveNow } from './options.ts';
import { siteConfig } from './site-config.ts';
import { terminalText } from './terminal-text.ts';
import type { FetchReport } from '../intake/run.ts';

/** --since: a date (midnight in the site's time zone) or a date-time. */
function parseSince(value: string, config: Config): number {
  const dt = DateTime.fromISO(value.trim(), { zone: config.timezone });
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim()) || !dt.isValid) {
    throw new UsageError(`--since expects a date such as 2026-12-01 or a date-time such as 2026-12-01T08:00:00Z, found "${value}"`);
  }
  return dt.toMillis();
}

function printFetchReport(r: FetchReport): void {
  // Titles and reasons quote the feeds: a bidirectional override would reorder the line it is on.
  const out = (line: string) => process.stdout.write(`${terminalText(line)}\n`);
  for (const a of r.added) out(`${r.dryRun ? 'Would add' : 'Added'} ${a.file}  ${JSON.stringify(a.title)} (${a.source})`);
  // A feed re-read in full repeats every story it had: those are counted, the other skips listed.
  const present = new Set(r.skipped.filter((s) => s.reason.startsWith('already present')));
  for (const s of r.skipped) if (!present.has(s)) out(`Skipped ${JSON.stringify(s.title)} (${s.source}): ${s.reason}`);
  if (present.size) out(`Skipped ${present.size.toLocaleString('en')} ${present.size === 1 ? 'entry' : 'entries'} already present (--json lists them)`);
  for (const s of r.sources) if (s.status === 'failed') out(`Failed ${s.name} (${s.url}): ${s.error}`);
  const count = (status: string) => r.sources.filter((s) => s.status === status).length;
  const n = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  out(
    `${r.added.length} ${r.dryRun ? 'to add' : 'added'}, ${r.skipped.length} skipped; ${n(r.sources.length, 'source')}: ${count('fetched')} read, ${count('unchanged')} unchanged, ${count('failed')} failed${r.dryRun ? ' (dry run: nothing written)' : ''}`,
  );
}

export function registerNews(program: Command): void {
  const news = program.command('news').description('collect news items from the configured feeds, or one page');

  withJson(
    news
      .command('fetch')
      .description('read every source in almanac.config.json and write each new entry as a news item')
      .option('--source <name>', 'only this source')
      .option('--since <date>', 'leave out entries published before this date (YYYY-MM-DD or a date-time)')
      .option('--dry-run', 'say what would be added, write nothing'),
  ).action(async (opts: { source?: string; since?: string; dryRun?: boolean; json?: boolean }, cmd: Command) => {
    const g = globals(cmd);
    const { root, config } = await siteConfig(g.root);
    const now = resolveNow(g.now);
    if (config.sources.length === 0) {
      throw new ConfigError([{ file: 'almanac.config.json', field: 'sources', expected: 'at least one feed, e.g. [{"name": "Meta AI Blog", "url": "https://ai.meta.com/blog/rss/"}]', found: 'none' }]);
    }
    if (opts.source !== undefined && !config.sources.some((s) => s.name.toLowerCase() === opts.source!.toLowerCase())) {
      throw new UsageError(`--source: no source named "${opts.source}"; the sources are ${config.sources.map((s) => `"${s.name}"`).join(', ')}`);
    }
    const since = opts.since === undefined ? undefined : parseSince(opts.since, config);
    const { fetchNews } = await import('../intake/run.ts');
    // A dry run changes nothing, the store included: it leaves no database behind in a new site.
    const db = opts.dryRun ? openForReading(databasePath(root)) : openDatabase(databasePath(root));
    let report: FetchReport;
    try {
      report = await fetchNews({ root, config, now, source: opts.source, since, dryRun: opts.dryRun, store: new IntakeStore(db) });
    } finally {
      db.close();
    }
    if (opts.json) printJson(report);
    else printFetchReport(report);
    if (!report.sources.some((s) => s.status !== 'failed')) process.exitCode = 1;
  });

  withJson(
    news
      .command('add <url>')
      .description('fetch one page and write a news item from its title, description, date and site name, for you to finish')
      .option('--score <n>', 'the importance, 1 to 10', '5'),
  ).action(async (url: string, opts: { score: string; json?: boolean }, cmd: Command) => {
    const g = globals(cmd);
    const score = Number(opts.score);
    if (!Number.isInteger(score) || score < 1 || score > 10) throw new UsageError(`--score expects a whole number from 1 to 10, found "${opts.score}"`);
    const { root, config } = await siteConfig(g.root);
    const [{ addPage }, { readerLink }] = await Promise.all([import('../intake/page.ts'), import('../intake/summary.ts')]);
    const db = openDatabase(databasePath(root));
    let added;
    try {
      added = await addPage({ root, config, url, now: resolveNow(g.now), score, store: new IntakeStore(db) });
    } finally {
      db.close();
    }
    if (opts.json) return printJson(added);
    process.stdout.write(`${terminalText(`Created ${added.file}  ${JSON.stringify(added.title)} (${added.source})`)}\n`);
    if (added.undated) process.stdout.write('The page gives no publication date: it is dated now; correct "published" if need be.\n');
    // The editor chose this page, so it is written; but the issue's link check will refuse it.
    if (!readerLink(new URL(added.url))) process.stdout.write('Its address is plain http or local: emails link only to https, so the issue will not build with it until "url" is an https address.\n');
    process.stdout.write('Check its title, summary, score and topics, then preview it.\n');
  });
}
