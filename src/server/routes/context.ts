// What every route of `serve` shares: its options, the notice page readers see, signed links checked
// against their reader's current keys, and the refusal of writes while the database is busy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Edition } from '../../compose/slots.ts';
import { allEditions, editionLabel } from '../../words/labels.ts';
import type { Config } from '../../content/config-schema.ts';
import { verifyToken, type Purpose } from '../../mail/signing.ts';
import type { CertificateSource } from '../../mail/sns.ts';
import type { TemplateSet } from '../../render/templates.ts';
import type { ConfirmationQueue } from '../../store/confirmations.ts';
import type { MailEvents } from '../../store/mail-events.ts';
import type { SubscriberStore } from '../../store/subscribers.ts';
import type { DatabaseHealth } from '../db-health.ts';
import { HttpError } from '../guard.ts';
import { send } from './respond.ts';

export interface AppOptions {
  distDir: string;
  config: Config;
  subscribers: SubscriberStore;
  secret: string;
  templates: TemplateSet;
  /** Where confirmation mails are queued, and how to tell the worker; without it, subscribing answers 503. */
  confirmations?: { queue: ConfirmationQueue; wake: () => void };
  /** The database's state as last seen; writes are refused with a 503 while it is busy. */
  health?: DatabaseHealth;
  /** Where provider webhooks record bounces and complaints, and what verifies each; a webhook without its part answers 404. */
  bounces?: { events: MailEvents; mailgunKey?: string; ses?: { topicArn: string; certificates: CertificateSource } };
  clock: () => number;
  log: (line: string) => void;
  /** Subscribe requests per client. */
  subscribeLimit?: { max: number; windowMs: number };
  /** At most one confirmation mail per inbox (however the address is spelled) in this interval, whoever asks. */
  recipientGapMs?: number;
  /**
   * A subscribe answer with a valid address leaves no sooner than this after the request was read:
   * the database work differs a little for a known reader and a new address, and the time must not tell.
   */
  subscribeAnswerMs?: number;
}

/** One request as the router has read it. */
export interface Request {
  url: URL;
  /** The client asked for (or sent) JSON: answers are JSON instead of a page. */
  wantsJson: boolean;
  /** The client's address, for rate limits. */
  client: string;
}

export interface Route {
  /** The methods it answers; any other gets 405. Undefined: every method. */
  methods?: readonly string[];
  /** A POST here writes: it is refused at once while the database is busy. */
  postWrites?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, request: Request): Promise<void> | void;
}

/** A page's content: a title, paragraphs, links and at most one form. */
export interface Notice {
  title: string;
  paragraphs: string[];
  links?: { url: string; label: string }[];
  form?: { action: string; button: string; editions?: { value: Edition; label: string; checked: boolean }[] };
}

export class ServeContext {
  constructor(readonly o: AppOptions) {}

  label(edition: Edition): string {
    return editionLabel(this.o.config, edition);
  }

  page(res: ServerResponse, status: number, notice: Notice): void {
    const { config } = this.o;
    const html = this.o.templates.render('notice', {
      site: { title: config.title, language: config.language, baseUrl: config.baseUrl, tagline: '', editions: allEditions(config) },
      page: { title: notice.title, description: '', root: '/', canonical: config.baseUrl, section: 'none', jsonLd: [], noindex: true },
      notice,
    });
    send(res, status, html, 'text/html; charset=utf-8');
  }

  invalidLink(res: ServerResponse): void {
    this.page(res, 400, { title: 'This link does not work', paragraphs: ['It may have been mistyped, cut short by your mail program, or it has expired. Nothing was changed.'], links: [{ url: '/#subscribe', label: 'Subscribe again' }] });
  }

  /** A short answer to a form: JSON for a script, a page for a browser. */
  reply(res: ServerResponse, wantsJson: boolean, status: number, title: string, paragraphs: string[]): void {
    if (wantsJson) send(res, status, JSON.stringify({ ok: status < 300, message: [title, ...paragraphs].join(' ') }), 'application/json; charset=utf-8');
    else this.page(res, status, { title, paragraphs, links: [{ url: '/', label: `Back to ${this.o.config.title}` }] });
  }

  /**
   * The key a link's signature covers: its reader's current one, so links of a removed reader act on
   * nobody and preferences links from before a re-subscription neither. Confirmations are checked in
   * their own route, against the nonce they consume.
   */
  keyOf(purpose: Purpose, id: number): string | undefined {
    const s = this.o.subscribers.get(id);
    if (!s) return undefined;
    if (purpose === 'unsubscribe') return s.unsubscribeKey;
    if (purpose === 'preferences') return s.tokenKey;
    return undefined;
  }

  /** The reader a request's `token` is a valid link of `purpose` for. */
  claims(url: URL, purpose: Purpose): { subscriber: number } | undefined {
    return verifyToken(this.o.secret, url.searchParams.get('token') ?? '', purpose, this.o.clock(), (id) => this.keyOf(purpose, id));
  }

  /** Refuses a write at once while the database was busy a moment ago, rather than waiting on it again. */
  writable(): void {
    if (this.o.health?.refusing()) throw this.busy();
  }

  busy(): HttpError {
    return new HttpError(503, 'the database is busy', { 'retry-after': String(this.o.health?.retryAfter() ?? 1) });
  }
}
