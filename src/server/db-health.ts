// What the server knows about its database without waiting on it. better-sqlite3 is synchronous, so
// a write that waits for another process's lock (an import, a send) stalls every request: the server's
// connection waits only briefly, and after one write found the database busy, further writes are
// refused at once for `coolMs` instead of each waiting again. /healthz reports the last state seen.
import type { Db } from '../store/database.ts';

export type DatabaseState = 'ok' | 'busy' | 'error';

/** SQLITE_BUSY and SQLITE_LOCKED, with their extended codes. */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

export class DatabaseHealth {
  private busyUntil = 0;
  private current: DatabaseState = 'ok';
  private detail = '';

  constructor(
    private readonly clock: () => number,
    private readonly coolMs = 1000,
  ) {}

  get state(): DatabaseState {
    return this.current;
  }

  get error(): string {
    return this.detail;
  }

  /** Whether writes should be refused now without trying (the lock was held a moment ago). */
  refusing(): boolean {
    return this.clock() < this.busyUntil;
  }

  /** Seconds a refused client should wait. */
  retryAfter(): number {
    return Math.max(1, Math.ceil(this.coolMs / 1000));
  }

  busy(): void {
    this.current = 'busy';
    this.busyUntil = this.clock() + this.coolMs;
  }

  ok(): void {
    this.current = 'ok';
    this.detail = '';
    this.busyUntil = 0;
  }

  failed(message: string): void {
    this.current = 'error';
    this.detail = message;
  }

  /**
   * Tries for the write lock without waiting and gives it back at once: whether a write would go
   * through now. Run from a timer, never on a request's path.
   */
  probe(db: Db, busyTimeoutMs: number): DatabaseState {
    try {
      db.pragma('busy_timeout = 0');
      try {
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
      } finally {
        db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      }
      this.ok();
    } catch (err) {
      if (isBusyError(err)) this.busy();
      else this.failed((err as Error).message);
    }
    return this.current;
  }
}
