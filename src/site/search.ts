// The site's search index: one record per guide (its latest version) and per news story, built from
// the composed pages (no HTML is parsed back), indexed by Pagefind below `pagefind/` in the output.
// Pagefind cannot update an index in place, so the records are split into shards, each its own
// Pagefind index: the guides, and the news by the month a story was published in the site's time
// zone (whole years before the newest story's year, so that a site with years of news keeps a few
// dozen shards). Each shard is kept in the build cache under a hash of its own records: a rebuild
// indexes again only the shards whose records changed (a new story: its month; a guide edited: the
// guides), two shards at a time in two Pagefind processes.
//
// Pagefind matches a word that is in no page of an index by the longest word of that index that
// begins it ("fireworks" finds "gas-fired" through "fire"). Searched shard by shard, a shard without
// the word would answer with such near matches while another shard has the word itself. So one more
// index, `words`, holds one record per shard made of that shard's words: the browser searches it
// first, and then only the shards it names, which are exactly those where Pagefind matches the query
// with the words one index of the whole site would use (see templates/assets/search.js).
// The text of each guide is kept in the cache too, by the hash of its HTML, so only changed guides
// are reduced to text again.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type sanitize from 'sanitize-html';
import { CACHE_DIR } from '../cache/file-cache.ts';
import { IoError } from '../content/problems.ts';
import { calendarMonth } from '../words/dates.ts';
import type { NewsCard, Page, PageContext } from './page-context.ts';
import { PagefindPool, type PagefindApi } from './pagefind-pool.ts';

// sanitize-html is loaded when a page's text is first indexed, not with the pages that link to search.
const loadPackage = createRequire(import.meta.url);
let sanitizer: typeof sanitize | undefined;
const sanitizeHtml = (): typeof sanitize => (sanitizer ??= loadPackage('sanitize-html') as typeof sanitize);

/** The folder below the output that holds the shards and their manifest. */
export const SEARCH_DIR = 'pagefind';
/** The guides' shard (the first). */
export const GUIDES_SHARD = 'guides';
/** The index of each shard's words, which also holds Pagefind's scripts: the browser searches it first. */
export const WORDS_INDEX = 'words';
/** The list of shards, in SEARCH_DIR: `{ "words": "words/", "shards": ["guides/", "news-2026-04/", …] }`. */
export const MANIFEST = 'shards.json';

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

