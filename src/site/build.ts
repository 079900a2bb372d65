// The site build as a pipeline: load → compose pages → render → write, each step a function of the last.
import path from 'node:path';
import { indexAt, indexNews, positionsOf, type NewsIndex } from '../compose/catalog.ts';
import { FileCache } from '../cache/file-cache.ts';
import { listGuideSlugs } from '../content/guides.ts';
import { loadSite, openContentCache } from '../content/load.ts';
import { rememberMarkdownIn } from '../render/markdown.ts';
import type { Guide, GuideDoc, NewsItem, Site } from '../content/model.ts';
import { personalise, personaliseHtml, webRecipient } from '../render/tokens.ts';
import { IssueStore } from '../store/issues.ts';
import { pathsOf, sitePages, type Page } from './pages.ts';
import { RenderHelper } from './render-helper.ts';
import { renderSitemap } from './sitemap.ts';
import { StagedOutput, spareDir, type OutputFiles } from '../output/staged.ts';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT, safeOutputFolder } from '../output/guard.ts';

export interface BuildOptions {
  root: string;
  outDir: string;
  now: number;
  /** Threads to render with, 1 or 2; by default 2 when the site has many guides. */
  threads?: number;
}

export interface BuildSummary {
  pages: number;
  files: number;
  guides: number;
  versions: number;
  news: number;
  outDir: string;
}

/**
 * Every page of the site, the listings among them, and every other file (feeds, sitemap, assets,
 * stored issues), not yet rendered. `onGuidePage` sees each guide's page as soon as it is composed.
 */
