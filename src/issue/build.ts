// Building an issue end to end, as `issue build` and the scheduler both do: compose, render and check
// it, store it, and rebuild the site so its web version, the archive and the feeds include it.
import { readIssueNotes } from '../content/issue-notes.ts';
import { buildCatalog } from '../compose/catalog.ts';
import type { Edition } from '../compose/slots.ts';
import { FileCache } from '../cache/file-cache.ts';
import type { Site } from '../content/model.ts';
import { ContentError } from '../content/problems.ts';
import { TemplateSet } from '../render/templates.ts';
import { buildSite, outputFolder } from '../site/build.ts';
import { IssueStore } from '../store/issues.ts';
import { issueId, prepareIssue, type PreparedIssue } from './prepare.ts';
import { issuesSentFrom } from './earlier.ts';
import type { EarlierIssue } from '../compose/repeats.ts';

export interface BuiltIssue extends PreparedIssue {
  id: string;
  /** Seconds spent on the issue itself, and on rebuilding the site. */
  issueSeconds: number;
  siteSeconds: number;
}

export interface BuildIssueOptions {
  /** The issues that went out (default: as the site's database records them). */
  earlier?: readonly EarlierIssue[];
  /** The content cache `site` was loaded through: the site rebuild then reuses `site` instead of reading it again. */
  content?: FileCache;
  /** The site's output folder, relative to the root, as `build --out` names it; `dist` by default. */
  outDir?: string;
}

/** Throws ContentError (an empty window, a failed check, bad content) before anything is stored. */
export async function buildIssue(site: Site, edition: Edition, date: string, now: number, options: BuildIssueOptions = {}): Promise<BuiltIssue> {
  const started = performance.now();
  const store = new IssueStore(site.root);
  const id = issueId(edition, date);
  // Compiled as the last issue build left them, as the site's templates are.
  const compiled = FileCache.open(site.root, 'email-templates');
  const templates = await TemplateSet.load(site.root, 'email', compiled);
  compiled.save();
  const prepared = await prepareIssue({
    site,
    catalog: buildCatalog(site),
    templates,
    edition,
    date,
    number: store.numberFor(id),
    now,
    earlier: options.earlier ?? issuesSentFrom(site.root),
    notes: readIssueNotes(site.root, id),
  });
  const errors = prepared.findings.filter((f) => f.severity === 'error');
  if (errors.length) {
    throw new ContentError(errors.map((f) => ({ file: f.file ?? `issue ${id}`, field: f.check, expected: f.expected, found: f.found })));
  }
  // Before the issue is stored: an output the site may not be written to leaves nothing behind.
  const outDir = options.outDir ?? 'dist';
  await outputFolder(site.root, outDir);
  store.save({ issue: prepared.issue, html: prepared.email.html, text: prepared.email.text });
  const issueSeconds = (performance.now() - started) / 1000;
  await buildSite({ root: site.root, outDir, now, loaded: options.content && { site, content: options.content }, issuesOnly: true });
  return { ...prepared, id, issueSeconds, siteSeconds: (performance.now() - started) / 1000 - issueSeconds };
}
