// The site build as a pipeline: load → compose pages → render → write, each step a function of the last.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FileCache } from '../content/cache.ts';
import { loadSite } from '../content/load.ts';
import { rememberMarkdownIn } from '../render/markdown.ts';
import type { Site } from '../content/model.ts';
import { TemplateSet, listTemplateFiles } from '../render/templates.ts';
import { personalise, webRecipient } from '../render/tokens.ts';
import { IssueStore } from '../store/issues.ts';
import { GUIDE_FEEDS, ISSUE_FEEDS, guideFeedEntries, issueFeedEntries, renderFeeds } from './feeds.ts';
import { sitePages } from './pages.ts';
import { renderSitemap } from './sitemap.ts';
import { writeOutputAtomically, type OutputFiles } from './output.ts';

export interface BuildOptions {
  root: string;
  outDir: string;
  now: number;
}

export interface BuildSummary {
  pages: number;
  files: number;
  guides: number;
  versions: number;
  news: number;
  outDir: string;
}

/** Renders the whole site in memory. Throws ContentError (with every problem) on bad input. */
export async function renderSite(site: Site, now: number): Promise<{ files: OutputFiles; pages: number }> {
  const templates = await TemplateSet.load(site.root, 'site');
  const issues = new IssueStore(site.root).list();
  const { pages, catalog, siteMeta } = sitePages(site, now, issues.map((i) => i.issue));
  const files: OutputFiles = new Map();
  // A document published under two paths (a guide's URL and its latest version) is rendered once.
  const rendered = new Map<object, string>();
  for (const page of pages) {
    let html = rendered.get(page.data);
    if (html === undefined) rendered.set(page.data, (html = templates.render(page.template, page.data)));
    files.set(page.file, html);
  }
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
  return { files, pages: pages.length };
}

export async function buildSite(options: BuildOptions): Promise<BuildSummary> {
  const site = await loadSite(options.root, { cache: true });
  const markdown = FileCache.open(site.root, 'markdown', '');
  rememberMarkdownIn(markdown);
  let rendered;
  try {
    rendered = await renderSite(site, options.now);
  } finally {
    rememberMarkdownIn(undefined);
  }
  const { files, pages } = rendered;
  const outDir = path.resolve(site.root, options.outDir);
  await writeOutputAtomically(outDir, files);
  markdown.save();
  return {
    pages,
    files: files.size,
    guides: site.guides.filter((g) => g.versions.length > 0).length,
    versions: site.guides.reduce((n, g) => n + g.versions.length, 0),
    news: site.news.length,
    outDir,
  };
}
