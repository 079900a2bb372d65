// The site build as a pipeline: load → compose pages → render → write, each step a function of the last.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { codeFingerprint, type CacheOptions, type FileCache } from '../cache/file-cache.ts';
import { cachedNewsIndex } from '../cache/news-index.ts';
import { indexNews, type NewsIndex } from '../compose/catalog.ts';
import { listGuideSlugs } from '../content/guides.ts';
import { loadSite, openContentCache } from '../content/load.ts';
import type { Site } from '../content/model.ts';
import { ContentError } from '../content/problems.ts';
import { newsCachePrefix } from '../content/news.ts';
import { debugLog } from '../log/debug.ts';
import { safeOutputFolder } from '../output/guard.ts';
import { StagedOutput, updateOutput, type OutputFiles } from '../output/staged.ts';
import { personalise, personaliseHtml, webRecipient } from '../render/tokens.ts';
import { IssueStore, type StoredIssueFiles } from '../store/issues.ts';
import { OneThreadRenderer } from './one-thread-renderer.ts';
import { pathsOf, type ComposeInputs, type Page, type SiteMeta } from './page-context.ts';
import { pagesInPlace } from './page-key.ts';
import { issueSitePages, sitePages } from './pages.ts';
import { sameTemplates, siteTemplates, type ComposedSite, type SiteRenderer } from './renderer.ts';
import { renderSitemap, replaceSitemapEntries } from './sitemap.ts';
import { rememberVersionDiffs } from './version-diff.ts';
import { NO_IMAGES, makeSiteImages } from './images.ts';
import type { DebugLog } from '../log/debug.ts';
import type { SearchIndex, SearchIndexer } from './search-index.ts';

export interface BuildOptions {
  root: string;
  outDir: string;
  now: number;
  /** Threads to render with, 1 or 2; by default 2 when the site has many guides. */
  threads?: number;
  /** The content cache's clock, settle window and debug log. */
  cache?: Pick<CacheOptions, 'clock' | 'settleMs' | 'log'>;
  /** Told how many images were processed and how many reused; by default the debug log of ALMANAC_DEBUG=figures. */
  figureLog?: DebugLog;
  /**
   * The site as the caller has just loaded it, with the content cache it was loaded through (which the
   * caller saves): an issue build rebuilds the site right after loading it, and need not read it twice.
   */
  loaded?: { site: Site; content: FileCache };
  /**
   * Only the stored issues may have changed since the output was built (an issue was just stored): when
   * the output was made from the same content and templates, only the files that show issues are
   * written into it; otherwise the whole site is built.
   */
  issuesOnly?: boolean;
  /** What turns the search records into the index; Pagefind by default. */
  searchIndexer?: SearchIndexer;
  /** Builds even when the output was made from the same inputs and is as that build left it. */
  force?: boolean;
}

export interface BuildSummary {
  pages: number;
  files: number;
  /** The output was made from the same inputs and is as that build left it: nothing was written. */
  upToDate: boolean;
  guides: number;
  versions: number;
  news: number;
  outDir: string;
  /** The search index, when this build wrote it (an issue build writing only its own files does not). */
  search?: { records: number; shards: number; indexed: string[]; indexedRecords: number; reused: boolean; seconds: number };
}

/**
 * Every page of the site, the listings among them, and every other file (feeds, sitemap, assets,
 * stored issues), not yet rendered. `onGuidePage` sees each guide's page as soon as it is composed.
 */
