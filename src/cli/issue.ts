import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { editionChoices, isCalendarDate, isEdition, localDate, nextSlot } from '../compose/slots.ts';
import type { Config } from '../content/config-schema.ts';
import { loadSite, openContentCache } from '../content/load.ts';
import { warmMjml } from '../render/mjml-thread.ts';
import { ContentError, UsageError, type Problem } from '../content/problems.ts';
import { markdownHere } from '../render/markdown.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import { SqliteLedger } from '../store/ledger.ts';
import { globals, resolveNow } from './options.ts';
import { tuneForShortRun } from './tuning.ts';
import { registerSend } from './send.ts';
import { printJson, withJson } from './json.ts';

/** An issue that has started going out is frozen: the rest of its readers get the same message. */
function refuseIfSending(root: string, id: string): void {
  const file = databasePath(root);
  if (!existsSync(file)) return;
  const db = openDatabase(file);
  try {
    const ledger = new SqliteLedger(db);
    if (ledger.hasDeliveries(id)) {
      const c = ledger.counts(id);
      throw new ContentError([
        { file: `issue ${id}`, expected: 'an issue that has not started going out (a sent issue is never rebuilt)', found: `${c.sent} sent, ${c.queued} queued` },
      ]);
    }
  } finally {
    db.close();
  }
}

/** An edition named on the command line must be one of the site's. */
export function checkEdition(config: Config, edition: string, what = 'edition'): void {
  if (!isEdition(config, edition)) throw new UsageError(`${what} must be ${editionChoices(config)} (the editions of almanac.config.json), found "${edition}"`);
}

/** What `issue build --json` prints. */
export interface IssueBuildReport {
  id: string;
  edition: string;
  date: string;
  number: number;
  subject: string;
  preheader: string;
  /** Stories in the issue (the top story included), of `available` in its window. */
  stories: number;
  available: number;
  guides: number;
  htmlBytes: number;
  /** The issue's folder, relative to the root. */
  dir: string;
  warnings: Problem[];
}

export function registerIssue(program: Command): void {
  const issue = program.command('issue').description('build and send email issues');

  withJson(
    issue
      .command('build <edition>')
      .description('compose and render one issue of an edition of the config (midweek or sunday unless it names others) into dist/issues/<id>/ (or the --out folder); prints its id')
      .option('--date <YYYY-MM-DD>', "the issue's date in the site's time zone (default: the edition's next date)")
      .option('--out <dir>', "the site's output folder, relative to the root, as given to build", 'dist'),
  ).action(async (edition: string, opts: { date?: string; out: string; json?: boolean }, cmd: Command) => {
    if (opts.date !== undefined && !isCalendarDate(opts.date)) {
      throw new UsageError(`--date expects a calendar date as YYYY-MM-DD, found "${opts.date}"`);
    }
    tuneForShortRun();
    // MJML loads on a second thread while this one reads the site.
    warmMjml();
    const g = globals(cmd);
    const now = resolveNow(g.now);
    // The build cache, as `build` uses it: the site is rebuilt right after, from the site as loaded here.
    const content = openContentCache(g.root);
    const site = await loadSite(g.root, { cache: content, markdown: markdownHere });
    checkEdition(site.config, edition);
    const date = opts.date ?? localDate(site.config, nextSlot(site.config, edition, now - 1));
    // Loaded here, not at start-up: MJML and the mail libraries are slow to load and only issues need them.
    const { buildIssue } = await import('../issue/build.ts');
    refuseIfSending(site.root, `${date}-${edition}`);
    const prepared = await buildIssue(site, edition, date, now, { content, outDir: opts.out }).finally(() => content.save());
    const dir = `${path.relative(site.root, path.resolve(site.root, opts.out)) || '.'}/issues/${prepared.id}/`;
    const { id, issueSeconds, siteSeconds } = prepared;
    const { issue: built } = prepared;
    const stories = 1 + built.groups.reduce((n, gr) => n + gr.stories.length, 0);
    if (opts.json) {
      return printJson({
        id,
        edition,
        date,
        number: built.number,
        subject: built.subject,
        preheader: built.preheader,
        stories,
        available: built.available,
        guides: built.guides.length,
        htmlBytes: Buffer.byteLength(prepared.email.html),
        dir,
        warnings: prepared.findings.map((w) => ({ file: w.file ?? `issue ${id}`, field: w.check, expected: w.expected, found: w.found })),
      } satisfies IssueBuildReport);
    }
    for (const w of prepared.findings) process.stderr.write(`warning: ${w.file ?? `issue ${id}`}: ${w.check}: expected ${w.expected}, found ${w.found}\n`);
    process.stderr.write(
      `${built.editionLabel} #${built.number} · ${date} · ${stories} of ${built.available} stories in the window · ` +
        `${built.guides.length} guide${built.guides.length === 1 ? '' : 's'} · ` +
        `${Buffer.byteLength(prepared.email.html).toLocaleString('en-US')} bytes of HTML · ` +
        `issue ${issueSeconds.toFixed(2)} s, site ${siteSeconds.toFixed(2)} s\n  subject: ${built.subject}\n  → ${dir}\n`,
    );
    process.stdout.write(`${id}\n`);
  });
  issue
    .command('new <edition>')
    .description('write the issue notes file (content/issues/<date>-<edition>.md) listing the stories to pick from; never replaces one')
    .option('--date <YYYY-MM-DD>', "the issue's date in the site's time zone (default: the edition's next date)")
    .action(async (edition: string, opts: { date?: string }, cmd: Command) => {
      if (opts.date !== undefined && !isCalendarDate(opts.date)) {
        throw new UsageError(`--date expects a calendar date as YYYY-MM-DD, found "${opts.date}"`);
      }
      const g = globals(cmd);
      const now = resolveNow(g.now);
      const site = await loadSite(g.root, { cache: true, markdown: markdownHere });
      checkEdition(site.config, edition);
      const date = opts.date ?? localDate(site.config, nextSlot(site.config, edition, now - 1));
      const { writeNotesFile } = await import('../issue/notes-file.ts');
      const { issuesSentFrom } = await import('../issue/earlier.ts');
      process.stdout.write(`${writeNotesFile(site, edition, date, issuesSentFrom(site.root))}\n`);
    });
  registerSend(issue);
}
