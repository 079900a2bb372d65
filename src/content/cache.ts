// What a build derived from each content file, kept between builds in .almanac/cache/ so that a
// rebuild parses and renders only the files that changed (the approach of Astro's data store and of
// git's index). A file is recognised as unchanged by its size, modification and change times and
// inode — the change time cannot be set by hand, so a hand edit is always seen. Results that depend
// on a setting too carry it in their key (a news item's time zone). Entries are invalidated as a
// whole when Almanac's code or its dependencies change. Besides values derived from files, a cache
// keeps pure results by their input (rendered Markdown, compiled templates).
//
// The cache only ever saves work: a missing, stale or unreadable cache file means a full parse.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { walkTree } from './walk.ts';

export const CACHE_DIR = '.almanac/cache';

/** A file modified this recently may change again within the same clock tick: it is not kept. */
const SETTLE_MS = 2_000;

/** Four numbers per file: size, modification and change times, inode; a missing file is -1, 0, 0, 0. */
type Stamp = ArrayLike<number>;

interface Entry {
  stamp: Stamp;
  value: unknown;
  /** The files the value was read from, when not just the file named by the key. */
  inputs?: readonly string[];
}

/**
 * The entries as stored: an array per field rather than an object per entry. A rebuild reads some ten
 * thousand entries, and deserialising is paid per object (a third less time this way).
 */
interface StoredEntries {
  keys: string[];
  values: unknown[];
  /** Each entry's inputs when not just the file its key names: one path, or several. */
  inputs: (string | string[] | null)[];
  /** The stamps of every entry's inputs, one entry after another. */
  stamps: Float64Array;
}

/** Pure results by kind, then by their input: kept apart so that a long input is not copied into a key. */
type Remembered = Map<string, Map<string, unknown>>;

interface Stored {
  fingerprint: string;
  entries: StoredEntries;
  remembered: Remembered;
}

/** The entries a cache file held, looked up by key. */
class PreviousEntries {
  private readonly index = new Map<string, number>();
  /** Where each entry's stamp starts in `stamps` (and the last one ends). */
  private readonly starts: Uint32Array;

  constructor(private readonly stored: StoredEntries) {
    const { keys, inputs } = stored;
    this.starts = new Uint32Array(keys.length + 1);
    for (let i = 0; i < keys.length; i++) {
      this.index.set(keys[i]!, i);
      const more = inputs[i];
      this.starts[i + 1] = this.starts[i]! + 4 * (Array.isArray(more) ? more.length : 1);
    }
  }

  static empty(): PreviousEntries {
    return new PreviousEntries({ keys: [], values: [], inputs: [], stamps: new Float64Array(0) });
  }

  /** Whether `stored` has the shape of stored entries (a cache written by other code is not trusted). */
  static valid(stored: StoredEntries | undefined): boolean {
    if (!stored || !Array.isArray(stored.keys) || !Array.isArray(stored.values) || !Array.isArray(stored.inputs)) return false;
    return stored.stamps instanceof Float64Array && stored.values.length === stored.keys.length && stored.inputs.length === stored.keys.length;
  }

  get size(): number {
    return this.stored.keys.length;
  }

  get(key: string): Entry | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const more = this.stored.inputs[i];
    return {
      stamp: this.stored.stamps.subarray(this.starts[i], this.starts[i + 1]),
      value: this.stored.values[i],
      inputs: more === null || more === undefined ? undefined : typeof more === 'string' ? [more] : more,
    };
  }
}

/** Entries in their stored form (see StoredEntries). */
function storedForm(entries: ReadonlyMap<string, Entry>): StoredEntries {
  const stored: StoredEntries = { keys: [], values: [], inputs: [], stamps: new Float64Array(0) };
  let numbers = 0;
  for (const entry of entries.values()) numbers += entry.stamp.length;
  stored.stamps = new Float64Array(numbers);
  let at = 0;
  for (const [key, { stamp, value, inputs }] of entries) {
    stored.keys.push(key);
    stored.values.push(value);
    stored.inputs.push(inputs === undefined ? null : inputs.length === 1 ? inputs[0]! : [...inputs]);
    stored.stamps.set(stamp, at);
    at += stamp.length;
  }
  return stored;
}

