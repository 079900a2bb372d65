// At most `max` requests per key in a sliding window, in fixed memory whatever the number of keys:
// a count-min sketch (`depth` rows of `width` counters) for the current window and one for the
// previous, the previous weighted by how much of it still overlaps the sliding window. A sketch can
// only over-count, so a key over its limit always stays limited; innocent keys are limited early only
// when a flood fills the table, and then only until the window rotates. Hashes are seeded per process,
// so nobody can choose keys that collide with someone else's.
import { randomBytes } from 'node:crypto';

export interface RateLimiterOptions {
  /** Counters per row; memory is 2 × depth × width × 4 bytes. */
  width?: number;
  depth?: number;
  seed?: number;
}

export class RateLimiter {
  private readonly width: number;
  private readonly depth: number;
  private readonly seed: number;
  private current: Uint32Array;
  private previous: Uint32Array;
  private window = -Infinity;
  private readonly slots: Uint32Array;

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    options: RateLimiterOptions = {},
  ) {
    this.width = options.width ?? 1 << 16;
    this.depth = options.depth ?? 4;
    this.seed = options.seed ?? randomBytes(4).readUInt32LE();
    this.current = new Uint32Array(this.width * this.depth);
    this.previous = new Uint32Array(this.width * this.depth);
    this.slots = new Uint32Array(this.depth);
  }

  /** Bytes held by the counters: the same for ten keys or ten million. */
  get bytes(): number {
    return this.current.byteLength + this.previous.byteLength;
  }

  /** Records a request; returns 0 if allowed, else how many ms until one would be. */
  take(key: string, now: number): number {
    this.rotate(now);
    const start = this.window * this.windowMs;
    const overlap = 1 - (now - start) / this.windowMs;
    this.locate(key);
    let estimate = Infinity;
    let least = Infinity;
    for (let row = 0; row < this.depth; row++) {
      const i = this.slots[row]!;
      estimate = Math.min(estimate, this.current[i]! + this.previous[i]! * overlap);
      least = Math.min(least, this.current[i]!);
    }
    if (estimate >= this.max) return Math.max(1, start + this.windowMs - now);
    // Conservative update: raise only the rows at the minimum, which keeps over-counting low.
    for (let row = 0; row < this.depth; row++) {
      const i = this.slots[row]!;
      if (this.current[i] === least) this.current[i] = least + 1;
    }
    return 0;
  }

  private rotate(now: number): void {
    const window = Math.floor(now / this.windowMs);
    if (window === this.window) return;
    if (window === this.window + 1) {
      const old = this.previous;
      this.previous = this.current;
      this.current = old;
      this.current.fill(0);
    } else if (window !== this.window) {
      // A jump of more than one window (or a clock that went back): nothing recent is known.
      this.previous.fill(0);
      this.current.fill(0);
    }
    this.window = window;
  }

  /** One counter index per row, from two seeded FNV-1a hashes (h1 + row × h2). */
  private locate(key: string): void {
    let h1 = (0x811c9dc5 ^ this.seed) >>> 0;
    let h2 = (0x01000193 ^ Math.imul(this.seed, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h1 = mix(h1);
    h2 = mix(h2) | 1;
    for (let row = 0; row < this.depth; row++) {
      this.slots[row] = row * this.width + ((h1 + Math.imul(row, h2)) >>> 0) % this.width;
    }
  }
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
