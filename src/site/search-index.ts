// The search index: each shard indexed by Pagefind (two processes at once) and cached under the hash
// of its records, the words index, and the files they make in the output (see search.ts).
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { CACHE_DIR } from '../cache/file-cache.ts';
import { IoError } from '../content/problems.ts';
import { writeFileAtomically } from '../files/atomic.ts';
import { PagefindPool, type PagefindApi } from './pagefind-pool.ts';
import { MANIFEST, SEARCH_DIR, WORDS_INDEX } from './search.ts';
import { shardWords, wordRecords, type SearchRecord, type SearchShard } from './search-records.ts';
import { textOf } from './search-text.ts';

/** Turns records into the index's files (paths relative to SEARCH_DIR): the seam in front of Pagefind. */
export interface SearchIndexer {
  readonly name: string;
  /** Once `signal` aborts, the index is no longer wanted: it may stop making it. */
  index(records: readonly SearchRecord[], signal?: AbortSignal): Promise<Map<string, Buffer>>;
  /** Gets ready to index, before the records are made (loads what it needs). */
  warm?(): void;
}

/** Two Pagefind processes, so that two shards are indexed at once while the build renders pages. */
const pagefindPool = new PagefindPool(2);

/**
 * Pagefind's Node API, which runs its indexer as a child process (so on another core than the build).
 * Named with Pagefind's version, which keys the cached indexes: after an upgrade a shard kept from the
 * old version would be served beside the new version's script and WebAssembly.
 */
export const pagefindIndexer: SearchIndexer = {
  name: `pagefind@${pagefindVersion()}`,
  warm: () => pagefindPool.warm(),
  index: (records, signal) =>
    pagefindPool.run((pagefind) => indexWith(pagefind, records), signal).catch((err: unknown) => {
      throw err instanceof IoError ? err : indexError(err instanceof Error ? err.message : String(err));
    }),
};

function pagefindVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.resolve('pagefind'))), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function indexWith(pagefind: PagefindApi, records: readonly SearchRecord[]): Promise<Map<string, Buffer>> {
  try {
    // A shard of many small records (stories) has its fragments (one per record) bundled into
    // shared files, so that a build writes a few dozen files for it instead of one per story.
    const created = await pagefind.createIndex({ maxFragments: fragmentFiles(records) });
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

/**
 * How many fragment files a shard of `records` gets: one per BUNDLE_CHARS of their text, at most one
 * per record. Making a file costs a build far more than writing its bytes; a page of results fetches
 * the file of each result it shows, so a file must stay small: on average a guide's text fills one.
 * Pagefind groups records by count, not size, so a very long guide may still share its file.
 */
export function fragmentFiles(records: readonly SearchRecord[]): number {
  return Math.max(1, Math.min(records.length, Math.ceil(textLength(records) / BUNDLE_CHARS)));
}

/** The characters of the records' text: what indexing them costs, and what their fragments weigh. */
function textLength(records: readonly SearchRecord[]): number {
  return records.reduce((n, r) => n + r.content.length, 0);
}

const BUNDLE_CHARS = 16_000;

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
const FORMAT = `search-6;bundle=${BUNDLE_CHARS}`;

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
    private readonly dir: string,
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
    const value: CachedShard = { format: FORMAT, key, files: [...made.files], words: made.words };
    writeCached(this.shardFile(name), v8.serialize(value));
  }

  /**
   * Keeps the texts read in this build (only those) and what it indexed from which inputs, and
   * forgets shards that are no longer built.
   */
  finish(indexes: readonly [string, string][], records: number, inputs: string | undefined): void {
    const built = { indexes: [...indexes], records };
    const sameBuild = this.previous?.inputs === inputs && JSON.stringify(this.previous?.built) === JSON.stringify(built);
    if (this.textsChanged || this.texts.size !== this.previousTexts.size || !sameBuild) {
      const value: CachedSearch = { format: FORMAT, texts: [...this.texts], inputs, built };
      writeCached(path.join(this.dir, 'search.bin'), v8.serialize(value));
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
    return path.join(this.dir, 'search', `${name}.bin`);
  }
}

function writeCached(file: string, data: Buffer): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomically(file, data);
  } catch {
    // Only a later rebuild is slower for it.
  }
}

/**
 * The index of every shard: the cached one of a shard whose records are the same as last time, else
 * a new one from `indexer` (the largest first, so that the last to finish is a small one), which is
 * then cached; the words index of all of them, made the same way once the shards are under way; and
 * the manifest that lists them for the browser. `inputs` (the build's inputs digest) lets the next
 * build reuse the whole index. `onFiles` is given the output files of each index made afresh as soon
 * as it is made, so that they can be written while the others are still being made. Once `signal`
 * aborts, no index is asked for and none is handed over.
 */
