// What a build derived from each content file, kept between builds in .almanac/cache/ so that a
// rebuild parses and renders only the files that changed (the approach of Astro's data store and of
// git's index). A file is recognised as unchanged by its size, modification and change times and
// inode — the change time cannot be set by hand, so a hand edit is always seen. Results that depend
// on a setting too carry it in their key (a news item's time zone). Entries are invalidated as a
// whole when Almanac's code or its dependencies change. Besides values derived from files, a cache
// keeps pure results by their input (rendered Markdown, compiled templates).
//
// The cache only ever saves work: a missing, stale or unreadable cache file means a full parse.
//
// A cache file is an index and the values (stored-index.ts); another thread can check the stamps
// (stamps.ts) from the index while this one deserialises the values (see StampChecker).
//
// Why an entry or a whole cache file was discarded goes to the debug log (ALMANAC_DEBUG=cache).
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { writeFileAtomically } from '../files/atomic.ts';
import { processRunning } from '../files/pid.ts';
import { readRegularFile } from '../files/regular-file.ts';
import { walkTree } from '../files/walk.ts';
import { debugLog, type DebugLog } from '../log/debug.ts';
import { changedInput, stampOf, type Stamp } from './stamps.ts';
import { PreviousIndex, encode, indexDigest, split, storedForm, type Remembered, type StampChecker, type StoredIndex, type StoredValues } from './stored-index.ts';

export const CACHE_DIR = '.almanac/cache';

/** A cache file larger than this is not read (see readRegularFile). */
const CACHE_LIMIT = 1024 ** 3;

/** A file modified this recently may change again within the same clock tick: it is not kept. */
const SETTLE_MS = 2_000;

export interface CacheOptions {
  /** Checks the stamps of the cache's entries alongside this thread. */
  stamps?: StampChecker;
  /** The wall clock, in milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
  /** Files modified less than this long before the cache was opened are not kept. */
  settleMs?: number;
  /** Told why entries or the whole cache file were discarded; by default the debug log of ALMANAC_DEBUG=cache. */
  log?: DebugLog;
}

interface Entry {
  stamp: Stamp;
  value: unknown;
  /** The files the value was read from, when not just the file named by the key. */
  inputs?: readonly string[];
}

