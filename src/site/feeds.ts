// RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the guides, one entry per guide at its latest version.
// The feed's own "updated" is the newest entry, never the wall clock, so rebuilds are byte-identical.
import { Feed } from 'feed';
import type { Catalog } from '../compose/catalog.ts';
import type { Config } from '../content/schema.ts';
import type { StoredIssue } from '../store/issues.ts';

export const GUIDE_FEEDS = { rss: 'feeds/guides.xml', atom: 'feeds/guides.atom', json: 'feeds/guides.json' } as const;
export const ISSUE_FEEDS = { rss: 'feeds/issues.xml', atom: 'feeds/issues.atom', json: 'feeds/issues.json' } as const;

export interface FeedEntry {
  title: string;
  url: string;
  date: number;
  published: number;
  summary: string;
  html?: string;
  categories: string[];
}

export function renderFeeds(
  config: Config,
  paths: { rss: string; atom: string; json: string },
  meta: { title: string; description: string; home: string },
  entries: readonly FeedEntry[],
): Map<string, string> {
  const base = config.baseUrl;
  const updated = entries.reduce((max, e) => Math.max(max, e.date), 0);
  const feed = new Feed({
    id: `${base}/${paths.atom}`,
    title: meta.title,
    description: meta.description,
    link: `${base}/${meta.home}`,
    language: config.language,
    updated: new Date(updated),
    generator: 'Almanac',
    copyright: `© ${config.title}`,
    feedLinks: { rss: `${base}/${paths.rss}`, atom: `${base}/${paths.atom}`, json: `${base}/${paths.json}` },
    author: { name: config.title, link: `${base}/` },
  });
  for (const e of entries) {
    feed.addItem({
      title: e.title,
      id: e.url,
      link: e.url,
      date: new Date(e.date),
      published: new Date(e.published),
      description: e.summary,
      content: e.html,
      category: e.categories.map((name) => ({ name })),
    });
  }
  return new Map([
    [paths.rss, feed.rss2()],
    [paths.atom, feed.atom1()],
    [paths.json, `${feed.json1()}\n`],
  ]);
}

export function guideFeedEntries(config: Config, catalog: Catalog): FeedEntry[] {
  return catalog.active.slice(0, 50).map((g) => {
    const front = g.latest.doc.front;
    const note = g.latest.version > 1 ? ` (v${g.latest.version}: ${g.latest.note})` : '';
    return {
      title: `${front.title}${note}`,
      url: `${config.baseUrl}/guides/${g.guide.slug}/`,
      date: g.latest.published,
      published: g.first.published,
      summary: front.tldr,
      categories: front.topics,
    };
  });
}

export function issueFeedEntries(config: Config, issues: readonly StoredIssue[]): FeedEntry[] {
  return issues.slice(0, 50).map((i) => ({
    title: i.subject,
    url: `${config.baseUrl}/issues/${i.id}/`,
    date: i.scheduledAt,
    published: i.scheduledAt,
    summary: i.preheader,
    categories: [i.editionLabel, ...new Set(i.groups.map((g) => g.topic))],
  }));
}
