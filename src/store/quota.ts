// The provider's sending quota (`sending.limits`), shared by every process that sends through the
// same store: issue sends, confirmation mails and test copies. Each message is counted in small
// time buckets (one row per bucket size and start), and a limit over a window W is checked against
// every bucket that overlaps the last W, the partly covered oldest one included. So the count errs
// on the high side: no window of W, wherever it starts, ever holds more than the limit. Checking and
// counting happen inside the caller's IMMEDIATE transaction (the claim of the message), so two
// senders can never both take the last unit of a quota.
//
// The time is the real time of each host; hosts that share a store should keep their clocks in
// step (NTP) for the windows to mean the same to all of them.
import type { Db } from './database.ts';

export interface SendLimits {
  perSecond?: number;
  perMinute?: number;
  perHour?: number;
  perDay?: number;
}

/** Each limit's window and the bucket it is counted in: about a tenth or less of the window. */
const WINDOWS: readonly { limit: keyof SendLimits; windowMs: number; bucketMs: number }[] = [
  { limit: 'perSecond', windowMs: 1000, bucketMs: 100 },
  { limit: 'perMinute', windowMs: 60_000, bucketMs: 1000 },
  { limit: 'perHour', windowMs: 3600_000, bucketMs: 60_000 },
  { limit: 'perDay', windowMs: 86_400_000, bucketMs: 3600_000 },
];

/** Buckets older than this are no longer read by any window. */
const KEEP_MS = 86_400_000 + 3600_000;

/** Where the bucket counts live: a table, or memory in tests. */
export interface BucketStore {
  /** Counts of buckets of this size starting at or after `from`, oldest first. */
  since(bucketMs: number, from: number): { start: number; n: number }[];
  add(bucketMs: number, start: number): void;
  prune(before: number): void;
}

/** Checks and counts messages against the limits; call both inside one transaction. */
export interface Quota {
  /** When a message may go, if a limit is reached now; undefined when one may go now. */
  blockedUntil(): number | undefined;
  /** Counts one message sent now. */
  record(): void;
}

export function hasLimits(limits: SendLimits): boolean {
  return WINDOWS.some((w) => (limits[w.limit] ?? 0) > 0);
}

/** `clock` is the real time, never a time fixed by --now. */
export function quota(limits: SendLimits, store: BucketStore, clock: () => number): Quota {
  const windows = WINDOWS.filter((w) => (limits[w.limit] ?? 0) > 0);
  let lastPrune = -Infinity;
  return {
    blockedUntil() {
      const now = clock();
      let until: number | undefined;
      for (const w of windows) {
        const limit = limits[w.limit]!;
        const first = Math.floor((now - w.windowMs) / w.bucketMs) * w.bucketMs;
        const buckets = store.since(w.bucketMs, first);
        let count = buckets.reduce((n, b) => n + b.n, 0);
        if (count < limit) continue;
        // The oldest buckets leave the window one by one: a message may go once enough have left.
        let at = now;
        for (const b of buckets) {
          count -= b.n;
          at = b.start + w.windowMs + w.bucketMs;
          if (count < limit) break;
        }
        until = Math.max(until ?? 0, at);
      }
      return until;
    },
    record() {
      const now = clock();
      for (const w of windows) store.add(w.bucketMs, Math.floor(now / w.bucketMs) * w.bucketMs);
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        store.prune(now - KEEP_MS);
      }
    },
  };
}

/** The bucket counts in the database (table send_quota), read and written in the caller's transaction. */
export function sqliteBuckets(db: Db): BucketStore {
  const since = db.prepare<[number, number], { start: number; n: number }>('SELECT start, n FROM send_quota WHERE bucket_ms = ? AND start >= ? ORDER BY start');
  const add = db.prepare('INSERT INTO send_quota (bucket_ms, start, n) VALUES (?, ?, 1) ON CONFLICT (bucket_ms, start) DO UPDATE SET n = n + 1');
  const prune = db.prepare('DELETE FROM send_quota WHERE start < ?');
  return {
    since: (bucketMs, from) => since.all(bucketMs, from),
    add: (bucketMs, start) => void add.run(bucketMs, start),
    prune: (before) => void prune.run(before),
  };
}

/** The quota of the store's database, or undefined when no limit is set. `clock` is the real time. */
export function sqliteQuota(db: Db, limits: SendLimits, clock: () => number): Quota | undefined {
  return hasLimits(limits) ? quota(limits, sqliteBuckets(db), clock) : undefined;
}

/** Bucket counts in memory: one process's own quota (tests). */
export function memoryBuckets(): BucketStore {
  const rows = new Map<string, { bucketMs: number; start: number; n: number }>();
  return {
    since: (bucketMs, from) =>
      [...rows.values()]
        .filter((r) => r.bucketMs === bucketMs && r.start >= from)
        .sort((a, b) => a.start - b.start)
        .map(({ start, n }) => ({ start, n })),
    add(bucketMs, start) {
      const key = `${bucketMs}:${start}`;
      const row = rows.get(key) ?? { bucketMs, start, n: 0 };
      row.n++;
      rows.set(key, row);
    },
    prune(before) {
      for (const [key, r] of rows) if (r.start < before) rows.delete(key);
    },
  };
}

/**
 * Takes one unit of the quota for a message that is not part of an issue's run (a confirmation
 * mail, a test copy), in its own IMMEDIATE transaction; returns until when it must wait instead.
 */
export function takeQuota(db: Db, limits: SendLimits, now: number): number | undefined {
  if (!hasLimits(limits)) return undefined;
  const q = quota(limits, sqliteBuckets(db), () => now);
  return db
    .transaction(() => {
      const until = q.blockedUntil();
      if (until === undefined) q.record();
      return until;
    })
    .immediate();
}
