// A cache file as stored: an index (the code's fingerprint, every entry's key, inputs and stamps)
// ahead of the values, so that another thread can check the stamps from the index while the cache's
// own thread deserialises the values; each checks from one end until they meet.
import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import { crc32 } from 'node:zlib';
import { changedInput, type Stamp } from './stamps.ts';

/**
 * What identifies the entries, stored ahead of their values: an array per field rather than an object
 * per entry (a rebuild reads one entry per content file, and deserialising is paid per object).
 */
export interface StoredIndex {
  fingerprint: string;
  keys: string[];
  /** Each entry's inputs when not just the file its key names: one path, or several. */
  inputs: (string | string[] | null)[];
  /** The stamps of every entry's inputs, one entry after another. */
  stamps: Float64Array;
}

/** Pure results by kind, then by their input: kept apart so that a long input is not copied into a key. */
export type Remembered = Map<string, Map<string, unknown>>;

export interface StoredValues {
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
export class PreviousIndex {
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

  /** The index's digest (see indexDigest) when its entries are in key order, as `storedForm` puts them; otherwise undefined. */
  digestInKeyOrder(): string | undefined {
    const { keys } = this.stored;
    for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return undefined;
    return indexDigest(this.stored);
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

/** One entry as the cache holds it: its key, the stamp of its inputs, its value. */
export interface StoredEntry {
  key: string;
  stamp: Stamp;
  value: unknown;
  /** The files the value was read from, when not just the file named by the key. */
  inputs?: readonly string[];
}

/**
 * The index and values of a cache, as a cache file holds them: the entries in key order, so that the
 * same entries always make the same index (see indexDigest).
 */
export function storedForm(fingerprint: string, entries: readonly StoredEntry[], remembered: Remembered): { index: StoredIndex; values: StoredValues } {
  const index: StoredIndex = { fingerprint, keys: [], inputs: [], stamps: new Float64Array(0) };
  const values: StoredValues = { values: [], remembered };
  let numbers = 0;
  for (const entry of entries) numbers += entry.stamp.length;
  index.stamps = new Float64Array(numbers);
  let at = 0;
  for (const { key, stamp, value, inputs } of [...entries].sort(byKey)) {
    index.keys.push(key);
    values.values.push(value);
    index.inputs.push(inputs === undefined ? null : inputs.length === 1 ? inputs[0]! : [...inputs]);
    index.stamps.set(stamp, at);
    at += stamp.length;
  }
  return { index, values };
}

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * A digest of what an index identifies its entries by (the code's fingerprint, and each entry's key,
 * inputs and their stamps): equal digests, the same entries read from the same inputs.
 */
export function indexDigest(index: StoredIndex): string {
  const { stamps } = index;
  return createHash('sha256')
    .update(`${index.fingerprint}\0${index.keys.length}\0${index.keys.join('\0')}\0`)
    .update(JSON.stringify(index.inputs))
    .update(new Uint8Array(stamps.buffer, stamps.byteOffset, stamps.byteLength))
    .digest('hex');
}

/**
 * A cache file: the index's length and the CRC-32 of everything after them (4 bytes each,
 * little-endian), the index, the values. The checksum tells a file damaged on disk (a flipped bit in
 * a stored page body deserialises without complaint) from one as written.
 */
export function encode(index: StoredIndex, values: StoredValues): Buffer {
  const head = v8.serialize(index);
  const body = v8.serialize(values);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(head.length, 0);
  header.writeUInt32LE(crc32(body, crc32(head)), 4);
  return Buffer.concat([header, head, body]);
}

/** The two parts of a cache file; undefined when it has not that shape, or is not as written. */
export function split(file: Buffer): { index: Uint8Array; values: Uint8Array } | undefined {
  if (file.length < 8) return undefined;
  const end = 8 + file.readUInt32LE(0);
  if (end > file.length || crc32(file.subarray(8)) !== file.readUInt32LE(4)) return undefined;
  return { index: file.subarray(8, end), values: file.subarray(end) };
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