async function composeSite(
  site: Site,
  now: number,
  inputs: ComposeInputs,
  onGuidePage?: (page: Page) => void,
  issues: readonly StoredIssueFiles[] = new IssueStore(site.root).list(),
): Promise<ComposedSite> {
  const images = inputs.images ?? NO_IMAGES;
  const { pages, listings, catalog, siteMeta } = sitePages(site, now, issues.map((i) => i.issue), onGuidePage, inputs);
  // Loaded only now (Handlebars is a large part of the build command's code), so
  // that the guides' pages reach the render thread sooner.
  const [feedsModule, { listTemplateFiles, readTemplateFile }] = await Promise.all([import('./feeds.ts'), import('../render/templates.ts')]);
  const { GUIDE_FEEDS, NEWS_FEEDS, guideFeedEntries, newsFeedEntries, renderFeeds } = feedsModule;
  const files: OutputFiles = new Map(images.files);
  const feeds = renderFeeds(
    site.config,
    GUIDE_FEEDS,
    { title: `${site.config.title}: guides`, description: siteMeta.tagline, home: 'guides/' },
    guideFeedEntries(site.config, catalog),
  );
  for (const [file, text] of feeds) files.set(file, text);
  for (const [file, data] of issueFiles(site, issues, siteMeta, feedsModule)) files.set(file, data);
  const newsFeeds = renderFeeds(
    site.config,
    NEWS_FEEDS,
    { title: `${site.config.title}: news`, description: `The AI news ${site.config.title} tracks, newest first.`, home: 'news/' },
    newsFeedEntries(catalog),
  );
  for (const [file, text] of newsFeeds) files.set(file, text);
  files.set('sitemap.xml', renderSitemap(pages));
  files.set('robots.txt', `User-agent: *\nAllow: /\nSitemap: ${site.config.baseUrl}/sitemap.xml\n`);
  for (const asset of await listTemplateFiles(site.root, 'assets')) {
    files.set(asset.rel, readTemplateFile(asset));
  }
  inlineStyles(listings, files.get('assets/style.css'));
  return { pages, listings, files, copies: images.copies };
}

/** The files that show issues, besides their pages: the issue feeds, and each issue's email and data. */
function issueFiles(site: Site, issues: readonly StoredIssueFiles[], siteMeta: SiteMeta, feeds: typeof import('./feeds.ts')): OutputFiles {
  const files: OutputFiles = feeds.renderFeeds(
    site.config,
    feeds.ISSUE_FEEDS,
    { title: `${site.config.title}: issues`, description: `Every ${siteMeta.editions} issue.`, home: 'issues/' },
    feeds.issueFeedEntries(site.config, issues.map((i) => i.issue)),
  );
  // The emails as sent, with each reader's own links replaced by the site's general ones.
  const web = webRecipient(site.config.baseUrl);
  for (const { issue, html, text } of issues) {
    files.set(`issues/${issue.id}/email.html`, personaliseHtml(html, web));
    files.set(`issues/${issue.id}/email.txt`, personalise(text, web));
    files.set(`issues/${issue.id}/issue.json`, `${JSON.stringify(issue, null, 2)}\n`);
  }
  return files;
}

/**
 * The 404 page is sent for any missing path and opened from disk alike, where no one stylesheet
 * address finds the file (a relative one fails below the root, one from the root fails from disk):
 * it carries the site's styles inline. `serve` allows exactly that style by its hash (see
 * server/served-page.ts).
 */
function inlineStyles(listings: readonly Page[], css: string | Buffer | undefined): void {
  const text = css?.toString();
  // A stylesheet that could end the <style> element early stays a link.
  if (text === undefined || /<\/style/i.test(text)) return;
  for (const page of listings) if (page.data.page.anyPath) page.data.page.style = text;
}

/** Renders the whole site in memory, writing nothing. Throws ContentError (with every problem) on bad input. */
export async function renderSite(site: Site, now: number): Promise<{ files: OutputFiles; pages: number }> {
  const { TemplateSet } = await import('../render/templates.ts');
  const templates = await TemplateSet.load(site.root, 'site');
  const images = await makeSiteImages(site, debugLog('figures'), false);
  const { pages, files } = await composeSite(site, now, { images });
  const out: OutputFiles = new Map();
  templates.renderAll(pages, (paths, html) => paths.forEach((file) => out.set(file, html)));
  for (const [file, data] of files) out.set(file, data);
  for (const [file, data] of await images.cardFiles) out.set(file, data);
  return { files: out, pages: pages.flatMap(pathsOf).length };
}

/** The output folder `outDir` resolved; throws UsageError when a build may not write there (see output/guard.ts). */
export async function outputFolder(root: string, outDir: string): Promise<string> {
  return safeOutputFolder({ root: path.resolve(root), out: outDir, databaseFile: await databaseFile(path.resolve(root)) });
}

