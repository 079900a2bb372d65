// Subscribers: one row per address (unique whatever its case), the editions they receive and where
// they are in their life cycle. The interface is what the send loop and the server use, so another
// database can stand behind it without either of them changing.
import { randomBytes } from 'node:crypto';
import type { Edition } from '../compose/slots.ts';
import { EDITION_DEFAULTS } from '../content/config-schema.ts';
import { ContentError } from '../content/problems.ts';
import type { Db } from './database.ts';
import { forgetDeliveries } from './ledger.ts';

export const STATUSES = ['pending', 'active', 'unsubscribed', 'bounced'] as const;
export type SubscriberStatus = (typeof STATUSES)[number];
/** Statuses only the reader leaves again: an explicit, recorded re-subscription is needed. */
export type LeftStatus = 'unsubscribed' | 'bounced';
export const hasLeft = (status: SubscriberStatus): status is LeftStatus => status === 'unsubscribed' || status === 'bounced';

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
  /** Random, never reused: preferences and confirmation links are bound to it. Rotated on re-subscription. */
  tokenKey: string;
  /** Random, never reused, never rotated: unsubscribe links work for as long as the reader is on the list. */
  unsubscribeKey: string;
  /** Set while a sign-up waits for its confirmation link; cleared when the link is used. */
  confirmNonce: string | null;
  resubscribedAt: number | null;
  resubscribedBy: string | null;
  /** Why the reader left, when it was not their own unsubscribe link: "complaint" or "mailto". */
  unsubscribeReason: string | null;
}

export interface SubscriberInput {
  email: string;
  name?: string;
  /**
   * The reader's editions. Left out, an existing reader keeps theirs and a new one gets the editions
   * a site has when its config names none (midweek and sunday): callers that know the config give its
   * editions.
   */
  editions?: Edition[];
  status: SubscriberStatus;
  /**
   * Who is bringing back an address that unsubscribed or bounced. Without it, upsert refuses to
   * make such an address active or pending: consent is the reader's.
   */
  resubscribedBy?: string;
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
  /** Deletes the row and the address from the send ledger (its counts stay); cancels queued rows. */
  remove(email: string): boolean;
  /** Unsubscribes or bounces a reader; an outstanding confirmation link stops working. */
  setStatus(id: number, status: LeftStatus, now: number, reason?: string): void;
  /**
   * A sign-up from the web form: a new address becomes pending; one that unsubscribed or bounced
   * keeps its status until the reader confirms. Returns the nonce the confirmation link carries,
   * or undefined when the address is already active.
   */
  signUp(email: string, editions: Edition[], now: number): { subscriber: Subscriber; nonce: string } | undefined;
  /** Uses a confirmation once: only the sign-up that `nonce` belongs to, and only if still waiting. */
  confirm(id: number, nonce: string, now: number): Subscriber | undefined;
  /** Streams matching subscribers in id order: memory stays flat however long the list. */
  list(filter?: SubscriberFilter): IterableIterator<Subscriber>;
  count(filter?: SubscriberFilter): number;
  /** Runs `fn` in one transaction (an import of thousands of rows is one commit). */
  transaction<T>(fn: () => T): T;
}

export { addressProblem, isEmailAddress } from '../content/address.ts';

/** A fresh key for signed links or a confirmation: 128 random bits. */
export const newKey = (): string => randomBytes(16).toString('base64url');

/** Thrown when an operation would subscribe an address that left without an explicit re-subscription. */
export class ConsentError extends ContentError {
  constructor(readonly subscriber: Subscriber) {
    super([
      subscriber.unsubscribeReason === 'complaint'
        ? {
            file: 'subscribers',
            field: 'email',
            expected: `an address whose reader has not reported this list as spam; ${subscriber.email} can only come back by signing up again and confirming from their own inbox`,
            found: `${subscriber.email}, which complained on ${new Date(subscriber.unsubscribedAt ?? subscriber.updatedAt).toISOString().slice(0, 10)}`,
          }
        : {
            file: 'subscribers',
            field: 'email',
            expected: `an address that has not unsubscribed or bounced; only the reader can give consent again. If ${subscriber.email} asked to come back, run "almanac subscribers add ${subscriber.email} --resubscribe" (add --by NAME to record who; the time is recorded too)`,
            found: `${subscriber.email}, which ${leftSince(subscriber)}`,
          },
    ]);
  }
}

function leftSince(s: Subscriber): string {
  if (s.status === 'bounced') return `bounced (last change ${new Date(s.updatedAt).toISOString().slice(0, 10)})`;
  return `unsubscribed on ${new Date(s.unsubscribedAt ?? s.updatedAt).toISOString().slice(0, 10)}`;
}

