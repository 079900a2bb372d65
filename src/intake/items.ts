// A feed entry → a news item in the content format (content/news/<YYYY>/<MM>/<slug>.md): its title
// as text, its link made absolute, its date (the fetch time when it has none), the source's score,
// its topics from the source and the site's topicRules, and its summary as safe Markdown.
import { DateTime } from 'luxon';
import type { Config, SourceConfig } from '../content/config-schema.ts';
import { LIMITS } from '../content/fields.ts';
import { NEWS_DIR } from '../content/paths.ts';
import { slugify } from '../content/slug.ts';
import type { FeedEntry } from './feeds.ts';
import { escapeHtml } from './feeds.ts';
import { htmlToMarkdown, htmlToText, oneLine, shorten } from './summary.ts';

/** A news item not yet written. */
export interface Draft {
  title: string;
  url: string;
  source: string;
  /** Milliseconds since the epoch. */
  published: number;
  /** Whether `published` is the fetch time, the entry having no date of its own. */
  undated: boolean;
  score: number;
  topics: string[];
  summary: string;
}

/** Headlines are cut well below the content limit: a title is one line on a card. */
export const TITLE_MAX = 300;

export type EntryResult = { draft: Draft } | { skip: string; title: string; url?: string };

/** A word or "/pattern/" from the configuration, as a case-insensitive test. */
export function matcher(rule: string): RegExp {
  const pattern = /^\/(.+)\/$/s.exec(rule.trim());
  if (pattern) return new RegExp(pattern[1]!, 'iu');
  const word = rule.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${word}(?![\\p{L}\\p{N}])`, 'iu');
}

/** The site's rules, compiled once per run. */
export interface Rules {
  topicRules: { test: RegExp; topic: string }[];
  sources: Map<string, { include: RegExp[]; exclude: { rule: string; test: RegExp }[] }>;
}

export function compileRules(config: Config): Rules {
  return {
    topicRules: Object.entries(config.topicRules).map(([rule, topic]) => ({ test: matcher(rule), topic })),
    sources: new Map(config.sources.map((s) => [s.name, { include: s.include.map(matcher), exclude: s.exclude.map((rule) => ({ rule, test: matcher(rule) })) }])),
  };
}

export interface EntryContext {
  source: SourceConfig;
  /** The URL the feed was read from, for relative links. */
  feedUrl: string;
  rules: Rules;
  now: number;
  summaryMaxChars: number;
  /** Where a date without an offset is read. */
  timezone: string;
}

/** An entry's title as text and its link made absolute: what tells whether its story is new. */
export function entryIdentity(entry: FeedEntry, feedUrl: string): { title: string; url?: string } {
  const title = shorten(entry.titleIsHtml ? htmlToText(entry.title) : oneLine(entry.title), TITLE_MAX);
  return { title, url: absoluteHttpUrl(entry.link, feedUrl) };
}

/** `summary`: the entry's summary if already converted (see htmlToMarkdownMany). */
export function entryToDraft(entry: FeedEntry, c: EntryContext, summary?: string): EntryResult {
  const { title, url } = entryIdentity(entry, c.feedUrl);
  if (!url) return { skip: entry.link ? 'a link that is not an absolute http(s) URL' : 'no link', title: title || '(untitled)' };
  if (!title) return { skip: 'no title', title: '(untitled)', url };
  // An item needs a summary: the entry's, else its title, for the editor to replace.
  const given = summary ?? htmlToMarkdown(entry.html, c.summaryMaxChars, url);
  const body = given || htmlToMarkdown(escapeHtml(title), c.summaryMaxChars) || 'No summary in the feed.';
  const filters = c.rules.sources.get(c.source.name);
  // The summary's text is only needed when there are words to look for in it.
  const wanted = (filters && filters.include.length + filters.exclude.length > 0) || c.rules.topicRules.length > 0;
  const text = wanted ? `${title}\n${htmlToText(entry.html)}` : title;
  const excluded = filters?.exclude.find((r) => r.test.test(text));
  if (excluded) return { skip: `excluded by ${JSON.stringify(excluded.rule)}`, title, url };
  if (filters && filters.include.length > 0 && !filters.include.some((r) => r.test(text))) return { skip: 'matches none of the source\'s include words', title, url };
  const date = entry.date === undefined ? Number.NaN : parseEntryDate(entry.date, c.timezone);
  const undated = Number.isNaN(date);
  // An entry dated later than now (a wrong clock at the source) is taken as published now.
  const published = undated ? c.now : Math.min(date, c.now);
  const topics = [...c.source.topics];
  for (const rule of c.rules.topicRules) {
    if (rule.test.test(text) && !topics.some((t) => t.toLowerCase() === rule.topic.toLowerCase())) topics.push(rule.topic);
  }
  return { draft: { title, url, source: c.source.name, published, undated, score: c.source.score, topics: topics.slice(0, LIMITS.topics), summary: body } };
}

/**
 * RFC 822 dates (RSS) and ISO 8601 ones (Atom, JSON Feed, Dublin Core); an ISO date or date-time
 * without an offset is read in the site's time zone, not the machine's.
 */
export function parseEntryDate(value: string, timezone: string): number {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text)) {
    const dt = DateTime.fromISO(text.replace(' ', 'T'), { zone: timezone });
    return dt.isValid ? dt.toMillis() : Number.NaN;
  }
  return Date.parse(text);
}

function absoluteHttpUrl(link: string | undefined, base: string): string | undefined {
  if (!link) return undefined;
  try {
    const url = new URL(link.trim(), base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.username || url.password || url.href.length > LIMITS.url) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

/** The item's file below the site root, before any "-2" that a taken name needs. */
export function draftPath(d: Draft, timezone: string): { dir: string; slug: string } {
  const month = DateTime.fromMillis(d.published, { zone: timezone }).toFormat('yyyy/MM');
  let slug = slugify(d.title);
  if (slug.length > 60) slug = slug.slice(0, 60).replace(/-[^-]*$/, '') || slug.slice(0, 60);
  return { dir: `${NEWS_DIR}/${month}`, slug: slug || 'item' };
}

/**
 * The file's text. Each front-matter value is written as a JSON string, which YAML reads back as the
 * same string: quotes, colons, "---" and "#" in a headline stay text, and no value spans two lines.
 */
export function draftFile(d: Draft): string {
  const lines = [
    '---',
    `title: ${JSON.stringify(d.title)}`,
    `url: ${JSON.stringify(d.url)}`,
    `source: ${JSON.stringify(d.source)}`,
    `published: ${JSON.stringify(new Date(d.published).toISOString().replace('.000Z', 'Z'))}`,
    `score: ${d.score}`,
  ];
  if (d.topics.length) lines.push(`topics: ${JSON.stringify(d.topics)}`);
  lines.push('---', '', d.summary, '');
  return lines.join('\n');
}
