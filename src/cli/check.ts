import { readIssueNotes } from '../content/issue-notes.ts';
import type { Command } from 'commander';
import { buildCatalog } from '../compose/catalog.ts';
import { editionChoices, editionConfig, editionNames, isEdition, localDate, nextSlot } from '../compose/slots.ts';
import { loadSite } from '../content/load.ts';
import { ContentError, EmptyWindowError, ProblemError, formatProblem, type Problem } from '../content/problems.ts';
import { differsFromLatest, lacksCard } from '../content/publish.ts';
import type { Finding } from '../mail/checks.ts';
import { TemplateSet } from '../render/templates.ts';
import { renderSite } from '../site/build.ts';
import { IssueStore } from '../store/issues.ts';
import { printJson, withJson } from './json.ts';
import { globals, resolveNow } from './options.ts';
import { tuneForShortRun } from './tuning.ts';

/** What `check --json` prints when there is no problem. */
export interface CheckReport {
  publishedGuides: number;
  newsItems: number;
  pages: number;
  files: number;
  builtIssuesChecked: number;
  warnings: Problem[];
  notes: string[];
}

export function registerCheck(program: Command): void {
  withJson(
    program
      .command('check')
      .description('validate content, configuration and templates, render everything in memory and run the email checks; writes nothing'),
  ).action(async (opts: { json?: boolean }, cmd: Command) => {
    tuneForShortRun();
    const g = globals(cmd);
    const now = resolveNow(g.now);
    const site = await loadSite(g.root);
    const { files, pages } = await renderSite(site, now);
    const notes: string[] = [];
    // Keyed by its line: the next issues of two editions can fail for the same reason.
    const problems = new Map<string, Problem>();
    const add = (p: Problem) => problems.set(formatProblem(p), p);
    const warnings: Problem[] = [];
    const report = (label: string, findings: Finding[]) => {
      for (const f of findings) {
        const p = { file: f.file ?? label, field: f.check, expected: f.expected, found: f.found };
        if (f.severity === 'error') add(p);
        else warnings.push(p);
      }
    };

    // Loaded here, not at start-up: MJML and the mail libraries are slow to load.
    const [{ checkIssueEmail, issueId, prepareIssue }, { sendingProblems }, { clientSupport, spamCheck }, { issuesSentFrom }] = await Promise.all([
      import('../issue/prepare.ts'),
      import('../mail/readiness.ts'),
      import('../issue/thorough-checks.ts'),
      import('../issue/earlier.ts'),
    ]);
    // Every issue's notes, wherever its date.
    const { notesProblems } = await import('../issue/notes-file.ts');
    const noted = notesProblems(site, issuesSentFrom(site.root));
    noted.errors.forEach(add);
    warnings.push(...noted.warnings);
    // Settings without which no issue goes out, whatever the news.
    for (const p of sendingProblems(site.config)) add(p);
    // Every issue already built, as stored …
    const store = new IssueStore(site.root);
    const built = store.list();
    const templates = await TemplateSet.load(site.root, 'email');
    for (const { issue, html, text } of built) {
      const { findings } = await checkIssueEmail(site.config, issue, { html, text }, templates);
      // Every build checks contrast now, so a stored issue that fails it was built before: it cannot
      // be changed (it may have gone out), and only new issues can do better.
      report(`issue ${issue.id}`, findings.map((f) => (f.check === 'contrast' ? { ...f, severity: 'warning' as const } : f)));
    }

    // … and the next issue of each edition as it would be built now.
    // An edition's own template for a name the config does not have is never used: a typo, or an edition removed.
    for (const { file } of templates.files) {
      const own = /^email\/pages\/issue\.([^.]+)\.(mjml|txt)\.hbs$/.exec(file.rel);
      if (own && !isEdition(site.config, own[1]!)) {
        warnings.push({ file: file.display, expected: `a template of an edition of almanac.config.json (${editionChoices(site.config)}); only those are used`, found: `one for "${own[1]}"` });
      }
    }
    // What the templates use that a client family lacks: said of the template, once for every edition.
    for (const gap of clientSupport(templates)) {
      const p = {
        file: `${gap.file}:${[...gap.lines].join(', ')}`,
        field: 'client-support',
        expected: gap.critical ? 'layout that every client family supports' : 'features every client family supports',
        found: `${gap.feature}, not supported by ${gap.families.join(', ')}`,
      };
      if (gap.critical) add(p);
      else warnings.push(p);
    }
    const catalog = buildCatalog(site);
    const earlier = issuesSentFrom(site.root);
    let spamHung = false;
    for (const edition of editionNames(site.config)) {
      const date = localDate(site.config, nextSlot(site.config, edition, now - 1));
      const label = `next ${editionConfig(site.config, edition).label} (${date})`;
      try {
        const id = issueId(edition, date);
        const prepared = await prepareIssue({ site, catalog, templates, edition, date, number: store.numberFor(id), now, earlier, notes: readIssueNotes(site.root, id) });
        report(label, prepared.findings);
        // The spam score of the issues about to go out; after one that SpamAssassin did not answer
        // in time, not asked again: said once rather than waited for once per edition.
        if (spamHung) continue;
        const spam = await spamCheck(site.config, prepared.sampleMime);
        spamHung = spam.timedOut === true;
        report(label, spam.findings);
        for (const n of spam.notes) notes.push(n.startsWith('no spam score') ? n : `${label}: ${n}`);
      } catch (err) {
        // No news in the window yet is not a fault of today's content: say it, don't fail.
        if (err instanceof EmptyWindowError) for (const p of err.problems) notes.push(`${label}: ${formatProblem(p)}`);
        // A setting or a template that stops the issue from being built or sent is.
        else if (err instanceof ProblemError) err.problems.forEach(add);
        else throw err;
      }
    }
    if (problems.size) throw new ContentError([...problems.values()]);

    // Once for all of them: each such guide costs every build a drawing.
    const cardless = site.guides.filter(lacksCard).map((guide) => guide.slug);
    if (cardless.length > 0) {
      warnings.push({
        file: cardless.length === 1 ? `content/guides/${cardless[0]}/versions.json` : 'content/guides',
        field: 'card',
        expected: 'a social card frozen with each latest version that has no figure (run "almanac guide cards" to draw and freeze them; no new version is made)',
        found: `${cardless.length} guide${cardless.length === 1 ? '' : 's'} without one, drawn at every cold build: ${cardless.slice(0, 20).join(', ')}${cardless.length > 20 ? ` and ${cardless.length - 20} more` : ''}`,
      });
    }
    // Said once, however many issues were checked (the next issue's notes are read twice).
    notes.splice(0, notes.length, ...new Set(notes));
    const seen = new Set<string>();
    warnings.splice(0, warnings.length, ...warnings.filter((w) => !seen.has(formatProblem(w)) && seen.add(formatProblem(w))));
    for (const guide of site.guides) {
      if (guide.versions.length === 0) notes.push(`${guide.file} is not published yet`);
      else if (differsFromLatest(guide)) notes.push(`${guide.file} has changes not yet published`);
    }
    const result: CheckReport = {
      publishedGuides: site.guides.filter((guide) => guide.versions.length > 0).length,
      newsItems: site.news.length,
      pages,
      files: files.size,
      builtIssuesChecked: built.length,
      warnings,
      notes,
    };
    if (opts.json) return printJson(result);
    process.stdout.write(
      `No problems: ${result.publishedGuides} published guides, ${result.newsItems} news items, ` +
        `${pages} pages (${result.files} files) rendered, ${built.length} built issue${built.length === 1 ? '' : 's'} checked.\n`,
    );
    for (const w of warnings) process.stdout.write(`  warning: ${formatProblem(w)}\n`);
    for (const n of notes) process.stdout.write(`  note: ${n}\n`);
  });
}