export class FileCache {
  /** Which of the previous entries this run reused, by position: marked, not copied (thousands per build). */
  private readonly reused: Uint8Array;
  private reusedCount = 0;
  /** Entries this run read afresh and keeps. */
  private readonly kept = new Map<string, Entry>();
  /** Keys asked for that had no reusable entry: read afresh, whether or not they are then kept. */
  private readonly missed = new Set<string>();
  private readonly usedResults: Remembered = new Map();
  private changed = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly fingerprint: string,
    private readonly previous: PreviousIndex,
    private readonly previousValues: readonly unknown[],
    private readonly previousResults: Remembered,
    private readonly startedAt: number,
    private readonly settleMs: number,
    private readonly log: DebugLog | undefined,
  ) {
    this.reused = new Uint8Array(previous.size);
  }

  /** A cache that keeps nothing: every value is computed. */
  static disabled(): FileCache {
    return new FileCache(undefined, '', PreviousIndex.empty(), [], new Map(), 0, SETTLE_MS, undefined);
  }

  /** The cache `name` under `<root>/.almanac/cache/`, valid for this code. */
  static open(root: string, name: string, options: CacheOptions = {}): FileCache {
    const file = path.join(root, CACHE_DIR, `${name}.bin`);
    const fingerprint = codeFingerprint();
    const { stamps } = options;
    const log = options.log ?? debugLog('cache');
    const afresh = (previous = PreviousIndex.empty(), values: unknown[] = [], remembered: Remembered = new Map()) =>
      new FileCache(file, fingerprint, previous, values, remembered, (options.clock ?? Date.now)(), options.settleMs ?? SETTLE_MS, log);
    const bytes = readRegularFile(file, CACHE_LIMIT);
    if (!bytes) {
      log?.(`${name}: no cache to reuse (${existsSync(file) ? 'unreadable, or not a regular file of at most 1 GB' : 'ENOENT'})`);
      return afresh();
    }
    try {
      const parts = split(bytes);
      const index = parts && (v8.deserialize(parts.index) as Partial<StoredIndex>);
      if (!parts || !PreviousIndex.valid(index)) {
        log?.(`${name}: discarded the whole cache: its file is damaged or in another format`);
        return afresh();
      }
      if (index.fingerprint !== fingerprint) {
        log?.(`${name}: discarded the whole cache: Almanac's code or its dependencies changed since it was written`);
        return afresh();
      }
      // Shared only when there are stamps to check: a cache of pure results has none.
      // The index is copied: the file's buffer is not handed to another thread whole.
      const shared = stamps && index.keys.length > 0 ? stamps.share(new Uint8Array(parts.index), index.keys.length) : undefined;
      const stored = v8.deserialize(parts.values) as Partial<StoredValues>;
      if (!Array.isArray(stored.values) || stored.values.length !== index.keys.length || !(stored.remembered instanceof Map)) {
        log?.(`${name}: discarded the whole cache: its values do not match its index`);
        return afresh();
      }
      const previous = new PreviousIndex(index, shared);
      // From the last entry back, to meet the other thread coming from the first.
      if (shared) previous.checkUntilMet(previous.size - 1, -1);
      return afresh(previous, stored.values, stored.remembered);
    } catch (err) {
      log?.(`${name}: discarded the whole cache: it could not be read (${err instanceof Error ? err.message : String(err)})`);
      return afresh();
    }
  }

  /**
   * The value kept for `key` while none of the files and folders it was read from has changed since
   * (a folder changes when an entry is added, removed or renamed in it); undefined otherwise.
   */
  reuse<T>(key: string): T | undefined {
    if (!this.file) return undefined;
    const i = this.previous.position(key);
    if (i === undefined) {
      this.missed.add(key);
      return undefined;
    }
    if (!this.previous.isUnchanged(i)) {
      this.missed.add(key);
      if (this.log) this.log(`discarded ${key}: ${changedInput(this.previous.stamp(i), this.previous.files(i)) ?? 'an input'} changed since it was cached`);
      return undefined;
    }
    if (this.reused[i] === 0) {
      this.reused[i] = 1;
      this.reusedCount++;
    }
    return this.previousValues[i] as T;
  }

  /**
   * Keeps `value` (never undefined) for `key`, as read from `inputs` (absolute paths of files and
   * folders; by default the file named by the key).
   */
  keep(key: string, value: NonNullable<unknown>, inputs: readonly string[] = [key]): void {
    if (!this.file) return;
    // Stamped after reading: a file changed in between is recent, and recent files are not kept.
    const stamped = stampOf(inputs);
    if (!stamped) {
      this.log?.(`not kept ${key}: an input could not be examined`);
      return;
    }
    if (this.startedAt - stamped.newest <= this.settleMs) {
      this.log?.(`not kept ${key}: modified within ${this.settleMs} ms of the build's start, it may change again within the same clock tick`);
      return;
    }
    const single = inputs.length === 1 && inputs[0] === key;
    this.kept.set(key, single ? { stamp: stamped.stamp, value } : { stamp: stamped.stamp, value, inputs });
    this.changed = true;
  }

  /**
   * The value for each item: reused while unchanged (see `reuse`), otherwise read and kept. The reader
   * is asked for only when an item is missing: parsing modules are slow to load, and a rebuild from
   * the cache needs none. Values read are kept once `complete` resolves.
   */
  async reuseOrRead<I, V extends NonNullable<unknown>>(
    items: readonly I[],
    keyOf: (item: I) => string,
    reader: () => Promise<(item: I) => { value: V; inputs: readonly string[] }>,
    complete?: () => Promise<void>,
  ): Promise<V[]> {
    const values = items.map((item) => this.reuse<V>(keyOf(item)));
    if (!values.includes(undefined)) return values as V[];
    const read = await reader();
    const fresh: { key: string; value: V; inputs: readonly string[] }[] = [];
    items.forEach((item, i) => {
      if (values[i] !== undefined) return;
      const { value, inputs } = read(item);
      values[i] = value;
      fresh.push({ key: keyOf(item), value, inputs });
    });
    // What reading started elsewhere (Markdown rendered on another thread, say) is part of the value:
    // it is kept complete or not at all.
    await complete?.();
    for (const { key, value, inputs } of fresh) this.keep(key, value, inputs);
    return values as V[];
  }

  /**
   * The value `compute` gives for `input` (never undefined), of which it is a pure function of kind
   * `kind`; from the cache when known.
   */
  remember<T extends NonNullable<unknown>>(kind: string, input: string, compute: () => T): T {
    if (!this.file) return compute();
    const used = this.resultsOf(kind);
    let value = used.get(input) as T | undefined;
    if (value !== undefined) return value;
    value = this.previousResults.get(kind)?.get(input) as T | undefined;
    if (value === undefined) {
      value = compute();
      this.changed = true;
    }
    used.set(input, value);
    return value;
  }

  /** Adds a result of kind `kind` for `input` computed elsewhere (on another thread). */
  learn(kind: string, input: string, value: NonNullable<unknown>): void {
    if (!this.file) return;
    this.resultsOf(kind).set(input, value);
    this.changed = true;
  }

  /**
   * Whether this run found a cache file and reused an entry of it for every key it asked for: none was
   * read afresh. A cache deleted (to start clean, say) or damaged has every file read again.
   */
  readNothingAfresh(): boolean {
    return this.file !== undefined && this.previous.size > 0 && this.missed.size === 0 && this.kept.size === 0;
  }

  /**
   * Whether any entry whose key starts with `prefix` was read afresh (not reused) in this run, kept or
   * not: a file edited within the settle window is read afresh but not kept, and what was derived from
   * the old entry no longer fits it either.
   */
  readAfresh(prefix: string): boolean {
    for (const key of this.kept.keys()) if (key.startsWith(prefix)) return true;
    for (const key of this.missed) if (key.startsWith(prefix)) return true;
    return false;
  }

  private resultsOf(kind: string): Map<string, unknown> {
    let results = this.usedResults.get(kind);
    if (!results) this.usedResults.set(kind, (results = new Map()));
    return results;
  }

  /** The entries this run reused or kept, each once. */
  private entriesUsed(): (Entry & { key: string })[] {
    const entries: (Entry & { key: string })[] = [];
    for (let i = 0; i < this.previous.size; i++) {
      const key = this.previous.key(i);
      if (this.reused[i] === 0 || this.kept.has(key)) continue;
      entries.push({ key, stamp: this.previous.stamp(i), value: this.previousValues[i], inputs: this.previous.inputs(i) });
    }
    for (const [key, entry] of this.kept) entries.push({ key, ...entry });
    return entries;
  }

  /**
   * A digest of the code and of every file this run's values came from, as stamped: equal digests mean
   * the same inputs. Undefined for a disabled cache, and when a value was read afresh and not kept (a
   * file changed moments ago, whose next change its stamp may not show).
   */
  inputsDigest(): string | undefined {
    if (!this.file) return undefined;
    for (const key of this.missed) if (!this.kept.has(key)) return undefined;
    // A run that reused every entry and read none afresh has the previous index's entries.
    const previous = this.kept.size === 0 && this.reusedCount === this.previous.size ? this.previous.digestInKeyOrder() : undefined;
    return previous ?? indexDigest(storedForm(this.fingerprint, this.entriesUsed(), new Map()).index);
  }

  /** Writes the entries used by this run (files that are gone drop out), if anything changed. */
  save(): void {
    if (!this.file) return;
    if (!this.changed && this.reusedCount === this.previous.size && count(this.usedResults) === count(this.previousResults)) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      removeLeftovers(this.file);
      const { index, values } = storedForm(this.fingerprint, this.entriesUsed(), this.usedResults);
      writeFileAtomically(this.file, encode(index, values));
    } catch {
      // A cache that cannot be written (read-only checkout, full disk) costs speed, not correctness.
    }
  }
}

