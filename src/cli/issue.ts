import type { Command } from 'commander';
import { buildCatalog } from '../compose/catalog.ts';
import { isEdition, localDate, nextSlot, EDITIONS } from '../compose/slots.ts';
import { loadSite } from '../content/load.ts';
import { ContentError, UsageError } from '../content/problems.ts';
import { TemplateSet } from '../render/templates.ts';
import { buildSite } from '../site/build.ts';
import { IssueStore } from '../store/issues.ts';
import { globals, resolveNow } from './options.ts';
import { registerSend } from './send.ts';

export function registerIssue(program: Command): void {
  const issue = program.command('issue').description('build and send email issues');

  issue
    .command('build <edition>')
    .description(`compose and render one issue (${EDITIONS.join(' or ')}) into dist/issues/<id>/; prints its id`)
    .option('--date <YYYY-MM-DD>', "the issue's date in the site's time zone (default: the edition's next date)")
    .action(async (edition: string, opts: { date?: string }, cmd: Command) => {
      if (!isEdition(edition)) throw new UsageError(`edition must be ${EDITIONS.join(' or ')}, found "${edition}"`);
      if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
        throw new UsageError(`--date expects YYYY-MM-DD, found "${opts.date}"`);
      }
      const g = globals(cmd);
      const now = resolveNow(g.now);
      const started = performance.now();
      const site = await loadSite(g.root);
      const date = opts.date ?? localDate(site.config, nextSlot(site.config, edition, now - 1));
      // Loaded here, not at start-up: MJML and the mail libraries are slow to load and only issues need them.
      const { prepareIssue, issueId } = await import('../mail/issue.ts');
      const store = new IssueStore(site.root);
      const id = issueId(edition, date);
      const prepared = await prepareIssue({
        site,
        catalog: buildCatalog(site),
        templates: await TemplateSet.load(site.root, 'email'),
        edition,
        date,
        number: store.numberFor(id),
        now,
      });
      const errors = prepared.findings.filter((f) => f.severity === 'error');
      if (errors.length) {
        throw new ContentError(errors.map((f) => ({ file: `issue ${id}`, field: f.check, expected: f.expected, found: f.found })));
      }
      store.save({ issue: prepared.issue, html: prepared.email.html, text: prepared.email.text });
      const issueSeconds = (performance.now() - started) / 1000;
      // The whole site is rebuilt (atomically) so the archive, feeds and sitemap include the issue.
      await buildSite({ root: site.root, outDir: 'dist', now });
      const siteSeconds = (performance.now() - started) / 1000 - issueSeconds;
      const { issue: built } = prepared;
      const stories = 1 + built.groups.reduce((n, gr) => n + gr.stories.length, 0);
      for (const w of prepared.findings) process.stderr.write(`warning: issue ${id}: ${w.check}: expected ${w.expected}, found ${w.found}\n`);
      process.stderr.write(
        `${built.editionLabel} #${built.number} · ${date} · ${stories} of ${built.available} stories in the window · ` +
          `${built.guides.length} guide${built.guides.length === 1 ? '' : 's'} · ` +
          `${Buffer.byteLength(prepared.email.html).toLocaleString('en-US')} bytes of HTML · ` +
          `issue ${issueSeconds.toFixed(2)} s, site ${siteSeconds.toFixed(2)} s\n  subject: ${built.subject}\n  → dist/issues/${id}/\n`,
      );
      process.stdout.write(`${id}\n`);
    });
  registerSend(issue);
}
