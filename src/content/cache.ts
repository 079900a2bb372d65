// What a build derived from each content file, kept between builds in .almanac/cache/ so that a
// rebuild parses and renders only the files that changed (the approach of Astro's data store and of
// git's index). A file is recognised as unchanged by its size, modification and change times and
// inode — the change time cannot be set by hand, so a hand edit is always seen. Entries are
// invalidated as a whole when Almanac's code, its dependencies or the settings they depend on change.
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

interface Entry {
  stamp: string;
  value: unknown;
  /** The files the value was read from, when not just the file named by the key. */
  inputs?: string[];
}

interface Stored {
  fingerprint: string;
  entries: Map<string, Entry>;
}

export class FileCache {
  private readonly used = new Map<string, Entry>();
  private changed = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly fingerprint: string,
    private readonly previous: Map<string, Entry>,
    private readonly startedAt: number,
  ) {}

  /** A cache that keeps nothing: every value is computed. */
  static disabled(): FileCache {
    return new FileCache(undefined, '', new Map(), Date.now());
  }

  /** The cache `name` under `<root>/.almanac/cache/`, valid for this code and these `settings`. */
  static open(root: string, name: string, settings: string): FileCache {
    const file = path.join(root, CACHE_DIR, `${name}.bin`);
    const fingerprint = `${codeFingerprint()}|${settings}`;
    let previous = new Map<string, Entry>();
    try {
      const stored = v8.deserialize(readFileSync(file)) as Stored;
      if (stored.fingerprint === fingerprint && stored.entries instanceof Map) previous = stored.entries;
    } catch {
      // No cache yet, or one this version cannot read: start afresh.
    }
    return new FileCache(file, fingerprint, previous, Date.now());
  }

  /**
   * The value derived from the file at `absolute` by `compute`, from the cache when the file has not
   * changed since. `compute` reads the file itself (and reports a missing one as it sees fit).
   */
  derive<T>(absolute: string, compute: () => T): T {
    return this.deriveFrom(absolute, () => ({ value: compute(), inputs: [absolute] }));
  }

  /**
   * Like `derive`, for a value read from several files: `compute` also names every file and folder
   * it read (absolute paths), and the value is reused while none of them has changed. A folder
   * changes when an entry is added, removed or renamed in it.
   */
  deriveFrom<T>(key: string, compute: () => { value: T; inputs: readonly string[] }): T {
    if (!this.file) return compute().value;
    const hit = this.previous.get(key);
    if (hit && hit.stamp === stampOf(hit.inputs ?? [key])?.stamp) {
      this.used.set(key, hit);
      return hit.value as T;
    }
    const { value, inputs } = compute();
    // Stamped after reading: a file changed in between is recent, and recent files are not kept.
    const stamped = stampOf(inputs);
    if (stamped && this.startedAt - stamped.newest > SETTLE_MS) {
      const single = inputs.length === 1 && inputs[0] === key;
      this.used.set(key, single ? { stamp: stamped.stamp, value } : { stamp: stamped.stamp, value, inputs: [...inputs] });
      this.changed = true;
    }
    return value;
  }

  /** The value `compute` gives for `key`, of which it is a pure function; from the cache when known. */
  remember<T>(key: string, compute: () => T): T {
    if (!this.file) return compute();
    const hit = this.used.get(key) ?? this.previous.get(key);
    if (hit) {
      this.used.set(key, hit);
      return hit.value as T;
    }
    const value = compute();
    this.used.set(key, { stamp: '', value });
    this.changed = true;
    return value;
  }

  /** Writes the entries used by this run (files that are gone drop out), if anything changed. */
  save(): void {
    if (!this.file) return;
    if (!this.changed && this.used.size === this.previous.size) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.tmp-${process.pid}`;
      writeFileSync(temporary, v8.serialize({ fingerprint: this.fingerprint, entries: this.used } satisfies Stored));
      renameSync(temporary, this.file);
    } catch {
      // A cache that cannot be written (read-only checkout, full disk) costs speed, not correctness.
    }
  }
}

/**
 * Identifies the current contents of `files` by size, times and inode; a missing file counts as such.
 * Undefined when one cannot be examined (permissions): then nothing is cached.
 */
function stampOf(files: readonly string[]): { stamp: string; newest: number } | undefined {
  let stamp = '';
  let newest = 0;
  for (const file of files) {
    let stats: Stats | undefined;
    try {
      stats = statSync(file, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!stats) {
      stamp += '-|';
      continue;
    }
    stamp += `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.ino}|`;
    newest = Math.max(newest, stats.mtimeMs, stats.ctimeMs);
  }
  return { stamp, newest };
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