/** The search page (`search/`): the header's form leads there, and its script shows the results. */
export function searchPage(ctx: PageContext): Page {
  const meta = ctx.meta('search/', {
    title: 'Search',
    description: `Search the guides and news of ${ctx.site.config.title}.`,
    section: 'none',
    noindex: true,
  });
  return ctx.page('search/', 'search', meta, {});
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

/** Elements whose content a reader never sees as text (a guide may hold raw HTML). */
const NOT_TEXT = ['script', 'style', 'template', 'noscript', 'iframe', 'object', 'embed', 'svg', 'math', 'textarea', 'select', 'button', 'head', 'title'];
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const ENTITY = /&(amp|lt|gt|quot|#39);/g;
/** The tags after which the text reads on a new line. */
const BLOCK_END = /<(br|hr|\/p|\/div|\/li|\/h[1-6]|\/td|\/th|\/tr|\/blockquote|\/pre|\/figcaption)\b[^>]*>/gi;

/** Rendered HTML as the text a reader sees: tags gone, block ends as line breaks, entities decoded. */
export function textOf(html: string): string {
  if (!/[<&]/.test(html)) return html.trim();
  const spaced = html.replace(BLOCK_END, '$&\n');
  const text = sanitizeHtml()(spaced, { allowedTags: [], allowedAttributes: {}, nonTextTags: NOT_TEXT });
  return text
    .replace(ENTITY, (m) => ENTITIES[m]!)
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}

/**
 * The text of HTML that markdown-it wrote with raw HTML turned off (news summaries), or of a guide
 * with no HTML of its own (RenderedBody.rawHtml false; its figures are written escaped): there every
 * `<` that is text is written `&lt;` and no attribute holds a `>`, so each tag is exactly a `<…>`
 * run and removing them leaves the text. Far cheaper than parsing, for thousands of summaries.
 */
export function renderedText(html: string): string {
  return html
    .replace(BLOCK_END, '$&\n')
    .replace(/<[^>]*>/g, '')
    .replace(ENTITY, (m) => ENTITIES[m]!)
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
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

/** Turns records into the index's files (paths relative to SEARCH_DIR): the seam in front of Pagefind. */
export interface SearchIndexer {
  readonly name: string;
  index(records: readonly SearchRecord[]): Promise<Map<string, Buffer>>;
}

/** Two Pagefind processes, so that two shards are indexed at once while the build renders pages. */
const pagefindPool = new PagefindPool(2);

/** Pagefind's Node API, which runs its indexer as a child process (so on another core than the build). */
export const pagefindIndexer: SearchIndexer = {
  name: 'pagefind',
  index: (records) =>
    pagefindPool.run((pagefind) => indexWith(pagefind, records)).catch((err: unknown) => {
      throw err instanceof IoError ? err : indexError(err instanceof Error ? err.message : String(err));
    }),
};

async function indexWith(pagefind: PagefindApi, records: readonly SearchRecord[]): Promise<Map<string, Buffer>> {
  try {
    // A large shard's fragments (one per record) are bundled into shared files, so that a
    // build writes a few hundred files per shard instead of one per guide and story.
    const created = await pagefind.createIndex({ maxFragments: MAX_FRAGMENTS });
    const index = created.index;
    if (!index) throw indexError(created.errors.join('; ') || 'no index was created');
    const added = await Promise.all(records.map((r) => index.addCustomRecord({ ...r, meta: { ...r.meta }, filters: { ...r.filters } })));
    const failed = added.findIndex((a) => a.errors.length > 0);
    if (failed >= 0) throw indexError(`${records[failed]!.url}: ${added[failed]!.errors.join('; ')}`);
    const written = await index.getFiles();
    if (written.errors.length > 0) throw indexError(written.errors.join('; '));
    await index.deleteIndex();
    return new Map(written.files.map((f) => [f.path.replace(/\\/g, '/'), Buffer.from(f.content)]));
  } catch (err) {
    if (err instanceof IoError) throw err;
    throw indexError(err instanceof Error ? err.message : String(err));
  }
}

/** Per shard: a handful of shards write about as many fragment files as one index of the whole site would. */
const MAX_FRAGMENTS = 200;

function indexError(message: string): IoError {
  // Pagefind's errors quote the whole message they failed on, a guide's text included.
  const found = message.length > 300 ? `${message.slice(0, 300)}…` : message;
  return new IoError([{ file: `${SEARCH_DIR}/`, field: 'search index', expected: 'Pagefind to index every guide and story', found }], 'ESEARCH');
}

export interface SearchIndex {
  /** Output path (below the output folder) → contents: every shard's files, the words index and the manifest. */
  files: Map<string, Buffer>;
  records: number;
  shards: number;
  /** The shards indexed in this build (the others were reused from the last one as they were). */
  indexed: string[];
  /** The records of the shards indexed in this build. */
  indexedRecords: number;
  /** Whether the words index was made in this build (a shard gone changes it, though none is indexed). */
  wordsIndexed: boolean;
  ms: number;
}

/** What the index depends on besides the records: the indexer and this format. */
const FORMAT = `search-4;fragments=${MAX_FRAGMENTS}`;

interface CachedShard {
  format: string;
  /** recordsKey of the records `files` were made from. */
  key: string;
  files: [string, Buffer][];
  /** shardWords of those records (empty for the words index itself). */
  words: string;
}

/** A shard's index as the last build made it. */
export interface ShardIndex {
  files: Map<string, Buffer>;
  words: string;
}

interface CachedSearch {
  format: string;
  /** The text of guide HTML (bodies, takeaways, answers) by the SHA-256 of the HTML. */
  texts: [string, string][];
  /** What the site was made from when it was indexed (the build's inputs digest and the indexer)… */
  inputs?: string;
  /** …and what was indexed then: the words index and each shard, in order, with the key of its records. */
  built?: { indexes: [string, string][]; records: number };
}

/**
 * What the last build indexed, in `.almanac/cache/`: each shard's index under the hash of its records
 * in `search/<shard>.bin` (so a rebuild rewrites only the shards it indexed); and in `search.bin` the
 * text of each piece of guide HTML under the hash of that HTML, so that a rebuild parses only the
 * guides that changed, and the list of shards of the last build with the digest of the inputs it was
 * made from. A cache that cannot be read or written only costs time.
 */
export class SearchCache {
  private readonly texts = new Map<string, string>();
  private textsChanged = false;

  private constructor(
    private readonly dir: string | undefined,
    private readonly previous: CachedSearch | undefined,
    private readonly previousTexts: Map<string, string>,
  ) {}

  static open(root: string): SearchCache {
    const dir = path.join(root, CACHE_DIR);
    try {
      const cached = v8.deserialize(readFileSync(path.join(dir, 'search.bin'))) as Partial<CachedSearch>;
      if (cached.format === FORMAT && Array.isArray(cached.texts)) return new SearchCache(dir, cached as CachedSearch, new Map(cached.texts));
    } catch {
      // None yet, or damaged: every text is computed.
    }
    return new SearchCache(dir, undefined, new Map());
  }

  /** A cache that keeps nothing (for `check` and tests). */
  static none(): SearchCache {
    return new SearchCache(undefined, undefined, new Map());
  }

  /** textOf(html), from the last build when it read the same HTML. */
  text(html: string): string {
    if (!/[<&]/.test(html)) return html.trim();
    const hash = createHash('sha256').update(html).digest('base64');
    let text = this.texts.get(hash) ?? this.previousTexts.get(hash);
    if (text === undefined) {
      text = textOf(html);
      this.textsChanged = true;
    }
    this.texts.set(hash, text);
    return text;
  }

  /**
   * The last build's whole index, if the site it indexed was made from the same `inputs` (a digest of
   * the content, templates and code): its records would be the same, so they need not be made again.
   */
  reuse(inputs: string | undefined): SearchIndex | undefined {
    const built = this.previous?.built;
    if (!inputs || this.previous?.inputs !== inputs || !built) return undefined;
    const indexes: [string, Map<string, Buffer>][] = [];
    for (const [name, key] of built.indexes) {
      const cached = this.index(name, key);
      if (!cached) return undefined;
      indexes.push([name, cached.files]);
    }
    return { files: outputFiles(indexes, built.records), records: built.records, shards: indexes.length - 1, indexed: [], indexedRecords: 0, wordsIndexed: false, ms: 0 };
  }

  /** The last build's index of shard `name`, if it was made from records with this key. */
  index(name: string, key: string): ShardIndex | undefined {
    if (!this.dir) return undefined;
    try {
      const cached = v8.deserialize(readFileSync(this.shardFile(name))) as Partial<CachedShard>;
      if (cached.format === FORMAT && cached.key === key && Array.isArray(cached.files) && typeof cached.words === 'string') {
        return { files: new Map(cached.files), words: cached.words };
      }
    } catch {
      // None yet, or damaged: this shard is indexed again.
    }
    return undefined;
  }

  /** Keeps `made` as the index of shard `name` made from records with `key`. */
  save(name: string, key: string, made: ShardIndex): void {
    if (!this.dir) return;
    const value: CachedShard = { format: FORMAT, key, files: [...made.files], words: made.words };
    writeAtomically(this.shardFile(name), v8.serialize(value));
  }

  /**
   * Keeps the texts read in this build (only those) and what it indexed from which inputs, and
   * forgets shards that are no longer built.
   */
  finish(indexes: readonly [string, string][], records: number, inputs: string | undefined): void {
    if (!this.dir) return;
    const built = { indexes: [...indexes], records };
    const sameBuild = this.previous?.inputs === inputs && JSON.stringify(this.previous?.built) === JSON.stringify(built);
    if (this.textsChanged || this.texts.size !== this.previousTexts.size || !sameBuild) {
      const value: CachedSearch = { format: FORMAT, texts: [...this.texts], inputs, built };
      writeAtomically(path.join(this.dir, 'search.bin'), v8.serialize(value));
    }
    const kept = new Set(indexes.map(([name]) => `${name}.bin`));
    try {
      for (const file of readdirSync(path.join(this.dir, 'search'))) {
        if (!kept.has(file)) rmSync(path.join(this.dir, 'search', file), { force: true });
      }
    } catch {
      // Nothing cached yet.
    }
  }

  private shardFile(name: string): string {
    return path.join(this.dir!, 'search', `${name}.bin`);
  }
}

function writeAtomically(file: string, data: Buffer): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, data);
    renameSync(temp, file);
  } catch {
    // Only a later rebuild is slower for it.
  }
}

