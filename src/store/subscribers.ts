// Subscribers: one row per address (unique whatever its case), the editions they receive and where
// they are in their life cycle. The interface is what the send loop and the server use, so another
// database can stand behind it without either of them changing.
import type { Edition } from '../compose/slots.ts';
import type { Db } from './database.ts';

export const STATUSES = ['pending', 'active', 'unsubscribed', 'bounced'] as const;
export type SubscriberStatus = (typeof STATUSES)[number];

export interface Subscriber {
  id: number;
  email: string;
  name: string;
  editions: Edition[];
  status: SubscriberStatus;
  createdAt: number;
  updatedAt: number;
  confirmedAt: number | null;
  unsubscribedAt: number | null;
}

export interface SubscriberInput {
  email: string;
  name?: string;
  editions?: Edition[];
  status: SubscriberStatus;
}

export interface SubscriberFilter {
  edition?: Edition;
  status?: SubscriberStatus;
}

export interface SubscriberStore {
  find(email: string): Subscriber | undefined;
  get(id: number): Subscriber | undefined;
  /** Adds the address, or updates the one already there (same address, any case). */
  upsert(input: SubscriberInput, now: number): { subscriber: Subscriber; created: boolean };
  remove(email: string): boolean;
  setStatus(id: number, status: SubscriberStatus, now: number): void;
  /** Streams matching subscribers in id order: memory stays flat however long the list. */
  list(filter?: SubscriberFilter): IterableIterator<Subscriber>;
  count(filter?: SubscriberFilter): number;
  /** Runs `fn` in one transaction (an import of thousands of rows is one commit). */
  transaction<T>(fn: () => T): T;
}

export { isEmailAddress } from '../content/address.ts';

interface Row {
  id: number;
  email: string;
  name: string;
  midweek: number;
  sunday: number;
  status: SubscriberStatus;
  created_at: number;
  updated_at: number;
  confirmed_at: number | null;
  unsubscribed_at: number | null;
}

function fromRow(r: Row): Subscriber {
  const editions: Edition[] = [];
  if (r.midweek) editions.push('midweek');
  if (r.sunday) editions.push('sunday');
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    editions,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    confirmedAt: r.confirmed_at,
    unsubscribedAt: r.unsubscribed_at,
  };
}

function where(filter: SubscriberFilter): { sql: string; params: Record<string, string> } {
  const parts: string[] = [];
  const params: Record<string, string> = {};
  if (filter.status) {
    parts.push('status = @status');
    params.status = filter.status;
  }
  if (filter.edition) parts.push(filter.edition === 'midweek' ? 'midweek = 1' : 'sunday = 1');
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export class SqliteSubscribers implements SubscriberStore {
  private readonly byEmail;
  private readonly insert;
  private readonly update;
  private readonly del;

  constructor(private readonly db: Db) {
    this.byEmail = db.prepare<[string], Row>('SELECT * FROM subscribers WHERE email = ? COLLATE NOCASE');
    this.insert = db.prepare(
      `INSERT INTO subscribers (email, name, midweek, sunday, status, created_at, updated_at, confirmed_at, unsubscribed_at)
       VALUES (@email, @name, @midweek, @sunday, @status, @now, @now, @confirmed, @unsubscribed)`,
    );
    this.update = db.prepare(
      `UPDATE subscribers SET name = @name, midweek = @midweek, sunday = @sunday, status = @status, updated_at = @now,
         confirmed_at = COALESCE(confirmed_at, @confirmed), unsubscribed_at = @unsubscribed
       WHERE id = @id`,
    );
    this.del = db.prepare('DELETE FROM subscribers WHERE email = ? COLLATE NOCASE');
  }

  find(email: string): Subscriber | undefined {
    const row = this.byEmail.get(email.trim());
    return row && fromRow(row);
  }

  get(id: number): Subscriber | undefined {
    const row = this.db.prepare<[number], Row>('SELECT * FROM subscribers WHERE id = ?').get(id);
    return row && fromRow(row);
  }

  upsert(input: SubscriberInput, now: number): { subscriber: Subscriber; created: boolean } {
    const email = input.email.trim();
    const existing = this.byEmail.get(email);
    const editions = input.editions ?? (existing ? fromRow(existing).editions : ['midweek', 'sunday']);
    const values = {
      name: input.name ?? existing?.name ?? '',
      midweek: editions.includes('midweek') ? 1 : 0,
      sunday: editions.includes('sunday') ? 1 : 0,
      status: input.status,
      now,
      confirmed: input.status === 'active' ? now : null,
      unsubscribed: input.status === 'unsubscribed' ? (existing?.unsubscribed_at ?? now) : null,
    };
    if (existing) this.update.run({ ...values, id: existing.id });
    else this.insert.run({ ...values, email });
    return { subscriber: this.find(email)!, created: !existing };
  }

  remove(email: string): boolean {
    return this.del.run(email.trim()).changes > 0;
  }

  setStatus(id: number, status: SubscriberStatus, now: number): void {
    this.db
      .prepare(
        `UPDATE subscribers SET status = @status, updated_at = @now,
           unsubscribed_at = CASE WHEN @status = 'unsubscribed' THEN COALESCE(unsubscribed_at, @now) ELSE unsubscribed_at END
         WHERE id = @id`,
      )
      .run({ id, status, now });
  }

  *list(filter: SubscriberFilter = {}): IterableIterator<Subscriber> {
    const w = where(filter);
    for (const row of this.db.prepare<[Record<string, string>], Row>(`SELECT * FROM subscribers ${w.sql} ORDER BY id`).iterate(w.params)) {
      yield fromRow(row);
    }
  }

  count(filter: SubscriberFilter = {}): number {
    const w = where(filter);
    return (this.db.prepare<[Record<string, string>], { n: number }>(`SELECT count(*) AS n FROM subscribers ${w.sql}`).get(w.params))!.n;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
