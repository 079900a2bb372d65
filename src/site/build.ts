// The site build as a pipeline: load → compose pages → render → write, each step a function of the last.
import path from 'node:path';
import type { CacheOptions, FileCache } from '../cache/file-cache.ts';
import { cachedNewsIndex } from '../cache/news-index.ts';
import { indexNews, type NewsIndex } from '../compose/catalog.ts';
import { listGuideSlugs } from '../content/guides.ts';
import { loadSite, openContentCache } from '../content/load.ts';
import type { Site } from '../content/model.ts';
import { newsCachePrefix } from '../content/news.ts';
import { safeOutputFolder } from '../output/guard.ts';
import { StagedOutput, type OutputFiles } from '../output/staged.ts';
import { personalise, personaliseHtml, webRecipient } from '../render/tokens.ts';
import { IssueStore } from '../store/issues.ts';
import { OneThreadRenderer } from './one-thread-renderer.ts';
import { pathsOf, type Page } from './page-context.ts';
import { sitePages } from './pages.ts';
import type { ComposedSite, SiteRenderer } from './renderer.ts';
import { buildSearchIndex, SearchCache, searchRecords, type SearchIndex, type SearchIndexer } from './search.ts';
import { renderSitemap } from './sitemap.ts';

export interface BuildOptions {
  root: string;
  outDir: string;
  now: number;
  /** Threads to render with, 1 or 2; by default 2 when the site has many guides. */
  threads?: number;
  /** The content cache's clock, settle window and debug log. */
  cache?: Pick<CacheOptions, 'clock' | 'settleMs' | 'log'>;
  /** What turns the search records into the index; Pagefind by default. */
  searchIndexer?: SearchIndexer;
}

export interface BuildSummary {
  pages: number;
  files: number;
  guides: number;
  versions: number;
  news: number;
  outDir: string;
  search: { records: number; reused: boolean; seconds: number };
}

/**
 * Every page of the site, the listings among them, and every other file (feeds, sitemap, assets,
 * stored issues), not yet rendered. `onGuidePage` sees each guide's page as soon as it is composed.
 */
async function composeSite(
  site: Site,
  now: number,
  onGuidePage?: (page: Page) => void,
  news?: NewsIndex,
): Promise<ComposedSite> {
  const issues = new IssueStore(site.root).list();
  const { pages, listings, catalog, siteMeta } = sitePages(site, now, issues.map((i) => i.issue), onGuidePage, news);
  // Loaded only now (Handlebars is a large part of the build command's code), so
  // that the guides' pages reach the render thread sooner.
  const [{ GUIDE_FEEDS, ISSUE_FEEDS, guideFeedEntries, issueFeedEntries, renderFeeds }, { listTemplateFiles, readTemplateFile }] = await Promise.all([
    import('./feeds.ts'),
    import('../render/templates.ts'),
  ]);
  const files: OutputFiles = new Map();
  const feeds = renderFeeds(
    site.config,
    GUIDE_FEEDS,
    { title: `${site.config.title}: guides`, description: siteMeta.tagline, home: 'guides/' },
    guideFeedEntries(site.config, catalog),
  );
  for (const [file, text] of feeds) files.set(file, text);
  const issueFeeds = renderFeeds(
    site.config,
    ISSUE_FEEDS,
    { title: `${site.config.title}: issues`, description: `Every ${siteMeta.editions} issue.`, home: 'issues/' },
    issueFeedEntries(site.config, issues.map((i) => i.issue)),
  );
  for (const [file, text] of issueFeeds) files.set(file, text);
  // The emails as sent, with each reader's own links replaced by the site's general ones.
  const web = webRecipient(site.config.baseUrl);
  for (const { issue, html, text } of issues) {
    files.set(`issues/${issue.id}/email.html`, personaliseHtml(html, web));
    files.set(`issues/${issue.id}/email.txt`, personalise(text, web));
    files.set(`issues/${issue.id}/issue.json`, `${JSON.stringify(issue, null, 2)}\n`);
  }
  files.set('sitemap.xml', renderSitemap(pages));
  files.set('robots.txt', `User-agent: *\nAllow: /\nSitemap: ${site.config.baseUrl}/sitemap.xml\n`);
  for (const asset of await listTemplateFiles(site.root, 'assets')) {
    files.set(asset.rel, readTemplateFile(asset));
  }
  return { pages, listings, files };
}

