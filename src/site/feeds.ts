// RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the guides and of the issues, one entry per guide (at its
// latest version) or per issue. The feed's own "updated" is the newest entry, never the wall clock,
// so rebuilds are byte-identical.
//
// Every field here is text (titles, TL;DRs, subjects, preheaders, topics): it is declared as text
// where a format can say so (Atom `type="text"`, JSON Feed `content_text`) and, in RSS, whose
// description is HTML by convention, escaped as HTML before it is escaped as XML. The only change to
// any text is feedText(): characters XML 1.0 cannot carry are removed (in the JSON feed too, so all
// three say the same).
import type { Catalog } from '../compose/catalog.ts';
import type { Config } from '../content/config-schema.ts';
import type { StoredIssue } from '../store/issues.ts';
import { feedText, xmlAttr, xmlText } from './xml.ts';
import { htmlText } from '../render/html-text.ts';
import { plainText } from '../render/markdown.ts';
import { changeSummary } from './version-diff.ts';

export const GUIDE_FEEDS = { rss: 'feeds/guides.xml', atom: 'feeds/guides.atom', json: 'feeds/guides.json' } as const;
export const ISSUE_FEEDS = { rss: 'feeds/issues.xml', atom: 'feeds/issues.atom', json: 'feeds/issues.json' } as const;
export const NEWS_FEEDS = { rss: 'feeds/news.xml', atom: 'feeds/news.atom', json: 'feeds/news.json' } as const;

/** Entries per feed: readers poll often, so a feed holds what is new, not the archive. */
const FEED_LIMIT = 50;

export interface FeedEntry {
  title: string;
  url: string;
  /** The entry's identity when it is not its URL: a permanent link of its own. */
  id?: string;
  /** Last change, ms since the epoch. */
  date: number;
  /** First publication, ms since the epoch. */
  published: number;
  summary: string;
  categories: string[];
}

export interface FeedMeta {
  title: string;
  description: string;
  /** The page the feed is about, relative to the base URL, e.g. `guides/`. */
  home: string;
}

interface FeedContext {
  config: Config;
  links: { rss: string; atom: string; json: string; home: string };
  meta: FeedMeta;
  updated: number;
  entries: readonly FeedEntry[];
}

export function renderFeeds(
  config: Config,
  paths: { rss: string; atom: string; json: string },
  meta: FeedMeta,
  entries: readonly FeedEntry[],
): Map<string, string> {
  const base = config.baseUrl;
  const ctx: FeedContext = {
    config,
    links: { rss: `${base}/${paths.rss}`, atom: `${base}/${paths.atom}`, json: `${base}/${paths.json}`, home: `${base}/${meta.home}` },
    meta,
    updated: entries.reduce((max, e) => Math.max(max, e.date), 0),
    entries,
  };
  return new Map([
    [paths.rss, rss(ctx)],
    [paths.atom, atom(ctx)],
    [paths.json, json(ctx)],
  ]);
}


/** RFC 822 date-time, as RSS 2.0 wants it (`toUTCString` writes exactly that form, in GMT). */
const rfc822 = (ms: number) => new Date(ms).toUTCString();
const iso = (ms: number) => new Date(ms).toISOString();

