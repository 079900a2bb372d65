import type { Command } from 'commander';
import { buildCatalog } from '../compose/catalog.ts';
import { EDITIONS, localDate, nextSlot } from '../compose/slots.ts';
import { loadSite } from '../content/load.ts';
import { ContentError, formatProblem, type Problem } from '../content/problems.ts';
import { differsFromLatest } from '../content/publish.ts';
import type { Finding } from '../mail/checks.ts';
import { TemplateSet } from '../render/templates.ts';
import { renderSite } from '../site/build.ts';
import { IssueStore } from '../store/issues.ts';
import { globals, resolveNow } from './options.ts';
import { tuneForShortRun } from './tuning.ts';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate content, configuration and templates, render everything in memory and run the email checks; writes nothing')
    .action(async (_opts: unknown, cmd: Command) => {
      tuneForShortRun();
      const g = globals(cmd);
      const now = resolveNow(g.now);
      const site = await loadSite(g.root);
      const { files, pages } = await renderSite(site, now);
      const notes: string[] = [];
      const problems: Problem[] = [];
      const warnings: string[] = [];
      const report = (label: string, findings: Finding[]) => {
        for (const f of findings) {
          if (f.severity === 'error') problems.push({ file: label, field: f.check, expected: f.expected, found: f.found });
          else warnings.push(`warning: ${label}: ${f.check}: expected ${f.expected}, found ${f.found}`);
        }
      };

      // Loaded here, not at start-up: MJML and the mail libraries are slow to load.
      const { checkIssueEmail, issueId, prepareIssue } = await import('../issue/prepare.ts');
      // Every issue already built, as stored …
      const store = new IssueStore(site.root);
      const built = store.list();
      for (const { issue, html, text } of built) report(`issue ${issue.id}`, (await checkIssueEmail(site.config, issue, { html, text })).findings);

      // … and the next Midweek and Sunday as they would be built now.
      const templates = await TemplateSet.load(site.root, 'email');
      const catalog = buildCatalog(site);
      for (const edition of EDITIONS) {
        const date = localDate(site.config, nextSlot(site.config, edition, now - 1));
        const label = `next ${site.config.editions[edition].label} (${date})`;
        try {
          const prepared = await prepareIssue({ site, catalog, templates, edition, date, number: store.numberFor(issueId(edition, date)), now });
          report(label, prepared.findings);
        } catch (err) {
          // An empty window or a local baseUrl is not a fault of today's content: say it, don't fail.
          if (!(err instanceof ContentError)) throw err;
          for (const p of err.problems) notes.push(`${label}: ${formatProblem(p)}`);
        }
      }
      if (problems.length) throw new ContentError(problems);

      const published = site.guides.filter((guide) => guide.versions.length > 0);
      process.stdout.write(
        `No problems: ${published.length} published guides, ${site.news.length} news items, ` +
          `${pages} pages (${files.size} files) rendered, ${built.length} built issue${built.length === 1 ? '' : 's'} checked.\n`,
      );
      for (const w of warnings) process.stdout.write(`  ${w}\n`);
      for (const guide of site.guides) {
        if (guide.versions.length === 0) notes.push(`${guide.file} is not published yet`);
        else if (differsFromLatest(guide)) notes.push(`${guide.file} has changes not yet published`);
      }
      for (const n of notes) process.stdout.write(`  note: ${n}\n`);
    });
}