export class FileCache {
  private readonly used = new Map<string, Entry>();
  private readonly usedResults: Remembered = new Map();
  private changed = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly fingerprint: string,
    private readonly previous: PreviousEntries,
    private readonly previousResults: Remembered,
    private readonly startedAt: number,
  ) {}

  /** A cache that keeps nothing: every value is computed. */
  static disabled(): FileCache {
    return new FileCache(undefined, '', PreviousEntries.empty(), new Map(), Date.now());
  }

  /** The cache `name` under `<root>/.almanac/cache/`, valid for this code. */
  static open(root: string, name: string): FileCache {
    const file = path.join(root, CACHE_DIR, `${name}.bin`);
    const fingerprint = codeFingerprint();
    let previous = PreviousEntries.empty();
    let remembered: Remembered = new Map();
    try {
      const stored = v8.deserialize(readFileSync(file)) as Partial<Stored>;
      if (stored.fingerprint === fingerprint && PreviousEntries.valid(stored.entries) && stored.remembered instanceof Map) {
        previous = new PreviousEntries(stored.entries!);
        remembered = stored.remembered;
      }
    } catch {
      // No cache yet, or one this version cannot read: start afresh.
    }
    return new FileCache(file, fingerprint, previous, remembered, Date.now());
  }

  /**
   * The value kept for `key` while none of the files and folders it was read from has changed since
   * (a folder changes when an entry is added, removed or renamed in it); undefined otherwise.
   */
  reuse<T>(key: string): T | undefined {
    if (!this.file) return undefined;
    const hit = this.previous.get(key);
    if (!hit || !unchanged(hit.stamp, hit.inputs ?? [key])) return undefined;
    this.used.set(key, hit);
    return hit.value as T;
  }

  /**
   * Keeps `value` (never undefined) for `key`, as read from `inputs` (absolute paths of files and
   * folders; by default the file named by the key).
   */
  keep(key: string, value: NonNullable<unknown>, inputs: readonly string[] = [key]): void {
    if (!this.file) return;
    // Stamped after reading: a file changed in between is recent, and recent files are not kept.
    const stamped = stampOf(inputs);
    if (!stamped || this.startedAt - stamped.newest <= SETTLE_MS) return;
    const single = inputs.length === 1 && inputs[0] === key;
    this.used.set(key, single ? { stamp: stamped.stamp, value } : { stamp: stamped.stamp, value, inputs });
    this.changed = true;
  }

  /**
   * The value for each item: reused while unchanged (see `reuse`), otherwise read and kept. The reader
   * is asked for only when an item is missing: parsing modules are slow to load, and a rebuild from
   * the cache needs none.
   */
  async reuseOrRead<I, V extends NonNullable<unknown>>(
    items: readonly I[],
    keyOf: (item: I) => string,
    reader: () => Promise<(item: I) => { value: V; inputs: readonly string[] }>,
  ): Promise<V[]> {
    const values = items.map((item) => this.reuse<V>(keyOf(item)));
    if (!values.includes(undefined)) return values as V[];
    const read = await reader();
    items.forEach((item, i) => {
      if (values[i] !== undefined) return;
      const { value, inputs } = read(item);
      values[i] = value;
      this.keep(keyOf(item), value, inputs);
    });
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

  /** Values handed out were completed in place (rendered Markdown added to them): save them too. */
  touch(): void {
    this.changed = true;
  }

  private resultsOf(kind: string): Map<string, unknown> {
    let results = this.usedResults.get(kind);
    if (!results) this.usedResults.set(kind, (results = new Map()));
    return results;
  }

  /** Writes the entries used by this run (files that are gone drop out), if anything changed. */
  save(): void {
    if (!this.file) return;
    if (!this.changed && this.used.size === this.previous.size && count(this.usedResults) === count(this.previousResults)) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.tmp-${process.pid}`;
      const stored: Stored = { fingerprint: this.fingerprint, entries: storedForm(this.used), remembered: this.usedResults };
      writeFileSync(temporary, v8.serialize(stored));
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

/** Whether `files` are as `stamp` recorded them (compared as numbers: a build checks thousands). */
function unchanged(stamp: Stamp, files: readonly string[]): boolean {
  if (stamp.length !== files.length * 4) return false;
  for (let i = 0; i < files.length; i++) {
    let stats: Stats | undefined;
    try {
      stats = statSync(files[i]!, { throwIfNoEntry: false });
    } catch {
      return false;
    }
    const at = i * 4;
    if (!stats) {
      if (stamp[at] !== -1) return false;
    } else if (stamp[at] !== stats.size || stamp[at + 1] !== stats.mtimeMs || stamp[at + 2] !== stats.ctimeMs || stamp[at + 3] !== stats.ino) {
      return false;
    }
  }
  return true;
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
