// The site's search index: one record per guide (its latest version) and per news story, built from
// the composed pages (no HTML is parsed back), indexed by Pagefind into `pagefind/` in the output.
// Pagefind cannot update an index in place, so the whole index is kept in the build cache under a
// hash of every record: a rebuild whose records are all unchanged reuses it without starting
// Pagefind, and any change (a guide edited, published or removed, a news item added) reindexes.
// The text of each guide is kept there too, by the hash of its HTML, so only changed guides are
// reduced to text again.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type sanitize from 'sanitize-html';
import { CACHE_DIR } from '../cache/file-cache.ts';
import { IoError } from '../content/problems.ts';
import type { NewsCard, Page, PageContext } from './page-context.ts';

// sanitize-html is loaded when a page's text is first indexed, not with the pages that link to search.
const loadPackage = createRequire(import.meta.url);
let sanitizer: typeof sanitize | undefined;
const sanitizeHtml = (): typeof sanitize => (sanitizer ??= loadPackage('sanitize-html') as typeof sanitize);

/** The folder below the output that holds the index and Pagefind's script. */
export const SEARCH_DIR = 'pagefind';

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
}

/**
 * The records of every latest guide page (the guide's own URL, not its `vN.html` name) and of every
 * story on the news pages, in page order.
 */