export async function buildSite(options: BuildOptions): Promise<BuildSummary> {
  const root = path.resolve(options.root);
  // Checked before anything starts: a folder that is not the output's own is never touched.
  const outDir = await outputFolder(root, options.outDir);
  // Started first, so that a second thread checks the cache's stamps while this one reads the cache.
  if (options.issuesOnly && options.loaded) {
    const log = options.cache?.log ?? debugLog('cache');
    const written = await updateIssueFiles(root, outDir, options.loaded, options.now);
    if (written) {
      log?.(`output: wrote the ${written.files} files that show issues into ${outDir}`);
      return summary(options.loaded.site, written.pages, written.files, outDir);
    }
    log?.(`output: ${outDir} was not made from this content and these templates (or cannot be told): building the whole site`);
  }
  const renderer = await openRenderer(root, options.threads);
  // Loaded while the content loads, and the indexer made ready: see PagefindPool.warm.
  const searching = Promise.all([import('./search-index.ts'), import('./search-records.ts')]);
  void searching.then(([{ pagefindIndexer }]) => (options.searchIndexer ?? pagefindIndexer).warm?.(), () => undefined);
  const content = options.loaded?.content ?? openContentCache(root, { ...options.cache, stamps: renderer.stamps });
  try {
    const output = await StagedOutput.begin(outDir, options.cache?.log ?? debugLog('cache'));
    // Aborted once the build has failed: the indexes still being made are no longer wanted, and one
    // made after that is not written into the output being removed.
    const failed = new AbortController();
    try {
      renderer.start(output);
      const site = options.loaded?.site ?? (await loadSite(root, { cache: content, markdown: renderer.markdown }));
      const texts = await templatesDigest(root);
      const templates = texts.digest;
      const inputs = siteInputs(content, templates);
      rememberVersionDiffs(site, content);
      const images = await makeSiteImages(site, options.figureLog ?? debugLog('figures'));
      const issues = new IssueStore(root).list();
      // Loaded only now: an issue build that writes only its own files never needs it.
      const [{ buildSearchIndex, pagefindIndexer, SearchCache }, { searchShards }] = await searching;
      const indexer = options.searchIndexer ?? pagefindIndexer;
      // The files copied into the output, examined once: what the output is made from, and what each copy is.
      const sources = copyKeys(images.copies);
      const made = inputs === undefined ? undefined : outputInputs(site, inputs, issues, sources, indexer.name);
      // An output made from these same inputs, and as that build left it, is what this build would
      // write. Not trusted after a content cache was deleted or damaged: then every page is composed.
      const log = options.cache?.log ?? debugLog('cache');
      const unknown = options.force
        ? 'the build was forced'
        : made === undefined
          ? 'what it was made from cannot be told (a file changed moments ago, or one to copy is missing)'
          : !content.readNothingAfresh()
            ? 'content was read afresh (changed, or the cache was deleted or damaged)'
            : undefined;
      if (unknown) log?.(`output: not up to date: ${unknown}`);
      const current = unknown === undefined ? output.upToDate(made!) : undefined;
      if (current) {
        output.leave();
        log?.(`output: ${outDir} was made from these same inputs and is as that build left it: nothing to write`);
        const search = current.search && { ...current.search, files: new Map(), indexed: [], indexedRecords: 0, wordsIndexed: false, ms: 0 };
        return { ...summary(site, current.pages, current.files, outDir, search), upToDate: true };
      }
      // Only the pages the output does not hold already are rendered.
      const inPlace = pagesInPlace(output, templates);
      const composed = await composeSite(site, options.now, { news: newsIndex(site, content), images, results: content }, (page) => {
        if (!inPlace(page)) renderer.page(page);
      }, issues);
      // The assets as written are those the pages' keys were made with (one saved meanwhile is not).
      if (assetsDigest([...composed.files].filter(([rel]) => rel.startsWith('assets/'))) !== texts.assets) {
        throw new ContentError([{ file: 'templates/assets/', expected: 'the assets to stay as they were while the site was built', found: 'an asset changed during the build (build again)' }]);
      }
      // Indexed by another process while the pages render here.
      const searchCache = SearchCache.open(root);
      // A site made from the same inputs as the one last indexed has the same records: they are not made again.
      const reused = searchCache.reuse(inputs && `${indexer.name}\0${inputs}`);
      // Each index's files are written as soon as it is made, while the others are still being made.
      const written = new Set<string>();
      const writeIndex = (files: Map<string, Buffer>) => {
        if (failed.signal.aborted) return;
        for (const [file, data] of files) output.write([file], data);
        for (const file of files.keys()) written.add(file);
      };
      const indexing = reused
        ? Promise.resolve(reused)
        : buildSearchIndex(searchCache, searchShards(composed.pages, site.config.language, site.config.timezone, (html) => searchCache.text(html)), indexer, undefined, inputs, writeIndex, failed.signal);
      // Settled at once, so that a render failure does not leave its failure unhandled.
      indexing.catch(() => undefined);
      const unwritten = (pages: readonly Page[]) => pages.filter((page) => !inPlace(page));
      // A copy is made again unless the spare holds it as copied from the same file as it is now.
      const copies = new Map([...composed.copies].filter(([rel]) => {
        const key = sources.get(rel);
        return key === undefined || !output.copyInPlace(rel, key);
      }));
      await renderer.finish({ ...composed, pages: unwritten(composed.pages), listings: unwritten(composed.listings), copies }, texts.templates);
      const search = await indexing;
      for (const [file, data] of search.files) if (!written.has(file)) output.write([file], data);
      // Drawn while the pages were rendered.
      const cards = await images.cardFiles;
      for (const [file, data] of cards) output.write([file], data);
      const pages = composed.pages.flatMap(pathsOf);
      const files = pages.length + composed.files.size + cards.size + images.copies.size + search.files.size;
      await output.commit(
        new Set([...pages, ...composed.files.keys(), ...cards.keys(), ...images.copies.keys(), ...search.files.keys()]),
        inputs,
        made === undefined ? undefined : { inputs: made, pages: pages.length, files, search: { records: search.records, shards: search.shards } },
      );
      return summary(site, pages.length, files, outDir, search);
    } catch (err) {
      // A second thread may still be writing into the staged output: stop it before that is removed.
      failed.abort();
      await renderer.close();
      await output.abort();
      throw err;
    }
  } finally {
    if (!options.loaded) content.save();
    await renderer.close();
  }
}