export async function buildSearchIndex(
  cache: SearchCache,
  all: readonly SearchShard[],
  indexer: SearchIndexer = pagefindIndexer,
  clock: () => number = performance.now.bind(performance),
  inputs?: string,
  onFiles?: (files: Map<string, Buffer>) => void,
  signal?: AbortSignal,
): Promise<SearchIndex> {
  const started = clock();
  const kept = all.filter((s) => s.records.length > 0);
  // A site with nothing to search still gets an (empty) index, so that the search page says so.
  const shards = kept.length > 0 ? kept : all.slice(0, 1);
  const jobs = shards.map((shard) => {
    const key = recordsKey(shard.records, indexer.name);
    const cached = cache.index(shard.name, key);
    // A changed shard's words are taken once, when it is given to the indexer (below).
    return { shard, key, cached, words: cached?.words };
  });
  // The first index that fails fails the build: the others are given up at once (their processes
  // stopped), not made one after another to be thrown away, and that first failure is the one told.
  const giveUp = new AbortController();
  const stopped = signal ? AbortSignal.any([signal, giveUp.signal]) : giveUp.signal;
  // Two listeners per job (waiting for a process, then running on one): a site of many shards has more
  // than the ten after which Node warns of a leak.
  setMaxListeners(2 * (jobs.length + 1), stopped);
  const made = (shard: SearchShard, key: string, words: string) => async () => {
    try {
      stopped.throwIfAborted();
      const files = await indexer.index(shard.records, stopped);
      cache.save(shard.name, key, { files, words });
      stopped.throwIfAborted();
      onFiles?.(indexFiles(shard.name, files));
      return files;
    } catch (err) {
      // The first failure is the reason the others are given up for (a later abort changes nothing).
      giveUp.abort(err);
      throw err;
    }
  };
  const indexing = new Map<string, Promise<Map<string, Buffer>>>();
  const changed = jobs.filter((job) => !job.cached).sort((a, b) => textLength(b.shard.records) - textLength(a.shard.records));
  // Given to the indexer before the words index is made, so that Pagefind starts on them at once.
  for (const job of changed) {
    job.words = shardWords(job.shard.records);
    const files = made(job.shard, job.key, job.words)();
    // Awaited below, after the words index: a failure meanwhile is not left unhandled.
    files.catch(() => undefined);
    indexing.set(job.shard.name, files);
  }
  for (const job of jobs) if (job.cached) indexing.set(job.shard.name, Promise.resolve(job.cached.files));
  const words = wordRecords(
    jobs.map((job) => ({ name: job.shard.name, words: job.words! })),
    shards[0]?.records[0]?.language ?? 'en',
  );
  const wordsKey = recordsKey(words, indexer.name);
  const wordsCached = cache.index(WORDS_INDEX, wordsKey);
  let wordsIndex: Map<string, Buffer>;
  let built: [string, Map<string, Buffer>][];
  try {
    wordsIndex = wordsCached ? wordsCached.files : await made({ name: WORDS_INDEX, records: words }, wordsKey, '')();
    built = await Promise.all(jobs.map(async (job) => [job.shard.name, await indexing.get(job.shard.name)!] as [string, Map<string, Buffer>]));
  } catch (err) {
    throw giveUp.signal.aborted ? giveUp.signal.reason : err;
  }
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
  for (const [name, built] of indexes) for (const [file, data] of indexFiles(name, built)) files.set(file, data);
  const shards = records === 0 ? [] : indexes.filter(([name]) => name !== WORDS_INDEX).map(([name]) => `${name}/`);
  files.set(`${SEARCH_DIR}/${MANIFEST}`, Buffer.from(`${JSON.stringify({ words: `${WORDS_INDEX}/`, shards })}\n`));
  return files;
}

/** The output files of index `name` made as `built`. */
function indexFiles(name: string, built: Map<string, Buffer>): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const wasm = wasmLoaded(built);
  for (const [rel, data] of built) {
    // Only the words index's search scripts run; the shards need their index and WebAssembly only.
    if (PAGEFIND_SCRIPTS.test(rel) && !(name === WORDS_INDEX && SCRIPTS_RUN.has(rel))) continue;
    if (wasm && PAGEFIND_WASM.test(rel) && !wasm.has(rel)) continue;
    files.set(`${SEARCH_DIR}/${name}/${rel}`, data);
  }
  return files;
}

/**
 * The WebAssembly files the browser loads for an index: those of the languages its entry file names.
 * Pagefind also writes the one for text in no known language, which an index of one language never
 * loads. Undefined (keep them all) when the entry cannot be read.
 */
function wasmLoaded(built: Map<string, Buffer>): Set<string> | undefined {
  const entry = built.get('pagefind-entry.json');
  if (!entry) return undefined;
  try {
    const languages = (JSON.parse(entry.toString('utf8')) as { languages?: Record<string, { wasm?: unknown }> }).languages;
    const names = Object.values(languages ?? {}).map((l) => l.wasm);
    if (names.length === 0 || !names.every((n): n is string => typeof n === 'string')) return undefined;
    return new Set(names.map((n) => `wasm.${n}.pagefind`));
  } catch {
    return undefined;
  }
}

const PAGEFIND_WASM = /^wasm\.[^/]+\.pagefind$/;

/** Pagefind's scripts and styles, at the top of its output (its UI's and its own). */
const PAGEFIND_SCRIPTS = /^[^/]+\.(js|css)$/;

/** Of those, what the search page runs: search.js loads pagefind.js, which starts its worker. Pagefind's UIs are not used. */
const SCRIPTS_RUN = new Set(['pagefind.js', 'pagefind-worker.js']);

export function recordsKey(records: readonly SearchRecord[], indexer: string): string {
  const hash = createHash('sha256').update(`${FORMAT}\0${indexer}\0`);
  for (const r of records) hash.update(JSON.stringify(r)).update('\0');
  return hash.digest('hex');
}