export function searchRecords(pages: readonly Page[], language: string, text: (html: string) => string = textOf): SearchRecord[] {
  const records: SearchRecord[] = [];
  for (const page of pages) {
    if (page.template === 'guide') {
      const guide = page.data.guide as GuideView;
      if (guide.isLatest) records.push(guideRecord(page.file, guide, language, text));
    } else if (page.template === 'news') {
      for (const card of page.data.stories as NewsCard[]) records.push(storyRecord(card, language));
    }
  }
  return records.map(wellFormed);
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
  const parts = [g.title, g.tldr, ...g.takeaways.map(text), text(g.bodyHtml), ...g.faq.flatMap((f) => [f.q, text(f.a)])];
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
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' };

/** Rendered HTML as the text a reader sees: tags gone, block ends as line breaks, entities decoded. */
export function textOf(html: string): string {
  if (!/[<&]/.test(html)) return html.trim();
  const spaced = html.replace(/<(br|hr|\/p|\/div|\/li|\/h[1-6]|\/td|\/tr|\/blockquote|\/pre)\b[^>]*>/gi, '$&\n');
  const text = sanitizeHtml()(spaced, { allowedTags: [], allowedAttributes: {}, nonTextTags: NOT_TEXT });
  return text
    .replace(/&(amp|lt|gt|quot);/g, (m) => ENTITIES[m]!)
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}

/**
 * The text of HTML that markdown-it wrote with raw HTML turned off (news summaries): there every
 * `<` that is text is written `&lt;` and no attribute holds a `>`, so each tag is exactly a `<…>`
 * run and removing them leaves the text. Far cheaper than parsing, for thousands of summaries.
 */
export function renderedText(html: string): string {
  return html
    .replace(/<\/(p|li|h[1-6]|blockquote|pre)>|<br\s*\/?>/g, '$&\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot);/g, (m) => ENTITIES[m]!)
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}

/** Turns records into the index's files (paths relative to SEARCH_DIR): the seam in front of Pagefind. */
export interface SearchIndexer {
  readonly name: string;
  index(records: readonly SearchRecord[]): Promise<Map<string, Buffer>>;
}

/** Pagefind's Node API, which runs its indexer as a child process (so on another core than the build). */
export const pagefindIndexer: SearchIndexer = {
  name: 'pagefind',
  async index(records) {
    const pagefind = await import('pagefind');
    // One Pagefind process serves the whole of this process: the last build indexing stops it.
    pagefindUsers++;
    try {
      // A large site's fragments (one per record) are bundled into shared files, so that a
      // rebuild writes about a thousand files instead of one per guide and story.
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
    } finally {
      if (--pagefindUsers === 0) await pagefind.close();
    }
  },
};

const MAX_FRAGMENTS = 1000;

/** Builds of this process indexing at this moment (tests and `preview` can run several). */
let pagefindUsers = 0;

function indexError(message: string): IoError {
  // Pagefind's errors quote the whole message they failed on, a guide's text included.
  const found = message.length > 300 ? `${message.slice(0, 300)}…` : message;
  return new IoError([{ file: `${SEARCH_DIR}/`, field: 'search index', expected: 'Pagefind to index every guide and story', found }], 'ESEARCH');
}

export interface SearchIndex {
  /** Output path (below the output folder) → contents. */
  files: Map<string, Buffer>;
  records: number;
  /** True when the index of the previous build was reused as it was. */
  reused: boolean;
  ms: number;
}

/** What the index depends on besides the records: the indexer and this format. */
const FORMAT = `search-1;fragments=${MAX_FRAGMENTS}`;

interface CachedSearch {
  format: string;
  /** recordsKey of the records `files` were made from. */
  key: string;
  files: [string, Buffer][];
  /** The text of guide HTML (bodies, takeaways, answers) by the SHA-256 of the HTML. */
  texts: [string, string][];
  /** What the site was made from when it was indexed (the build's inputs digest and the indexer), and how many records. */
  inputs?: string;
  records?: number;
}

/**
 * What the last build indexed, kept in `.almanac/cache/search.bin`: its index under the hash of its
 * records, and the text of each piece of guide HTML under the hash of that HTML, so that a rebuild
 * parses only the guides that changed. A cache that cannot be read or written only costs time.
 */
export class SearchCache {
  private readonly texts = new Map<string, string>();
  private textsChanged = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly previous: CachedSearch | undefined,
    private readonly previousTexts: Map<string, string>,
  ) {}

  static open(root: string): SearchCache {
    const file = path.join(root, CACHE_DIR, 'search.bin');
    try {
      const cached = v8.deserialize(readFileSync(file)) as Partial<CachedSearch>;
      if (cached.format === FORMAT && typeof cached.key === 'string' && Array.isArray(cached.files) && Array.isArray(cached.texts)) {
        return new SearchCache(file, cached as CachedSearch, new Map(cached.texts));
      }
    } catch {
      // None yet, or damaged: everything is computed.
    }
    return new SearchCache(file, undefined, new Map());
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
   * The last build's index, if the site it indexed was made from the same `inputs` (a digest of the
   * content, templates and code): its records would be the same, so they need not be made again.
   */
  reuse(inputs: string | undefined): SearchIndex | undefined {
    const { previous } = this;
    if (!inputs || previous?.inputs !== inputs || previous.records === undefined) return undefined;
    return { files: prefixed(new Map(previous.files)), records: previous.records, reused: true, ms: 0 };
  }

  /** The last build's index, if it was made from records with this key. */
  index(key: string): Map<string, Buffer> | undefined {
    return this.previous?.key === key ? new Map(this.previous.files) : undefined;
  }

  /** Keeps `files` as the index of `key` (and of `inputs`, see reuse), with the texts read in this build (only those). */
  save(key: string, files: Map<string, Buffer>, inputs?: string, records?: number): void {
    const same = this.previous?.key === key && this.previous.inputs === inputs && !this.textsChanged && this.texts.size === this.previousTexts.size;
    if (!this.file || same) return;
    const value: CachedSearch = { format: FORMAT, key, files: [...files], texts: [...this.texts], inputs, records };
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temp, v8.serialize(value));
      renameSync(temp, this.file);
    } catch {
      // Only a later rebuild is slower for it.
    }
  }
}

/**
 * The index of `records`: the cached one when they are the same as last time, else a new one from
 * `indexer`, which is then cached.
 */
export async function buildSearchIndex(
  cache: SearchCache,
  records: readonly SearchRecord[],
  indexer: SearchIndexer = pagefindIndexer,
  clock: () => number = performance.now.bind(performance),
  inputs?: string,
): Promise<SearchIndex> {
  const started = clock();
  const key = recordsKey(records, indexer.name);
  const cached = cache.index(key);
  const files = cached ?? (await indexer.index(records));
  cache.save(key, files, inputs && `${indexer.name}\0${inputs}`, records.length);
  return { files: prefixed(files), records: records.length, reused: cached !== undefined, ms: clock() - started };
}

function prefixed(files: Map<string, Buffer>): Map<string, Buffer> {
  return new Map([...files].map(([rel, data]) => [`${SEARCH_DIR}/${rel}`, data]));
}

export function recordsKey(records: readonly SearchRecord[], indexer: string): string {
  const hash = createHash('sha256').update(`${FORMAT}\0${indexer}\0`);
  for (const r of records) hash.update(JSON.stringify(r)).update('\0');
  return hash.digest('hex');
}