/**
 * The index of every shard: the cached one of a shard whose records are the same as last time, else
 * a new one from `indexer` (the largest first, so that the last to finish is a small one), which is
 * then cached; the words index of all of them, made the same way once the shards are under way; and
 * the manifest that lists them for the browser. `inputs` (the build's inputs digest) lets the next
 * build reuse the whole index.
 */
export async function buildSearchIndex(
  cache: SearchCache,
  all: readonly SearchShard[],
  indexer: SearchIndexer = pagefindIndexer,
  clock: () => number = performance.now.bind(performance),
  inputs?: string,
): Promise<SearchIndex> {
  const started = clock();
  const kept = all.filter((s) => s.records.length > 0);
  // A site with nothing to search still gets an (empty) index, so that the search page says so.
  const shards = kept.length > 0 ? kept : all.slice(0, 1);
  const jobs = shards.map((shard) => {
    const key = recordsKey(shard.records, indexer.name);
    return { shard, key, cached: cache.index(shard.name, key) };
  });
  const size = (records: readonly SearchRecord[]) => records.reduce((n, r) => n + r.content.length, 0);
  const made = (shard: SearchShard, key: string, words: string) => async () => {
    const files = await indexer.index(shard.records);
    cache.save(shard.name, key, { files, words });
    return files;
  };
  const indexing = new Map<string, Promise<Map<string, Buffer>>>();
  const changed = jobs.filter((job) => !job.cached).sort((a, b) => size(b.shard.records) - size(a.shard.records));
  // Given to the indexer before the words index is made, so that Pagefind starts on them at once.
  for (const job of changed) {
    const files = made(job.shard, job.key, shardWords(job.shard.records))();
    // Awaited below, after the words index: a failure meanwhile is not left unhandled.
    files.catch(() => undefined);
    indexing.set(job.shard.name, files);
  }
  for (const job of jobs) if (job.cached) indexing.set(job.shard.name, Promise.resolve(job.cached.files));
  const words = wordRecords(
    jobs.map((job) => ({ name: job.shard.name, words: job.cached?.words ?? shardWords(job.shard.records) })),
    shards[0]?.records[0]?.language ?? 'en',
  );
  const wordsKey = recordsKey(words, indexer.name);
  const wordsCached = cache.index(WORDS_INDEX, wordsKey);
  const wordsIndex = wordsCached ? wordsCached.files : await made({ name: WORDS_INDEX, records: words }, wordsKey, '')();
  const built = await Promise.all(jobs.map(async (job) => [job.shard.name, await indexing.get(job.shard.name)!] as [string, Map<string, Buffer>]));
  const records = shards.reduce((n, s) => n + s.records.length, 0);
  cache.finish(
    [[WORDS_INDEX, wordsKey], ...jobs.map((job): [string, string] => [job.shard.name, job.key])],
    records,
    inputs && `${indexer.name}\0${inputs}`,
  );
  const indexed = jobs.filter((job) => !job.cached).map((job) => job.shard);
  return {
    files: outputFiles([[WORDS_INDEX, wordsIndex], ...built], records),
    records,
    shards: shards.length,
    indexed: indexed.map((s) => s.name),
    indexedRecords: indexed.reduce((n, s) => n + s.records.length, 0),
    wordsIndexed: !wordsCached,
    ms: clock() - started,
  };
}

