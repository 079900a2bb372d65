// The site build as a pipeline: load → compose pages → render → write, each step a function of the last.
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FileCache } from '../content/cache.ts';
import { GUIDES_DIR } from '../content/guides.ts';
import { loadSite } from '../content/load.ts';
import { rememberMarkdownIn } from '../render/markdown.ts';
import type { Site } from '../content/model.ts';
import { TemplateSet, listTemplateFiles } from '../render/templates.ts';
import { personalise, webRecipient } from '../render/tokens.ts';
import { IssueStore } from '../store/issues.ts';
import { GUIDE_FEEDS, ISSUE_FEEDS, guideFeedEntries, issueFeedEntries, renderFeeds } from './feeds.ts';
import { sitePages, type Page } from './pages.ts';
import { RenderHelper } from './render-helper.ts';
import { renderSitemap } from './sitemap.ts';
import { StagedOutput, type OutputFiles } from './output.ts';

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

/** Every page of the site and every other file (feeds, sitemap, assets, stored issues), not yet rendered. */
export async function composeSite(site: Site, now: number): Promise<{ pages: Page[]; files: OutputFiles }> {
  const issues = new IssueStore(site.root).list();
  const { pages, catalog, siteMeta } = sitePages(site, now, issues.map((i) => i.issue));
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
    files.set(`issues/${issue.id}/email.html`, personalise(html, web));
    files.set(`issues/${issue.id}/email.txt`, personalise(text, web));
    files.set(`issues/${issue.id}/issue.json`, `${JSON.stringify(issue, null, 2)}\n`);
  }
  files.set('sitemap.xml', renderSitemap(pages));
  files.set('robots.txt', `User-agent: *\nAllow: /\nSitemap: ${site.config.baseUrl}/sitemap.xml\n`);
  for (const asset of await listTemplateFiles(site.root, 'assets')) {
    files.set(asset.rel, await readFile(asset.absolute));
  }
  return { pages, files };
}

/** Renders the whole site in memory. Throws ContentError (with every problem) on bad input. */
export async function renderSite(site: Site, now: number): Promise<{ files: OutputFiles; pages: number }> {
  const templates = await TemplateSet.load(site.root, 'site');
  const { pages, files } = await composeSite(site, now);
  const out: OutputFiles = new Map();
  templates.renderAll(pages, (file, html) => out.set(file, html));
  for (const [file, data] of files) out.set(file, data);
  return { files: out, pages: pages.length };
}

/** Below this many guides a second thread costs more to start than it saves. */
const HELPER_THRESHOLD = 200;

export async function buildSite(options: BuildOptions): Promise<BuildSummary> {
  const root = path.resolve(options.root);
  const outDir = path.resolve(root, options.outDir);
  // Started first, so that the helper loads its templates while this thread loads the content.
  const threads = options.threads ?? (countGuides(root) >= HELPER_THRESHOLD ? 2 : 1);
  const helper = threads > 1 ? new RenderHelper(root) : undefined;
  const markdown = FileCache.open(root, 'markdown', '');
  try {
    const site = await loadSite(root, { cache: true });
    const templates = await TemplateSet.load(root, 'site');
    rememberMarkdownIn(markdown);
    let composed;
    try {
      composed = await composeSite(site, options.now);
    } finally {
      rememberMarkdownIn(undefined);
    }
    const { pages, files } = composed;
    const staged = await StagedOutput.begin(outDir, [...pages.map((p) => p.file), ...files.keys()]);
    try {
      let mine = pages;
      if (helper) {
        const [theirs, ours] = splitForHelper(pages);
        mine = ours;
        for (let i = 0; i < theirs.length; i += HELPER_BATCH) helper.render(theirs.slice(i, i + HELPER_BATCH), staged.dir);
      }
      templates.renderAll(mine, (file, html) => staged.write(file, html));
      for (const [file, data] of files) staged.write(file, data);
      if (helper) await helper.done();
    } catch (err) {
      // The helper may still be writing into the spare: stop it before the spare is removed.
      await helper?.close();
      await staged.abort();
      throw err;
    }
    await staged.commit();
    markdown.save();
    return {
      pages: pages.length,
      files: pages.length + files.size,
      guides: site.guides.filter((g) => g.versions.length > 0).length,
      versions: site.guides.reduce((n, g) => n + g.versions.length, 0),
      news: site.news.length,
      outDir,
    };
  } finally {
    await helper?.close();
  }
}

/** Pages are handed to the helper in batches, so that it starts rendering while the rest is sent. */
const HELPER_BATCH = 100;

/**
 * Splits the pages in two halves of about equal rendering work: documents (pages that share one view
 * model) go whole to one side, and every kind of page is shared out alternately, since a news listing
 * costs as much as many guide pages. The helper gets the first half.
 */
function splitForHelper(pages: readonly Page[]): [Page[], Page[]] {
  const documents = new Map<object, Page[]>();
  for (const page of pages) {
    const group = documents.get(page.data);
    if (group) group.push(page);
    else documents.set(page.data, [page]);
  }
  const halves: [Page[], Page[]] = [[], []];
  const turn = new Map<string, 0 | 1>();
  for (const group of documents.values()) {
    const template = group[0]!.template;
    const side = turn.get(template) ?? 0;
    halves[side].push(...group);
    turn.set(template, side === 0 ? 1 : 0);
  }
  return halves;
}

function countGuides(root: string): number {
  try {
    return readdirSync(path.join(root, GUIDES_DIR)).length;
  } catch {
    return 0;
  }
}