/**
 * Writes the pages and files that show issues (the archive, each issue's web version and files, the
 * issue feeds, and the sitemap that lists them) into an output made from the same content and
 * templates as `loaded`; undefined, writing nothing, when there is no such output.
 */
async function updateIssueFiles(
  root: string,
  outDir: string,
  loaded: { site: Site; content: FileCache },
  now: number,
): Promise<{ pages: number; files: number } | undefined> {
  const texts = await templatesDigest(root);
  const inputs = siteInputs(loaded.content, texts.digest);
  if (!inputs) return undefined;
  rememberVersionDiffs(loaded.site, loaded.content);
  let pageCount = 0;
  // Composed under the output's lock (see updateOutput): the stored issues are read as they are when written.
  const written = await updateOutput(outDir, async () => {
    const sitemapFile = path.join(outDir, 'sitemap.xml');
    if (!statSync(sitemapFile, { throwIfNoEntry: false })?.isFile()) return undefined;
    const stored = new IssueStore(root).list();
    const { pages, siteMeta } = issueSitePages(loaded.site, now, stored.map((i) => i.issue), { news: newsIndex(loaded.site, loaded.content) });
    // The rest of the sitemap is as the build that made this output wrote it, from the same inputs.
    const sitemap = replaceSitemapEntries(readFileSync(sitemapFile, 'utf8'), `${loaded.site.config.baseUrl}/issues/`, pages);
    if (sitemap === undefined) return undefined;
    const [{ templates, save }, feeds] = await Promise.all([siteTemplates(root), import('./feeds.ts')]);
    // Rendered from the templates the output's inputs name, or not at all.
    sameTemplates(templates.textDigest, texts.templates);
    save();
    const files: OutputFiles = new Map();
    templates.renderAll(pages, (paths, html) => paths.forEach((file) => files.set(file, html)));
    for (const [file, data] of issueFiles(loaded.site, stored, siteMeta, feeds)) files.set(file, data);
    files.set('sitemap.xml', sitemap);
    pageCount = pages.length;
    return { inputs, files };
  });
  return written === undefined ? undefined : { pages: pageCount, files: written };
}

/**
 * A digest of what the site's pages are made from, the stored issues aside: the content as the cache
 * stamped it, and the `templates` (see templatesDigest). Undefined when it cannot be told (see
 * FileCache.inputsDigest).
 */
function siteInputs(content: FileCache, templates: string): string | undefined {
  const digest = content.inputsDigest();
  return digest && createHash('sha256').update(`${digest}\0${templates}`).digest('hex');
}