export async function composeSite(
  site: Site,
  now: number,
  onGuidePage?: (page: Page) => void,
  news?: NewsIndex,
): Promise<{ pages: Page[]; listings: Page[]; files: OutputFiles }> {
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

/** Below this many guides a second thread costs more to start than it saves. */
const HELPER_THRESHOLD = 200;

/** Pages go to rendering in batches of about this many, small enough to share out evenly at the end. */
const PAGES_PER_BATCH = 24;

export async function buildSite(options: BuildOptions): Promise<BuildSummary> {
  const root = path.resolve(options.root);
  // Checked before anything starts: a folder that is not the output's own is never touched.
  const outDir = safeOutputFolder({ root, out: options.outDir, databaseFile: await databaseFile(root) });
  // Started first, so that the helper checks the cache's stamps and loads its templates while this
  // thread reads the cache and loads the content.
  const threads = options.threads ?? ((await listGuideSlugs(root)).length >= HELPER_THRESHOLD ? 2 : 1);
  const helper = threads > 1 ? new RenderHelper(root) : undefined;
  // The helper checks the cached files' stamps while this thread reads the cached values.
  const content = openContentCache(root, helper && ((index, checks) => helper.checkStamps(index, checks)));
  const markdown = FileCache.open(root, 'markdown');
  rememberMarkdownIn(markdown);
  try {
    // The output is locked from the start, so that the helper can list the spare while this thread loads.
    const staged = await StagedOutput.begin(outDir);
    helper?.useOutput(spareDir(outDir));
    try {
      const ahead = helper && new MarkdownAhead(helper);
      let freshNews = false;
      const site = await loadSite(root, {
        cache: content,
        onParsed: {
          news: (item) => {
            freshNews = true;
            ahead?.news(item);
          },
          guide: (guide) => ahead?.guide(guide),
        },
      });
      await ahead?.settled();
      // Summaries and bodies rendered while composing are kept with their documents in the cache.
      if (!isRendered(site)) content.touch();
      // The helper renders each batch of guide pages it is offered, while this thread composes the rest.
      if (helper) staged.lend();
      const batches: Page[][] = [];
      const batcher = new Batcher(PAGES_PER_BATCH, (batch) => {
        const index = batches.push(batch) - 1;
        helper?.offer(index, batch);
      });
      const composed = await composeSite(site, options.now, (page) => batcher.add(page), newsIndex(site, content, freshNews));
      batcher.flush();
      // Loaded only now, so that the helper has pages to render as early as possible.
      const compiled = FileCache.open(root, 'templates');
      const { TemplateSet } = await import('../render/templates.ts');
      const templates = await TemplateSet.load(root, 'site', compiled);
      const { pages, listings, files } = composed;
      // What the spare held (listed by the helper meanwhile): what is gone is pruned at the end.
      staged.useListing(await helper?.listing());
      const write = (paths: readonly string[], html: string) => staged.write(paths, html);
      for (const [file, data] of files) staged.write([file], data);
      staged.write([OUTPUT_MARKER], OUTPUT_MARKER_TEXT);
      templates.renderAll(listings, write);
      // Then guide pages from the last batch back, meeting the helper, which works from the first one on.
      for (let i = batches.length - 1; i >= 0; i--) {
        if (!helper || helper.claim(i)) templates.renderAll(batches[i]!, write);
      }
      await helper?.done();
      const pagePaths = pages.flatMap(pathsOf);
      await staged.commit(new Set([...pagePaths, ...files.keys(), OUTPUT_MARKER]));
      markdown.save();
      compiled.save();
      return {
        pages: pagePaths.length,
        files: pagePaths.length + files.size,
        guides: site.guides.filter((g) => g.versions.length > 0).length,
        versions: site.guides.reduce((n, g) => n + g.versions.length, 0),
        news: site.news.length,
        outDir,
      };
    } catch (err) {
      // The helper may still be writing into the spare: stop it before the spare is removed.
      await helper?.close();
      await staged.abort();
      throw err;
    }
  } finally {
    rememberMarkdownIn(undefined);
    content.save();
    await helper?.close();
  }
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

const NEWS_INDEX = 'news-index';

/**
 * The site's news index, kept in `cache` as positions: while no news item was parsed afresh (`fresh`)
 * and the same files are there, the same items give the same index, rebuilt from the positions
 * without grouping or sorting ten thousand items again.
 */
function newsIndex(site: Site, cache: FileCache, fresh: boolean): NewsIndex {
  const key = [site.config.timezone, ...site.news.map((n) => n.id)].join('\n');
  let computed: NewsIndex | undefined;
  const compute = () => positionsOf((computed = indexNews(site)), site.news);
  if (fresh) {
    cache.learn(NEWS_INDEX, key, compute());
    return computed!;
  }
  const positions = cache.remember(NEWS_INDEX, key, compute);
  return computed ?? indexAt(positions, site.news) ?? indexNews(site);
}

/** Whether every news summary and every published guide body already has its HTML. */
function isRendered(site: Site): boolean {
  return site.news.every((n) => n.summaryHtml !== undefined) && site.guides.every((g) => g.versions.every((v) => v.doc.rendered !== undefined));
}

/**
 * Sends the Markdown of what the main thread parses afresh (everything, in a first build) to the
 * helper in batches, to be rendered there while the main thread goes on loading; what comes back is
 * put on the documents it belongs to.
 */
class MarkdownAhead {
  private docs: GuideDoc[] = [];
  private items: NewsItem[] = [];
  private readonly sent: Promise<void>[] = [];

  constructor(private readonly helper: RenderHelper) {}

  news(item: NewsItem): void {
    this.items.push(item);
    if (this.items.length >= AHEAD_BATCH) this.flush();
  }

  guide(guide: Guide): void {
    for (const v of guide.versions) this.docs.push(v.doc);
    if (this.docs.length >= AHEAD_BATCH / 10) this.flush();
  }

  /** Resolves once everything sent has come back rendered (or the helper has stopped). */
  async settled(): Promise<void> {
    this.flush();
    await Promise.all(this.sent);
  }

  private flush(): void {
    const { docs, items } = this;
    if (docs.length + items.length === 0) return;
    const rendered = this.helper.renderAhead(docs.map((d) => d.body), items.map((n) => n.summary));
    this.sent.push(
      rendered.then((back) => {
        // A helper that stopped sends nothing back: what is missing is rendered while composing.
        back?.guideBodies.forEach((body, i) => (docs[i]!.rendered = body));
        back?.summaries.forEach((html, i) => (items[i]!.summaryHtml = html));
      }),
    );
    this.docs = [];
    this.items = [];
  }
}

/** News summaries per batch sent ahead (a guide body counts as ten). */
const AHEAD_BATCH = 500;

/**
 * Collects pages into batches of `size`. A page carries all of its paths (see Page), so a batch may
 * end anywhere: the guide's URL and its latest version are written together whoever renders them.
 */
class Batcher {
  private current: Page[] = [];

  constructor(
    private readonly size: number,
    private readonly emit: (batch: Page[]) => void,
  ) {}

  add(page: Page): void {
    if (this.current.length >= this.size) this.flush();
    this.current.push(page);
  }

  flush(): void {
    if (this.current.length > 0) this.emit(this.current);
    this.current = [];
  }
}
