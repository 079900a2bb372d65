// What news intake keeps between runs: each source's validators for conditional requests, and the
// stories it wrote (by normalised URL), with the file and the time each arrived.
import type { Db } from './database.ts';

export interface FeedValidators {
  etag?: string;
  lastModified?: string;
}

export interface Arrival {
  story: string;
  file: string;
  source: string;
  arrivedAt: number;
}

type ArrivalRow = { story: string; file: string; source: string; arrived_at: number };

export class IntakeStore {
  // Prepared once: a run asks about every entry of every feed.
  private readonly selectValidators;
  private readonly selectArrival;

  constructor(private readonly db: Db) {
    this.selectValidators = db.prepare<[string], { url: string; etag: string | null; last_modified: string | null }>('SELECT url, etag, last_modified FROM feed_state WHERE source = ?');
    this.selectArrival = db.prepare<[string], ArrivalRow>('SELECT story, file, source, arrived_at FROM news_arrivals WHERE story = ?');
  }

  /** The validators last given for `source`, if it was read from the same URL. */
  validators(source: string, url: string): FeedValidators {
    const row = this.selectValidators.get(source);
    if (!row || row.url !== url) return {};
    return { etag: row.etag ?? undefined, lastModified: row.last_modified ?? undefined };
  }

  saveValidators(source: string, url: string, v: FeedValidators, at: number): void {
    this.db
      .prepare(
        `INSERT INTO feed_state (source, url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (source) DO UPDATE SET url = excluded.url, etag = excluded.etag, last_modified = excluded.last_modified, checked_at = excluded.checked_at`,
      )
      .run(source, url, v.etag ?? null, v.lastModified ?? null, at);
  }

  /** The file a story was written to, if intake ever wrote it. */
  arrival(story: string): Arrival | undefined {
    const row = this.selectArrival.get(story);
    return row && { story: row.story, file: row.file, source: row.source, arrivedAt: row.arrived_at };
  }

  recordArrivals(arrivals: readonly Arrival[]): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO news_arrivals (story, file, source, arrived_at) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const a of arrivals) insert.run(a.story, a.file, a.source, a.arrivedAt);
    })();
  }

  /** Files written by intake at or after `since`, newest first. */
  arrivedSince(since: number): Arrival[] {
    return this.db
      .prepare<[number], ArrivalRow>('SELECT story, file, source, arrived_at FROM news_arrivals WHERE arrived_at >= ? ORDER BY arrived_at DESC, file')
      .all(since)
      .map((r) => ({ story: r.story, file: r.file, source: r.source, arrivedAt: r.arrived_at }));
  }
}