/** Renders the whole site in memory. Throws ContentError (with every problem) on bad input. */
export async function renderSite(site: Site, now: number): Promise<{ files: OutputFiles; pages: number }> {
  const { TemplateSet } = await import('../render/templates.ts');
  const templates = await TemplateSet.load(site.root, 'site');
  const { pages, files } = await composeSite(site, now);
  const out: OutputFiles = new Map();
  templates.renderAll(pages, (paths, html) => paths.forEach((file) => out.set(file, html)));
  for (const [file, data] of files) out.set(file, data);
  return { files: out, pages: pages.flatMap(pathsOf).length };
}

export async function buildSite(options: BuildOptions): Promise<BuildSummary> {
  const root = path.resolve(options.root);
  // Checked before anything starts: a folder that is not the output's own is never touched.
  const outDir = safeOutputFolder({ root, out: options.outDir, databaseFile: await databaseFile(root) });
  // Started first, so that a second thread checks the cache's stamps while this one reads the cache.
  const renderer = await openRenderer(root, options.threads);
  const content = openContentCache(root, { ...options.cache, stamps: renderer.stamps });
  try {
    const output = await StagedOutput.begin(outDir);
    try {
      renderer.start(output);
      const site = await loadSite(root, { cache: content, markdown: renderer.markdown });
      const composed = await composeSite(site, options.now, (page) => renderer.page(page), newsIndex(site, content));
      // Indexed by another process while the pages render here.
      const searchCache = SearchCache.open(root);
      const records = searchRecords(composed.pages, site.config.language, (html) => searchCache.text(html));
      const indexing = buildSearchIndex(searchCache, records, options.searchIndexer);
      // Settled at once, so that a render failure does not leave its failure unhandled.
      indexing.catch(() => undefined);
      await renderer.finish(composed);
      const search = await indexing;
      for (const [file, data] of search.files) output.write([file], data);
      const pages = composed.pages.flatMap(pathsOf);
      await output.commit(new Set([...pages, ...composed.files.keys(), ...search.files.keys()]));
      return summary(site, pages.length, pages.length + composed.files.size + search.files.size, outDir, search);
    } catch (err) {
      // A second thread may still be writing into the staged output: stop it before that is removed.
      await renderer.close();
      await output.abort();
      throw err;
    }
  } finally {
    content.save();
    await renderer.close();
  }
}

/** The site's news index, kept in the content cache and reused while no news item was read afresh. */
function newsIndex(site: Site, content: FileCache): NewsIndex {
  const fresh = content.readAfresh(newsCachePrefix(site.root, site.config.timezone));
  return cachedNewsIndex(content, site.news, site.config.timezone, fresh, () => indexNews(site));
}

/** The renderer for the site at `root`: on `threads` threads (1 or 2), by default 2 for a large site. */
async function openRenderer(root: string, threads?: number): Promise<SiteRenderer> {
  const two = (threads ?? ((await listGuideSlugs(root)).length >= TWO_THREADS_FROM ? 2 : 1)) > 1;
  if (!two) return new OneThreadRenderer(root);
  const { TwoThreadRenderer } = await import('./render-helper.ts');
  return new TwoThreadRenderer(root);
}

/** Below this many guides a second thread costs more to start than it saves. */
const TWO_THREADS_FROM = 200;

function summary(site: Site, pages: number, files: number, outDir: string, search: SearchIndex): BuildSummary {
  const versions = site.guides.reduce((n, g) => n + g.versions.length, 0);
  return {
    pages,
    files,
    guides: site.guides.filter((g) => g.versions.length > 0).length,
    versions,
    news: site.news.length,
    outDir,
    search: { records: search.records, reused: search.reused, seconds: Number((search.ms / 1000).toFixed(2)) },
  };
}

/**
 * The subscriber database's file when DATABASE_URL puts it somewhere of its own (by default it is under
 * .almanac/, which the output may never be anyway). A URL the store would refuse is no concern of a build.
 */
async function databaseFile(root: string): Promise<string | undefined> {
  if (!process.env.DATABASE_URL?.trim()) return undefined;
  const { databasePath } = await import('../store/database.ts');
  try {
    return databasePath(root);
  } catch {
    return undefined;
  }
}