/** Temporary files of builds that were killed while saving: those whose process is gone. */
function removeLeftovers(file: string): void {
  const prefix = `${path.basename(file)}.tmp-`;
  for (const name of readdirSync(path.dirname(file))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid !== process.pid && processRunning(pid)) continue;
    rmSync(path.join(path.dirname(file), name), { force: true });
  }
}

function count(results: Remembered): number {
  let n = 0;
  for (const kind of results.values()) n += kind.size;
  return n;
}

let fingerprint: string | undefined;

/**
 * Changes whenever the code that derives the values may have: Almanac's own files (the bundle in lib/
 * or the sources in src/, whichever is running), the installed dependencies and Node itself.
 */
export function codeFingerprint(): string {
  fingerprint ??= fingerprintOf(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
  return fingerprint;
}

/**
 * The fingerprint of the code in `codeDir`: by the newest change of any of its files and of the
 * installed dependencies. Change times, not only modification times: a copy that keeps the times
 * (`cp -p`, `rsync -t`, an unpacked archive, npm's own fixed dates) still changes those.
 */
export function fingerprintOf(codeDir: string): string {
  const newest = (stats: Stats) => Math.max(stats.mtimeMs, stats.ctimeMs);
  let code = 0;
  for (const entry of walkTree(codeDir)) {
    if (!entry.isDirectory) code = Math.max(code, newest(statSync(path.join(codeDir, entry.rel))));
  }
  let installed = 0;
  try {
    installed = newest(statSync(path.join(codeDir, '../node_modules/.package-lock.json')));
  } catch {
    // Not an npm install (a bundle copied elsewhere): the code's own times decide.
  }
  return `${codeDir}:${code}:${installed}:${process.version}`;
}
