// The search records of a site: one per guide (its latest version) and per news story, taken from the
// composed pages, in shards (see search.ts), and the records of the words index.
import { calendarMonth } from '../words/dates.ts';
import type { NewsCard, Page } from './page-context.ts';
import { GUIDES_SHARD } from './search.ts';
import { renderedText, textOf } from './search-text.ts';

/** One searchable document, in the shape Pagefind's `addCustomRecord` takes. */
export interface SearchRecord {
  /** Relative to the site root for a guide ("guides/llama-4/index.html"); the source's URL for a story. */
  url: string;
  /** Plain text: never HTML, so nothing in it can become markup in a result. */
  content: string;
  language: string;
  meta: { title: string; kind: 'Guide' | 'News'; level?: string; source?: string };
  filters: { kind: string[]; level?: string[] };
}

/** The part of a guide page's view model that goes into its record. */
interface GuideView {
  title: string;
  level: string;
  isLatest: boolean;
  tldr: string;
  takeaways: string[];
  bodyHtml: string;
  faq: { q: string; a: string }[];
  /** Whether the guide's Markdown holds HTML of its own (see RenderedBody.rawHtml). */
  rawHtml: boolean;
}

/** The records of one Pagefind index, under a name that is also its folder in SEARCH_DIR. */
export interface SearchShard {
  name: string;
  records: SearchRecord[];
}

/**
 * The records of every latest guide page (the guide's own URL, not its `vN.html` name) and of every
 * story on the news pages, in page order, in their shards: the guides first (empty on a site without
 * guides, and then left out), then the news, newest shard first.
 */
export function searchShards(pages: readonly Page[], language: string, timezone: string, text: (html: string) => string = textOf): SearchShard[] {
  const guides: SearchRecord[] = [];
  const stories: { record: SearchRecord; published: number }[] = [];
  for (const page of pages) {
    if (page.template === 'guide') {
      const guide = page.data.guide as GuideView;
      if (guide.isLatest) guides.push(wellFormed(guideRecord(page.file, guide, language, text)));
    } else if (page.template === 'news') {
      for (const card of page.data.stories as NewsCard[]) {
        stories.push({ record: wellFormed(storyRecord(card, language)), published: Date.parse(card.published.iso) });
      }
    }
  }
  const names = newsShardNames(stories.map((s) => s.published), timezone);
  const news = new Map<string, SearchRecord[]>();
  stories.forEach((s, i) => {
    const name = names[i]!;
    const list = news.get(name) ?? [];
    if (list.length === 0) news.set(name, list);
    list.push(s.record);
  });
  const newestFirst = [...news.keys()].sort().reverse();
  return [{ name: GUIDES_SHARD, records: guides }, ...newestFirst.map((name) => ({ name, records: news.get(name)! }))];
}

/** Every record of `searchShards`, in shard order. */
export function searchRecords(pages: readonly Page[], language: string, timezone = 'UTC', text: (html: string) => string = textOf): SearchRecord[] {
  return searchShards(pages, language, timezone, text).flatMap((s) => s.records);
}

/**
 * The shard of each story published at these instants: `news-YYYY-MM` for the months of the newest
 * story's year, `news-YYYY` for the years before it, both in the site's time zone. A year is folded
 * into one shard once a newer year has begun, which reindexes that year once; until then a story
 * changes only its month's shard. The names are plain ASCII and never change for the same month.
 */
export function newsShardNames(published: readonly number[], timezone: string): string[] {
  // Years compared as numbers: year 10000 is newer than 9999, and year 1 is "1", not four digits.
  const months = published.map((ms) => {
    const m = calendarMonth(ms, timezone);
    const cut = m.lastIndexOf('-');
    return { year: Number(m.slice(0, cut)), month: m.slice(cut + 1) };
  });
  const newestYear = Math.max(...months.map((m) => m.year));
  return months.map((m) => (m.year === newestYear ? `news-${yearName(m.year)}-${m.month}` : `news-${yearName(m.year)}`));
}

/** A year as four digits or more ("0999"), a year before year 1 with "bc" for its minus sign. */
function yearName(year: number): string {
  return year < 0 ? `bc${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0');
}

/** Pagefind's JSON reader refuses a lone surrogate (a half of an emoji, say): it becomes U+FFFD. */
function wellFormed(r: SearchRecord): SearchRecord {
  // Nearly every record is well formed already: it is then used as it is.
  const texts = [r.url, r.content, ...Object.values(r.meta), ...Object.values(r.filters).flat()];
  if (!texts.some((text) => HAS_LONE_SURROGATE.test(text))) return r;
  const fix = (text: string) => text.replace(LONE_SURROGATE, '\uFFFD');
  return {
    url: fix(r.url),
    content: fix(r.content),
    language: r.language,
    meta: Object.fromEntries(Object.entries(r.meta).map(([k, v]) => [k, fix(v)])) as SearchRecord['meta'],
    filters: Object.fromEntries(Object.entries(r.filters).map(([k, v]) => [k, v.map(fix)])) as SearchRecord['filters'],
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);

function guideRecord(url: string, g: GuideView, language: string, text: (html: string) => string): SearchRecord {
  // Only a guide's own HTML needs parsing; what the renderer wrote alone is read off directly.
  const read = g.rawHtml ? text : renderedText;
  const parts = [g.title, g.tldr, ...g.takeaways.map(read), read(g.bodyHtml), ...g.faq.flatMap((f) => [f.q, read(f.a)])];
  return {
    url,
    content: parts.join('\n'),
    language,
    meta: { title: g.title, kind: 'Guide', level: g.level },
    filters: { kind: ['Guide'], level: [g.level] },
  };
}

function storyRecord(card: NewsCard, language: string): SearchRecord {
  return {
    url: card.url,
    content: `${card.title}\n${renderedText(card.summaryHtml)}`,
    language,
    meta: { title: card.title, kind: 'News', source: card.source },
    filters: { kind: ['News'] },
  };
}

/**
 * Every word of a shard's records' text and meta (what Pagefind indexes), once, in the order first
 * met. Words are split at ASCII white space only, which Pagefind splits at too, so that Pagefind
 * reads each word in the words index as it read it in the shard.
 */
export function shardWords(records: readonly SearchRecord[]): string {
  const words = new Set<string>();
  for (const r of records) {
    for (const text of [r.content, ...Object.values(r.meta)]) {
      for (const word of text.split(/[ \t\n\r\f]+/)) if (word) words.add(word);
    }
  }
  return [...words].join(' ');
}

/**
 * The records of the words index: one per shard that has words, named after the shard, in its URL
 * and in its `shard` filter. The browser reads the shards a query matches from the filter's counts
 * in the search's answer, so it never downloads a record (all of a shard's words, which a guide of
 * many distinct words makes large).
 */
export function wordRecords(shards: readonly { name: string; words: string }[], language: string): SearchRecord[] {
  // No meta: a title would add its own words to the shard's.
  return shards
    .filter((s) => s.words.length > 0)
    .map((s) => ({ url: s.name, content: s.words, language, meta: {} as SearchRecord['meta'], filters: { shard: [s.name] } as unknown as SearchRecord['filters'] }));
}