interface Row {
  id: number;
  email: string;
  name: string;
  /** The reader's editions, joined by spaces (see SELECT), in name order. */
  editions: string | null;
  status: SubscriberStatus;
  created_at: number;
  updated_at: number;
  confirmed_at: number | null;
  unsubscribed_at: number | null;
  token_key: string;
  unsubscribe_key: string;
  confirm_nonce: string | null;
  resubscribed_at: number | null;
  resubscribed_by: string | null;
  unsubscribe_reason: string | null;
}

/** Every column of a reader, their editions gathered into one (an edition name has no spaces). */
const SELECT = `SELECT s.*, (SELECT group_concat(edition, ' ' ORDER BY edition) FROM subscriber_editions WHERE subscriber_id = s.id) AS editions
  FROM subscribers s`;

function fromRow(r: Row): Subscriber {
  const editions: Edition[] = r.editions ? r.editions.split(' ') : [];
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
    tokenKey: r.token_key,
    unsubscribeKey: r.unsubscribe_key,
    confirmNonce: r.confirm_nonce,
    resubscribedAt: r.resubscribed_at,
    resubscribedBy: r.resubscribed_by,
    unsubscribeReason: r.unsubscribe_reason,
  };
}

function where(filter: SubscriberFilter): { sql: string; params: Record<string, string> } {
  const parts: string[] = [];
  const params: Record<string, string> = {};
  if (filter.status) {
    parts.push('s.status = @status');
    params.status = filter.status;
  }
  if (filter.edition) {
    parts.push('EXISTS (SELECT 1 FROM subscriber_editions e WHERE e.subscriber_id = s.id AND e.edition = @edition)');
    params.edition = filter.edition;
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export class SqliteSubscribers implements SubscriberStore {
  private readonly byEmail;
  private readonly byId;
  private readonly insert;
  private readonly update;
  private readonly clearEditions;
  private readonly addEdition;

  constructor(private readonly db: Db) {
    this.byEmail = db.prepare<[string], Row>(`${SELECT} WHERE s.email = ? COLLATE NOCASE`);
    this.byId = db.prepare<[number], Row>(`${SELECT} WHERE s.id = ?`);
    this.insert = db.prepare(
      `INSERT INTO subscribers (email, name, status, created_at, updated_at, confirmed_at, unsubscribed_at, token_key, unsubscribe_key, confirm_nonce)
       VALUES (@email, @name, @status, @now, @now, @confirmed, @unsubscribed, @key, @unsubscribeKey, @nonce)`,
    );
    this.clearEditions = db.prepare<[number]>('DELETE FROM subscriber_editions WHERE subscriber_id = ?');
    this.addEdition = db.prepare<[number, string]>('INSERT OR IGNORE INTO subscriber_editions (subscriber_id, edition) VALUES (?, ?)');
    this.update = db.prepare(
      `UPDATE subscribers SET name = @name, status = @status, updated_at = @now,
         confirmed_at = COALESCE(confirmed_at, @confirmed), unsubscribed_at = @unsubscribed,
         confirm_nonce = CASE WHEN @status = 'pending' THEN confirm_nonce END
       WHERE id = @id`,
    );
  }

  /** Replaces a reader's editions (inside the caller's transaction). */
  private setEditions(id: number | bigint, editions: readonly Edition[]): void {
    this.clearEditions.run(Number(id));
    for (const edition of editions) this.addEdition.run(Number(id), edition);
  }

  find(email: string): Subscriber | undefined {
    const row = this.byEmail.get(email.trim());
    return row && fromRow(row);
  }

  get(id: number): Subscriber | undefined {
    const row = this.byId.get(id);
    return row && fromRow(row);
  }

  upsert(input: SubscriberInput, now: number): { subscriber: Subscriber; created: boolean } {
    return this.transaction(() => {
      const email = input.email.trim();
      const existing = this.byEmail.get(email);
      const editions = input.editions ?? (existing ? fromRow(existing).editions : Object.keys(EDITION_DEFAULTS));
      const values = {
        name: input.name ?? existing?.name ?? '',
        status: input.status,
        now,
        confirmed: input.status === 'active' ? now : null,
        unsubscribed: input.status === 'unsubscribed' ? (existing?.unsubscribed_at ?? now) : null,
      };
      if (!existing) {
        this.setEditions(this.insert.run({ ...values, email, key: newKey(), unsubscribeKey: newKey(), nonce: null }).lastInsertRowid, editions);
      } else if (hasLeft(existing.status) && !hasLeft(input.status)) {
        // A complaint is not overridden by anyone's word but the reader's own confirmed sign-up.
        if (!input.resubscribedBy || existing.unsubscribe_reason === 'complaint') throw new ConsentError(fromRow(existing));
        // A new consent: preferences and confirmation links from before it no longer act (unsubscribe
        // links still do), and who brought the address back is kept.
        this.update.run({ ...values, id: existing.id });
        this.setEditions(existing.id, editions);
        this.db
          .prepare(
            `UPDATE subscribers SET token_key = @key, resubscribed_at = @now, resubscribed_by = @by, confirm_nonce = NULL, unsubscribe_reason = NULL,
               confirmed_at = CASE WHEN status = 'active' THEN @now ELSE confirmed_at END
             WHERE id = @id`,
          )
          .run({ id: existing.id, key: newKey(), now, by: input.resubscribedBy });
      } else {
        this.update.run({ ...values, id: existing.id });
        this.setEditions(existing.id, editions);
      }
      return { subscriber: this.find(email)!, created: !existing };
    });
  }

  remove(email: string): boolean {
    return this.transaction(() => {
      const row = this.byEmail.get(email.trim());
      if (!row) return false;
      this.clearEditions.run(row.id);
      this.db.prepare('DELETE FROM subscribers WHERE id = ?').run(row.id);
      forgetDeliveries(this.db, row.id);
      // A report's text may quote the address: the counts stay, the words go.
      this.db.prepare("UPDATE mail_events SET text = '' WHERE subscriber_id = ?").run(row.id);
      return true;
    });
  }

  setStatus(id: number, status: LeftStatus, now: number, reason?: string): void {
    this.db
      .prepare(
        `UPDATE subscribers SET status = @status, updated_at = @now, confirm_nonce = NULL,
           unsubscribed_at = CASE WHEN @status = 'unsubscribed' THEN COALESCE(unsubscribed_at, @now) ELSE unsubscribed_at END,
           unsubscribe_reason = COALESCE(@reason, unsubscribe_reason)
         WHERE id = @id`,
      )
      .run({ id, status, now, reason: reason ?? null });
  }

  signUp(email: string, editions: Edition[], now: number): { subscriber: Subscriber; nonce: string } | undefined {
    return this.transaction(() => {
      const existing = this.byEmail.get(email.trim());
      if (existing?.status === 'active') return undefined;
      // A second request while the first link is still out reuses its nonce: either email works.
      const nonce = existing?.confirm_nonce ?? newKey();
      if (!existing) {
        const { lastInsertRowid } = this.insert.run({ email: email.trim(), name: '', status: 'pending', now, confirmed: null, unsubscribed: null, key: newKey(), unsubscribeKey: newKey(), nonce });
        this.setEditions(lastInsertRowid, editions);
      } else {
        // The status stays: an address that left is only back once its reader confirms.
        this.db.prepare('UPDATE subscribers SET confirm_nonce = @nonce, updated_at = @now WHERE id = @id').run({ nonce, now, id: existing.id });
        this.setEditions(existing.id, editions);
      }
      return { subscriber: this.find(email)!, nonce };
    });
  }

  confirm(id: number, nonce: string, now: number): Subscriber | undefined {
    return this.transaction(() => {
      const row = this.byId.get(id);
      if (!row || row.confirm_nonce === null || row.confirm_nonce !== nonce) return undefined;
      if (hasLeft(row.status)) {
        this.db
          .prepare(
            `UPDATE subscribers SET status = 'active', confirm_nonce = NULL, updated_at = @now, confirmed_at = @now, unsubscribed_at = NULL, unsubscribe_reason = NULL,
               token_key = @key, resubscribed_at = @now, resubscribed_by = 'the reader, by confirmation link'
             WHERE id = @id`,
          )
          .run({ id, now, key: newKey() });
      } else {
        this.db
          .prepare(`UPDATE subscribers SET status = 'active', confirm_nonce = NULL, updated_at = @now, confirmed_at = @now WHERE id = @id`)
          .run({ id, now });
      }
      return this.get(id);
    });
  }

  *list(filter: SubscriberFilter = {}): IterableIterator<Subscriber> {
    const w = where(filter);
    for (const row of this.db.prepare<[Record<string, string>], Row>(`${SELECT} ${w.sql} ORDER BY s.id`).iterate(w.params)) {
      yield fromRow(row);
    }
  }

  count(filter: SubscriberFilter = {}): number {
    const w = where(filter);
    return (this.db.prepare<[Record<string, string>], { n: number }>(`SELECT count(*) AS n FROM subscribers s ${w.sql}`).get(w.params))!.n;
  }

  transaction<T>(fn: () => T): T {
    // Nested calls (upsert inside an import) join the transaction already open.
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).immediate();
  }
}