/**
 * What each copy (output path → its original) is made from, as a page key: the original and its stamp
 * now; undefined for an original that is not a file (copying it fails the build).
 */
function copyKeys(copies: ReadonlyMap<string, string>): Map<string, string | undefined> {
  const keys = new Map<string, string | undefined>();
  for (const [rel, source] of copies) {
    const stats = lstatSync(source, { throwIfNoEntry: false });
    keys.set(rel, stats?.isFile() ? `copy\0${source}\0${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}` : undefined);
  }
  return keys;
}

/**
 * A digest of everything the whole output is made from: the site's `inputs` (see siteInputs), the
 * stored issues as the output shows them, the files copied into it (frozen cards, figures) as they
 * are now (their `copyKeys`), and the search indexer. Pages show no date relative to the build's
 * clock, so the clock is not one of them. Undefined when a file to copy cannot be examined: the
 * build then says what is wrong with it.
 */
function outputInputs(site: Site, inputs: string, issues: readonly StoredIssueFiles[], copies: ReadonlyMap<string, string | undefined>, indexer: string): string | undefined {
  const hash = createHash('sha256').update(`${inputs}\0${indexer}\0`);
  // As written into the output: the emails in memory hold this process's own slot markers.
  const web = webRecipient(site.config.baseUrl);
  for (const { issue, html, text } of issues) {
    // Each part with its length: no part's text can pass for the end of another's.
    for (const part of [JSON.stringify(issue), personaliseHtml(html, web), personalise(text, web)]) hash.update(`\0${part.length}\0`).update(part);
  }
  for (const [rel, key] of [...copies].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (key === undefined) return undefined;
    hash.update(`\0${rel}\0${key}`);
  }
  return hash.digest('hex');
}

/** What the templates and assets were when a build read them for its pages' keys. */
interface TemplateTexts {
  /** Of Almanac's code and of the site's templates and assets: part of every page's key. */
  digest: string;
  /** The textDigest of the site's templates (see TemplateSet.textDigest). */
  templates: string;
  /** Of the assets' bytes (see assetsDigest). */
  assets: string;
}

/**
 * A digest of Almanac's code and of the site's templates and assets. Of their text, not their stamps:
 * they are few and small, and two edits within one tick of the file system's clock can leave the
 * same stamp (a test that writes a template and builds, twice). With it, the digests the build
 * checks what it rendered with against: a file saved during the build must not go unnoticed.
 */
async function templatesDigest(root: string): Promise<TemplateTexts> {
  const { listTemplateFiles, textDigest } = await import('../render/templates.ts');
  const read = async (area: string) =>
    (await listTemplateFiles(root, area)).map((file) => {
      try {
        return { rel: file.rel, bytes: readFileSync(file.absolute) as Buffer | string };
      } catch {
        return { rel: file.rel, bytes: '(unreadable)' };
      }
    });
  const [site, assets] = [await read('site'), await read('assets')];
  const hash = createHash('sha256').update(codeFingerprint());
  for (const { rel, bytes } of [...site, ...assets]) hash.update(`\0${rel}\0${bytes.length}\0`).update(bytes);
  return {
    digest: hash.digest('hex'),
    templates: textDigest(site.filter((f) => f.rel.endsWith('.hbs')).map((f) => ({ rel: f.rel, source: f.bytes.toString() }))),
    assets: assetsDigest(assets.map((f) => [f.rel, f.bytes])),
  };
}

/** A digest of the assets' bytes by their names (`assets/…`). */
function assetsDigest(assets: Iterable<readonly [string, string | Buffer]>): string {
  const hash = createHash('sha256');
  for (const [rel, bytes] of [...assets].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(`${rel}\0${bytes.length}\0`).update(bytes).update('\0');
  return hash.digest('hex');
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

function summary(site: Site, pages: number, files: number, outDir: string, search?: SearchIndex): BuildSummary {
  const versions = site.guides.reduce((n, g) => n + g.versions.length, 0);
  return {
    pages,
    files,
    upToDate: false,
    guides: site.guides.filter((g) => g.versions.length > 0).length,
    versions,
    news: site.news.length,
    outDir,
    search: search && {
      records: search.records,
      shards: search.shards,
      indexed: search.indexed,
      indexedRecords: search.indexedRecords,
      reused: search.indexed.length === 0 && !search.wordsIndexed,
      seconds: Number((search.ms / 1000).toFixed(2)),
    },
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
