// Every page of the website as a (path, template, view model) triple. Pure: the same site and clock
// give the same pages. Markdown is rendered here, once per document, and shared between pages.
import type { Site } from '../content/model.ts';
import type { Catalog } from '../compose/catalog.ts';
import type { StoredIssue } from '../store/issues.ts';
import { guidePages } from './guide-pages.ts';
import { issuePages } from './issue-pages.ts';
import { guidesIndexPages, homePage, newsPages, notFoundPage, topicPages } from './listing-pages.ts';
import { PageContext, type ComposeInputs, type Page, type SiteMeta } from './page-context.ts';
import { searchPage } from './search.ts';

/**
 * All pages of the site, in a stable order, and of those the listings (every page that is not a
 * guide's own). `onGuidePage` sees each guide's page as soon as it is composed: they are most of the
 * site, and can be rendered while the listings are still being composed.
 */
export function sitePages(
  site: Site,
  now: number,
  issues: readonly StoredIssue[] = [],
  onGuidePage?: (page: Page) => void,
  inputs: ComposeInputs = {},
): { pages: Page[]; listings: Page[]; catalog: Catalog; siteMeta: SiteMeta } {
  const ctx = new PageContext(site, now, inputs);
  const guides: Page[] = [];
  for (const g of ctx.catalog.guides) {
    for (const page of guidePages(ctx, g)) {
      guides.push(page);
      onGuidePage?.(page);
    }
  }
  const lead = [homePage(ctx), ...guidesIndexPages(ctx)];
  const rest = [...topicPages(ctx), ...newsPages(ctx), ...issuePages(ctx, issues), notFoundPage(ctx), searchPage(ctx)];
  return { pages: [...lead, ...guides, ...rest], listings: [...lead, ...rest], catalog: ctx.catalog, siteMeta: ctx.siteMeta };
}

/** The pages that show the stored issues (the archive and each issue's web version), as sitePages makes them. */
export function issueSitePages(site: Site, now: number, issues: readonly StoredIssue[], inputs: ComposeInputs = {}): { pages: Page[]; siteMeta: SiteMeta } {
  const ctx = new PageContext(site, now, inputs);
  return { pages: issuePages(ctx, issues), siteMeta: ctx.siteMeta };
}
