// How a build turns its composed site into files: one object behind one interface, rendering on one
// thread (one-thread-renderer.ts) or on two (render-helper.ts), chosen once per build (see build.ts).
// Only the two-thread renderer knows there is a second thread.
import { FileCache } from '../cache/file-cache.ts';
import { ContentError } from '../content/problems.ts';
import type { StampChecker } from '../cache/stored-index.ts';
import type { MarkdownRenderer } from '../content/render-queue.ts';
import type { TemplateSet } from '../render/templates.ts';
import type { OutputFiles, StagedOutput } from '../output/staged.ts';
import type { Page } from './page-context.ts';

/**
 * Every page of the site, the listings among them (the pages that are not a guide's own), every other
 * file, and the files that are copies of others (output path → absolute path of the original).
 */
export interface ComposedSite {
  pages: Page[];
  listings: Page[];
  files: OutputFiles;
  copies: ReadonlyMap<string, string>;
}

export interface SiteRenderer {
  /** Given to the content cache: checks its stamps alongside it, when there is a thread to spare. */
  readonly stamps?: StampChecker;
  /** Given to the loader: renders the Markdown of what it parses. */
  readonly markdown: MarkdownRenderer;
  /** The output is staged and locked: pages may be written into it from now on. */
  start(output: StagedOutput): void;
  /** A guide's page as soon as it is composed, while the rest of the site is being composed. */
  page(page: Page): void;
  /**
   * Writes the site's files and copies, and renders every page not rendered yet; resolves once all is
   * written. `templates` is the textDigest of the templates the pages' keys were made with: rendering
   * with any other (a template saved during the build) fails the build.
   */
  finish(site: ComposedSite, templates: string): Promise<void>;
  /** Stops whatever is still going on; once this resolves, nothing more is written. */
  close(): Promise<void>;
}

/**
 * The site's templates, compiled as the last build left them in the cache of compiled templates;
 * `save` keeps what was compiled afresh. Loaded only when needed: Handlebars is a large part of the
 * build command's code.
 */
export async function siteTemplates(root: string): Promise<{ templates: TemplateSet; save(): void }> {
  const compiled = FileCache.open(root, 'templates');
  const { TemplateSet } = await import('../render/templates.ts');
  const templates = await TemplateSet.load(root, 'site', compiled);
  return { templates, save: () => compiled.save() };
}

/**
 * Throws unless the templates a thread compiled (their textDigest) are those the pages' keys were made
 * with: a page rendered from others would be recorded under a key that does not describe it.
 */
export function sameTemplates(compiled: string, expected: string): void {
  if (compiled === expected) return;
  throw new ContentError([
    { file: 'templates/site/', expected: 'the templates to stay as they were while the site was built', found: 'a template changed during the build (build again)' },
  ]);
}

/** Writes the files that are not pages (feeds, sitemap, assets, stored issues). */
export function writeFiles(output: StagedOutput, files: OutputFiles): void {
  for (const [file, data] of files) output.write([file], data);
}
