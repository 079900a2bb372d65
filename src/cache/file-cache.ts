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
// A cache file is two parts: an index (the code's fingerprint, every entry's key, inputs and stamps)
// and the values. Checking the stamps is a stat per input, one per content file and folder: another
// thread can do that from the index while this one deserialises the values (see StampChecker). Both
// threads check entries until they meet, one from each end.
//
// Why an entry or a whole cache file was discarded goes to the debug log (ALMANAC_DEBUG=cache).
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { walkTree } from '../files/walk.ts';
import { debugLog, type DebugLog } from '../log/debug.ts';

export const CACHE_DIR = '.almanac/cache';

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

/** Four numbers per file: size, modification and change times, inode; a missing file is -1, 0, 0, 0. */
type Stamp = ArrayLike<number>;

interface Entry {
  stamp: Stamp;
  value: unknown;
  /** The files the value was read from, when not just the file named by the key. */
  inputs?: readonly string[];
}

/**
 * What identifies the entries, stored ahead of their values: an array per field rather than an object
 * per entry (a rebuild reads one entry per content file, and deserialising is paid per object).
 */
interface StoredIndex {
  fingerprint: string;
  keys: string[];
  /** Each entry's inputs when not just the file its key names: one path, or several. */
  inputs: (string | string[] | null)[];
  /** The stamps of every entry's inputs, one entry after another. */
  stamps: Float64Array;
}

/** Pure results by kind, then by their input: kept apart so that a long input is not copied into a key. */
type Remembered = Map<string, Map<string, unknown>>;

interface StoredValues {
  /** One per key of the index, in its order. */
  values: unknown[];
  remembered: Remembered;
}

/** What an entry's stamp check found: not yet checked, unchanged, changed. */
const UNCHECKED = 0;
const UNCHANGED = 1;
const CHANGED = 2;

/**
 * The entries a cache file held: their index, and what checking their stamps found, one slot per
 * entry. The slots may be shared with another thread that checks from the first entry on (see
 * checkFromFirst); this one checks from the last entry back, and each takes what the other found.
 */
class PreviousIndex {
  private readonly positions = new Map<string, number>();
  /** Where each entry's stamp starts in `stamps` (and the last one ends). */
  private readonly starts: Uint32Array;

  constructor(
    private readonly stored: StoredIndex,
    readonly checks: Int32Array<ArrayBufferLike> = new Int32Array(stored.keys.length),
  ) {
    const { keys, inputs } = stored;
    this.starts = new Uint32Array(keys.length + 1);
    for (let i = 0; i < keys.length; i++) {
      this.positions.set(keys[i]!, i);
      const more = inputs[i];
      this.starts[i + 1] = this.starts[i]! + 4 * (Array.isArray(more) ? more.length : 1);
    }
  }

  key(i: number): string {
    return this.stored.keys[i]!;
  }

  static empty(): PreviousIndex {
    return new PreviousIndex({ fingerprint: '', keys: [], inputs: [], stamps: new Float64Array(0) });
  }

  /** Whether `stored` has the shape of an index (a cache written by other code is not trusted). */
  static valid(stored: Partial<StoredIndex> | undefined): stored is StoredIndex {
    if (!stored || typeof stored.fingerprint !== 'string' || !Array.isArray(stored.keys) || !Array.isArray(stored.inputs)) return false;
    return stored.stamps instanceof Float64Array && stored.inputs.length === stored.keys.length;
  }

  get size(): number {
    return this.stored.keys.length;
  }

  position(key: string): number | undefined {
    return this.positions.get(key);
  }

  stamp(i: number): Stamp {
    return this.stored.stamps.subarray(this.starts[i], this.starts[i + 1]);
  }

  inputs(i: number): readonly string[] | undefined {
    const more = this.stored.inputs[i];
    return more === null || more === undefined ? undefined : typeof more === 'string' ? [more] : more;
  }

  /** The inputs of entry `i`: the file its key names unless it lists its own. */
  files(i: number): readonly string[] {
    return this.inputs(i) ?? [this.stored.keys[i]!];
  }

  /** Whether entry `i`'s inputs are as stamped, checked now unless another thread has. */
  isUnchanged(i: number): boolean {
    const found = Atomics.load(this.checks, i);
    if (found !== UNCHECKED) return found === UNCHANGED;
    return this.check(i) === UNCHANGED;
  }

  /** Checks entries from `from` in direction `step` until one is found checked already (by the other thread). */
  checkUntilMet(from: number, step: 1 | -1): void {
    for (let i = from; i >= 0 && i < this.size; i += step) {
      if (Atomics.load(this.checks, i) !== UNCHECKED) return;
      this.check(i);
    }
  }

  private check(i: number): number {
    const found = changedInput(this.stamp(i), this.files(i)) === undefined ? UNCHANGED : CHANGED;
    Atomics.store(this.checks, i, found);
    return found;
  }
}