function rss({ config, links, meta, updated, entries }: FeedContext): string {
  const items = entries.map((e) =>
    [
      '    <item>',
      `      <title>${xmlText(e.title)}</title>`,
      `      <link>${xmlText(e.url)}</link>`,
      `      <guid isPermaLink="true">${xmlText(e.id ?? e.url)}</guid>`,
      `      <pubDate>${rfc822(e.date)}</pubDate>`,
      `      <description>${xmlText(htmlText(e.summary))}</description>`,
      ...e.categories.map((c) => `      <category>${xmlText(c)}</category>`),
      '    </item>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
    '  <channel>',
    `    <title>${xmlText(meta.title)}</title>`,
    `    <link>${xmlText(links.home)}</link>`,
    `    <description>${xmlText(htmlText(meta.description))}</description>`,
    `    <language>${xmlText(config.language)}</language>`,
    `    <copyright>${xmlText(`© ${config.title}`)}</copyright>`,
    `    <lastBuildDate>${rfc822(updated)}</lastBuildDate>`,
    '    <docs>https://www.rssboard.org/rss-specification</docs>',
    '    <generator>Almanac</generator>',
    `    <atom:link href="${xmlAttr(links.rss)}" rel="self" type="application/rss+xml"/>`,
    ...items,
    '  </channel>',
    '</rss>',
    '',
  ].join('\n');
}

function atom({ config, links, meta, updated, entries }: FeedContext): string {
  const items = entries.map((e) =>
    [
      '  <entry>',
      `    <title type="text">${xmlText(e.title)}</title>`,
      `    <id>${xmlText(e.id ?? e.url)}</id>`,
      `    <link rel="alternate" type="text/html" href="${xmlAttr(e.url)}"/>`,
      `    <updated>${iso(e.date)}</updated>`,
      `    <published>${iso(e.published)}</published>`,
      `    <summary type="text">${xmlText(e.summary)}</summary>`,
      ...e.categories.map((c) => `    <category term="${xmlAttr(c)}"/>`),
      '  </entry>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${xmlAttr(config.language)}">`,
    `  <id>${xmlText(links.atom)}</id>`,
    `  <title type="text">${xmlText(meta.title)}</title>`,
    `  <subtitle type="text">${xmlText(meta.description)}</subtitle>`,
    `  <updated>${iso(updated)}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xmlAttr(links.atom)}"/>`,
    `  <link rel="alternate" type="text/html" href="${xmlAttr(links.home)}"/>`,
    `  <author><name>${xmlText(config.title)}</name><uri>${xmlText(`${config.baseUrl}/`)}</uri></author>`,
    `  <rights type="text">${xmlText(`© ${config.title}`)}</rights>`,
    '  <generator>Almanac</generator>',
    ...items,
    '</feed>',
    '',
  ].join('\n');
}

function json({ config, links, meta, entries }: FeedContext): string {
  const feed = {
    version: 'https://jsonfeed.org/version/1.1',
    title: feedText(meta.title),
    home_page_url: links.home,
    feed_url: links.json,
    description: feedText(meta.description),
    language: config.language,
    authors: [{ name: feedText(config.title), url: `${config.baseUrl}/` }],
    items: entries.map((e) => ({
      id: e.id ?? e.url,
      url: e.url,
      title: feedText(e.title),
      content_text: feedText(e.summary),
      summary: feedText(e.summary),
      date_published: iso(e.published),
      date_modified: iso(e.date),
      tags: e.categories.map(feedText),
    })),
  };
  return `${JSON.stringify(feed, null, 2)}\n`;
}

/**
 * One entry per guide at its latest version. A version after the first is a new entry to feed readers
 * (its id is the version's own page), links to what changed on the guide's page, and says what
 * changed and why before the TL;DR.
 */
export function guideFeedEntries(config: Config, catalog: Catalog): FeedEntry[] {
  return catalog.active.slice(0, FEED_LIMIT).map((g) => {
    const front = g.latest.doc.front;
    const dir = `${config.baseUrl}/guides/${g.guide.slug}/`;
    const changes = changeSummary(g.guide, g.latest);
    return {
      title: changes ? `${front.title} (v${g.latest.version}: ${g.latest.note})` : front.title,
      url: changes ? `${dir}#what_changed` : dir,
      ...(changes ? { id: `${dir}v${g.latest.version}.html` } : {}),
      date: g.latest.published,
      published: g.first.published,
      summary: changes ? `${changes}\n${g.latest.note}\n\n${front.tldr}` : front.tldr,
      categories: front.topics,
    };
  });
}

/** The newest stories, one entry each: the source's link, its title and summary as text, its topics. */
export function newsFeedEntries(catalog: Catalog): FeedEntry[] {
  return catalog.stories.slice(0, FEED_LIMIT).map(({ lead }) => ({
    title: lead.title,
    url: new URL(lead.url).href,
    date: lead.published,
    published: lead.published,
    summary: `${plainText(lead.summary)}\n\n${lead.source} · importance ${lead.score}/10`,
    categories: lead.topics ?? [],
  }));
}

export function issueFeedEntries(config: Config, issues: readonly StoredIssue[]): FeedEntry[] {
  return issues.slice(0, FEED_LIMIT).map((i) => ({
    title: i.subject,
    url: `${config.baseUrl}/issues/${i.id}/`,
    date: i.scheduledAt,
    published: i.scheduledAt,
    summary: i.preheader,
    categories: [i.editionLabel, ...new Set(i.groups.map((g) => g.topic))],
  }));
}