/**
 * The output files of the words index and the shards (in this order), and the manifest. With no
 * record at all, the manifest lists no shard: Pagefind cannot load an index of nothing (it has no
 * language), and the search page then answers "no results" without loading it.
 */
function outputFiles(indexes: readonly [string, Map<string, Buffer>][], records: number): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [name, built] of indexes) {
    for (const [rel, data] of built) {
      // Only the words index's scripts run; the shards need their index and WebAssembly only.
      if (name !== WORDS_INDEX && PAGEFIND_SCRIPTS.test(rel)) continue;
      files.set(`${SEARCH_DIR}/${name}/${rel}`, data);
    }
  }
  const shards = records === 0 ? [] : indexes.filter(([name]) => name !== WORDS_INDEX).map(([name]) => `${name}/`);
  files.set(`${SEARCH_DIR}/${MANIFEST}`, Buffer.from(`${JSON.stringify({ words: `${WORDS_INDEX}/`, shards })}\n`));
  return files;
}

/** Pagefind's scripts and styles, at the top of its output (its UI's and its own). */
const PAGEFIND_SCRIPTS = /^[^/]+\.(js|css)$/;

export function recordsKey(records: readonly SearchRecord[], indexer: string): string {
  const hash = createHash('sha256').update(`${FORMAT}\0${indexer}\0`);
  for (const r of records) hash.update(JSON.stringify(r)).update('\0');
  return hash.digest('hex');
}