/** The index and values of a cache, as a cache file holds them. */
function storedForm(fingerprint: string, entries: readonly (Entry & { key: string })[], remembered: Remembered): { index: StoredIndex; values: StoredValues } {
  const index: StoredIndex = { fingerprint, keys: [], inputs: [], stamps: new Float64Array(0) };
  const values: StoredValues = { values: [], remembered };
  let numbers = 0;
  for (const entry of entries) numbers += entry.stamp.length;
  index.stamps = new Float64Array(numbers);
  let at = 0;
  for (const { key, stamp, value, inputs } of entries) {
    index.keys.push(key);
    values.values.push(value);
    index.inputs.push(inputs === undefined ? null : inputs.length === 1 ? inputs[0]! : [...inputs]);
    index.stamps.set(stamp, at);
    at += stamp.length;
  }
  return { index, values };
}

/** A cache file: the index's length (4 bytes, little-endian), the index, the values. */
function encode(index: StoredIndex, values: StoredValues): Buffer {
  const head = v8.serialize(index);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(head.length);
  return Buffer.concat([length, head, v8.serialize(values)]);
}

/** The two parts of a cache file; undefined when it has not that shape. */
function split(file: Buffer): { index: Uint8Array; values: Uint8Array } | undefined {
  if (file.length < 4) return undefined;
  const end = 4 + file.readUInt32LE(0);
  if (end > file.length) return undefined;
  return { index: file.subarray(4, end), values: file.subarray(end) };
}

/**
 * Checks the stamps of a cache's entries alongside the cache's own thread. Given the index as stored
 * and its number of entries, it starts checking from the first entry on (with checkFromFirst,
 * elsewhere) and returns the slots it records its findings in, one per entry, readable from this
 * thread while it works; the cache checks from the last entry back until they meet.
 */
export interface StampChecker {
  share(index: Uint8Array, entries: number): Int32Array;
}

/**
 * The other side of a StampChecker: checks entries from the first one on, until it meets those the
 * cache's own thread checked from the last one back. An index it cannot read is left to the cache.
 */
export function checkFromFirst(index: Uint8Array, checks: Int32Array): void {
  let stored: Partial<StoredIndex>;
  try {
    stored = v8.deserialize(index) as Partial<StoredIndex>;
  } catch {
    return; // unreadable: the cache's own thread finds every entry unchecked and checks them all
  }
  if (!PreviousIndex.valid(stored) || checks.length !== stored.keys.length) return;
  new PreviousIndex(stored, checks).checkUntilMet(0, 1);
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
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      log?.(`${name}: no cache to reuse (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
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

  /** Writes the entries used by this run (files that are gone drop out), if anything changed. */
  save(): void {
    if (!this.file) return;
    if (!this.changed && this.reusedCount === this.previous.size && count(this.usedResults) === count(this.previousResults)) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.tmp-${process.pid}`;
      const { index, values } = storedForm(this.fingerprint, this.entriesUsed(), this.usedResults);
      writeFileSync(temporary, encode(index, values));
      renameSync(temporary, this.file);
    } catch {
      // A cache that cannot be written (read-only checkout, full disk) costs speed, not correctness.
    }
  }
}

function count(results: Remembered): number {
  let n = 0;
  for (const kind of results.values()) n += kind.size;
  return n;
}

/**
 * Identifies the current contents of `files` by size, times and inode; a missing file counts as such.
 * Undefined when one cannot be examined (permissions): then nothing is cached.
 */
function stampOf(files: readonly string[]): { stamp: number[]; newest: number } | undefined {
  const stamp: number[] = [];
  let newest = 0;
  for (const file of files) {
    let stats: Stats | undefined;
    try {
      stats = statSync(file, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!stats) {
      stamp.push(-1, 0, 0, 0);
      continue;
    }
    stamp.push(stats.size, stats.mtimeMs, stats.ctimeMs, stats.ino);
    newest = Math.max(newest, stats.mtimeMs, stats.ctimeMs);
  }
  return { stamp, newest };
}

/**
 * The first of `files` that is not as `stamp` recorded it, or undefined when all are (compared as
 * numbers: a build checks thousands).
 */
function changedInput(stamp: Stamp, files: readonly string[]): string | undefined {
  if (stamp.length !== files.length * 4) return files[0] ?? '(no input)';
  for (let i = 0; i < files.length; i++) {
    let stats: Stats | undefined;
    try {
      stats = statSync(files[i]!, { throwIfNoEntry: false });
    } catch {
      return files[i];
    }
    const at = i * 4;
    if (!stats) {
      if (stamp[at] !== -1) return files[i];
    } else if (stamp[at] !== stats.size || stamp[at + 1] !== stats.mtimeMs || stamp[at + 2] !== stats.ctimeMs || stamp[at + 3] !== stats.ino) {
      return files[i];
    }
  }
  return undefined;
}

let fingerprint: string | undefined;

/**
 * Changes whenever the code that derives the values may have: Almanac's own files (the bundle in lib/
 * or the sources in src/, whichever is running) and the installed dependencies.
 */
function codeFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const codeDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  let newest = 0;
  for (const entry of walkTree(codeDir)) {
    if (!entry.isDirectory) newest = Math.max(newest, statSync(path.join(codeDir, entry.rel)).mtimeMs);
  }
  let installed = 0;
  try {
    installed = statSync(path.join(codeDir, '../node_modules/.package-lock.json')).mtimeMs;
  } catch {
    // Not an npm install (a bundle copied elsewhere): the code's own times decide.
  }
  return (fingerprint = `${codeDir}:${newest}:${installed}`);
}
