// The HTTP side: dist/ as static files, and the endpoints readers reach from a form or an email —
// subscribe (double opt-in), confirm, unsubscribe (one page, or RFC 8058 one-click POST) and
// preferences. Node's own http module; routes are few enough for a switch.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import { EDITIONS, type Edition } from '../compose/slots.ts';
import type { Config } from '../content/config-schema.ts';
import { signToken, verifyToken, type Purpose } from '../mail/signing.ts';
import type { TemplateSet } from '../render/templates.ts';
import type { ConfirmationQueue } from '../store/confirmations.ts';
import { addressProblem, isEmailAddress, type SubscriberStore } from '../store/subscribers.ts';
import { clientAddress, limitKey, trustList } from './client-address.ts';
import { isBusyError, type DatabaseHealth } from './db-health.ts';
import { confirmKey } from './confirmation-mail.ts';
import { answerClientError, HttpError, isValidHost, MAX_BODY, readBody } from './guard.ts';
import { RateLimiter } from './rate-limit.ts';
import { serveFile } from './static.ts';

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

export const SECURITY_HEADERS: Record<string, string> = {
  // Pages carry no script of their own; JSON-LD data blocks are not executed, so none is needed.
  'content-security-policy': "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The HTTP server for an app: a request Node cannot parse gets a 4xx carrying the same security
 * headers as every other answer, and slow clients hold a socket only so long (headers within 15 s,
 * the whole request within 30 s).
 */
export function createServer(app: (req: IncomingMessage, res: ServerResponse) => void): http.Server {
  const server = http.createServer(app);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket, SECURITY_HEADERS));
  // `Expect: 100-continue`: a body declared over the limit is not invited only to be refused (413).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > MAX_BODY)) res.writeContinue();
    app(req, res);
  });
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  return server;
}

export function createApp(o: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limiter = new RateLimiter(o.subscribeLimit?.max ?? 5, o.subscribeLimit?.windowMs ?? 10 * 60_000);
  const proxies: BlockList | undefined = o.config.trustProxy.length ? trustList(o.config.trustProxy) : undefined;
  const labels = (e: Edition) => o.config.editions[e].label;

  const page = (res: ServerResponse, status: number, notice: object) => {
    const html = o.templates.render('notice', {
      site: { title: o.config.title, language: o.config.language, baseUrl: o.config.baseUrl, tagline: '', editions: EDITIONS.map(labels).join(' & ') },
      page: { title: (notice as { title: string }).title, description: '', root: '/', canonical: o.config.baseUrl, section: 'none', jsonLd: [], noindex: true },
      notice,
    });
    send(res, status, html, 'text/html; charset=utf-8');
  };
  const invalidLink = (res: ServerResponse) =>
    page(res, 400, { title: 'This link does not work', paragraphs: ['It may have been mistyped, cut short by your mail program, or it has expired. Nothing was changed.'], links: [{ url: '/#subscribe', label: 'Subscribe again' }] });

  // A link's signature covers its reader's keys (for a confirmation, also the sign-up's nonce): links
  // of a removed reader act on nobody; preferences links from before a re-subscription neither.
  const keyOf = (purpose: Purpose) => (id: number) => {
    const s = o.subscribers.get(id);
    if (!s) return undefined;
    if (purpose === 'unsubscribe') return s.unsubscribeKey;
    if (purpose === 'preferences') return s.tokenKey;
    return undefined; // confirmations are checked in their own handler, against the nonce they consume
  };
  const claims = (url: URL, purpose: Purpose) => verifyToken(o.secret, url.searchParams.get('token') ?? '', purpose, o.clock(), keyOf(purpose));

  async function subscribe(req: IncomingMessage, res: ServerResponse, wantsJson: boolean, client: string): Promise<void> {
    const wait = limiter.take(limitKey(client), o.clock());
    if (wait > 0) {
      res.setHeader('retry-after', String(Math.ceil(wait / 1000)));
      return reply(res, wantsJson, 429, 'Too many requests', ['Please wait a few minutes before trying again.']);
    }
    const form = await readForm(req);
    const email = (form.get('email') ?? '').trim();
    if (!isEmailAddress(email)) {
      const hidden = addressProblem(email)?.includes('invisible or control character');
      return reply(res, wantsJson, 400, 'That address does not look right', [hidden ? 'It contains an invisible or control character; type it again by hand.' : 'Check it and try again.']);
    }
    const confirmations = o.confirmations;
    if (!confirmations) return reply(res, wantsJson, 503, 'Subscriptions are paused', ['Please try again later.']);
    const chosen = form.getAll('editions').filter((e): e is Edition => (EDITIONS as readonly string[]).includes(e));
    const editions = chosen.length ? chosen : [...EDITIONS];
    // Started before the work, so that the timer does not count the work's own time.
    const floor = new Promise((resolve) => setTimeout(resolve, o.subscribeAnswerMs ?? 25));
    try {
      writable();
      // The same answer, sent before any mail is and after the same fixed time (`floor`), whether or
      // not the address is known: nobody learns who is subscribed, by the words or by the time they
      // take. A row is queued for an active reader too; the worker finds nothing to send for it. An
      // address that unsubscribed or bounced stays so until its reader uses the link.
      const now = o.clock();
      const queued = o.subscribers.transaction(() => {
        const id = o.subscribers.signUp(email, editions, now)?.subscriber.id ?? o.subscribers.find(email)!.id;
        return confirmations.queue.enqueue(id, email, now, o.recipientGapMs ?? 10 * 60_000);
      });
      o.health?.ok();
      if (queued) confirmations.wake();
    } catch (err) {
      if (!(err instanceof HttpError) && !isBusyError(err)) throw err;
      // The reader gets the same kind of page (or JSON) as any other answer here, not a bare error.
      if (isBusyError(err)) o.health?.busy();
      await floor;
      res.setHeader('retry-after', String(o.health?.retryAfter() ?? 1));
      return reply(res, wantsJson, 503, 'Busy for a moment', ['Nothing was saved. Please try again in a few seconds.']);
    }
    await floor;
    reply(res, wantsJson, 200, 'Check your inbox', [`If ${email} can receive mail, a message with a link to confirm is on its way. The link works for seven days.`]);
  }

  /** Refuses a write at once while the database was busy a moment ago, rather than waiting on it again. */
  function writable(): void {
    if (o.health?.refusing()) throw busy();
  }

  function busy(): HttpError {
    return new HttpError(503, 'the database is busy', { 'retry-after': String(o.health?.retryAfter() ?? 1) });
  }

  function reply(res: ServerResponse, wantsJson: boolean, status: number, title: string, paragraphs: string[]): void {
    if (wantsJson) send(res, status, JSON.stringify({ ok: status < 300, message: [title, ...paragraphs].join(' ') }), 'application/json; charset=utf-8');
    else page(res, status, { title, paragraphs, links: [{ url: '/', label: `Back to ${o.config.title}` }] });
  }

  async function unsubscribe(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const who = claims(url, 'unsubscribe');
    if (!who) return invalidLink(res);
    if (req.method === 'GET') {
      return page(res, 200, {
        title: `Unsubscribe from ${o.config.title}?`,
        paragraphs: ['One click and you will get no more issues.'],
        form: { action: `/unsubscribe?token=${encodeURIComponent(url.searchParams.get('token')!)}`, button: 'Unsubscribe' },
      });
    }
    const body = await readBody(req);
    o.subscribers.setStatus(who.subscriber, 'unsubscribed', o.clock());
    // RFC 8058: a mail program's one-click POST gets a plain answer, no page.
    if (body.trim() === 'List-Unsubscribe=One-Click') return send(res, 200, 'Unsubscribed.\n', 'text/plain; charset=utf-8');
    const prefs = signToken(o.secret, { subscriber: who.subscriber, key: keyOf('preferences')(who.subscriber) ?? '', purpose: 'preferences', expires: 0 });
    page(res, 200, {
      title: 'You are unsubscribed',
      paragraphs: ['You will get no more issues. Changed your mind, or want just one edition?'],
      links: [{ url: `/preferences?token=${prefs}`, label: 'Choose editions' }, { url: '/#subscribe', label: 'Subscribe again' }],
    });
  }

  /**
   * The link in the confirmation mail opens a page with one button, and only its POST subscribes: mail
   * scanners and link previews fetch every link in a message, which must not confirm for the reader.
   * The GET checks the link without using it up; the POST consumes the sign-up's nonce.
   */
  async function confirm(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const token = url.searchParams.get('token') ?? '';
    let nonce: string | null = null;
    const who = verifyToken(o.secret, token, 'confirm', o.clock(), (id) => {
      const s = o.subscribers.get(id);
      nonce = s?.confirmNonce ?? null;
      return s && nonce !== null ? confirmKey(s.tokenKey, nonce) : undefined;
    });
    if (req.method === 'GET') {
      const subscriber = who && nonce !== null ? o.subscribers.get(who.subscriber) : undefined;
      if (!subscriber) return invalidLink(res);
      return page(res, 200, {
        title: `Confirm your subscription to ${o.config.title}`,
        paragraphs: [`${subscriber.email} will receive ${subscriber.editions.map(labels).join(' and ')}.`],
        form: { action: `/confirm?token=${encodeURIComponent(token)}`, button: 'Yes, subscribe me' },
      });
    }
    await readBody(req);
    // Single use: the nonce the link was checked against is cleared as the sign-up becomes active,
    // in one transaction with checking it is still the one waiting, so a replay finds none.
    const subscriber = who && nonce !== null ? o.subscribers.confirm(who.subscriber, nonce, o.clock()) : undefined;
    if (!subscriber) return invalidLink(res);
    page(res, 200, { title: 'You are in', paragraphs: [`${subscriber.email} will receive ${subscriber.editions.map(labels).join(' and ')}.`], links: [{ url: '/', label: `Read ${o.config.title}` }] });
  }

  async function preferences(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const who = claims(url, 'preferences');
    const subscriber = who && o.subscribers.get(who.subscriber);
    if (!subscriber) return invalidLink(res);
    let current = subscriber.status === 'active' ? subscriber.editions : [];
    let saved = false;
    let token = url.searchParams.get('token')!;
    if (req.method === 'POST') {
      const chosen = (await readForm(req)).getAll('editions').filter((e): e is Edition => (EDITIONS as readonly string[]).includes(e));
      // Choosing editions with one's own link is the reader's own re-subscription, recorded as such.
      const { subscriber: now } = o.subscribers.upsert(
        { email: subscriber.email, editions: chosen.length ? chosen : subscriber.editions, status: chosen.length ? 'active' : 'unsubscribed', resubscribedBy: 'the reader, by preferences link' },
        o.clock(),
      );
      // A re-subscription rotates the key: the form goes on working with a link signed under the new one.
      if (now.tokenKey !== subscriber.tokenKey) token = signToken(o.secret, { subscriber: now.id, key: now.tokenKey, purpose: 'preferences', expires: 0 });
      current = chosen;
      saved = true;
    }
    page(res, 200, {
      title: saved ? (current.length ? 'Saved' : 'You are unsubscribed') : 'Choose your editions',
      paragraphs: [current.length ? `You receive ${current.map(labels).join(' and ')}.` : 'You receive no editions.'],
      form: {
        action: `/preferences?token=${encodeURIComponent(token)}`,
        button: 'Save',
        editions: EDITIONS.map((e) => ({ value: e, label: labels(e), checked: current.includes(e) })),
      },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, client: string): Promise<void> {
    if (!isValidHost(req.headers.host)) throw new HttpError(400, 'bad Host header');
    const url = requestUrl(req.url);
    const method = req.method ?? 'GET';
    const wantsJson = /application\/json/.test(req.headers.accept ?? '') || /application\/json/.test(req.headers['content-type'] ?? '');
    switch (url.pathname) {
      case '/healthz': {
        // From what is already known: a health check never waits on the database.
        const database = o.health?.state ?? 'ok';
        return send(res, 200, `${JSON.stringify({ status: database === 'ok' ? 'ok' : 'degraded', database })}\n`, 'application/json; charset=utf-8');
      }
      case '/subscribe':
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        return subscribe(req, res, wantsJson, client);
      case '/confirm':
        if (method !== 'GET' && method !== 'POST') return methodNotAllowed(res, 'GET, POST');
        if (method === 'POST') writable();
        return confirm(req, res, url);
      case '/unsubscribe':
        if (method !== 'GET' && method !== 'POST') return methodNotAllowed(res, 'GET, POST');
        if (method === 'POST') writable();
        return unsubscribe(req, res, url);
      case '/preferences':
        if (method !== 'GET' && method !== 'POST') return methodNotAllowed(res, 'GET, POST');
        if (method === 'POST') writable();
        return preferences(req, res, url);
    }
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    if (await serveFile(req, res, o.distDir, url.pathname)) return;
    if (!(await serveFile(req, res, o.distDir, '/404.html', 404))) send(res, 404, 'Not found\n', 'text/plain; charset=utf-8');
  }

  /** Whatever a handler throws becomes an answer to that request alone; the note goes on its log line. */
  function fail(res: ServerResponse, err: unknown): string {
    let status = 500;
    let headers: Record<string, string> = {};
    if (err instanceof HttpError) {
      status = err.status;
      headers = err.headers;
    } else if (isBusyError(err)) {
      o.health?.busy();
      const refused = busy();
      status = refused.status;
      headers = refused.headers;
    }
    if (res.headersSent || res.destroyed) {
      res.destroy();
    } else {
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      // An unread body (too large, aborted) is not worth draining: answer and close.
      if (status === 413 || status === 400) res.setHeader('connection', 'close');
      send(res, status, `${STATUS_TEXT[status] ?? 'Something went wrong'}\n`, 'text/plain; charset=utf-8');
    }
    return err instanceof Error ? err.message : String(err);
  }

  return (req, res) => {
    const started = performance.now();
    // Read once, now: after a failure the socket may be gone, and with it its address.
    const client = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], proxies);
    let note = '';
    res.once('close', () => {
      // The path only: query strings carry tokens, which are not for logs.
      const where = (req.url ?? '/').split('?')[0]!.slice(0, 200);
      const closed = res.writableFinished ? '' : ' (connection closed early)';
      // Nothing sent (the client hung up, or Node answered a body it could not parse): no status of ours.
      const status = res.headersSent ? String(res.statusCode) : '-';
      try {
        o.log(`${client} ${req.method} ${where} ${status} ${(performance.now() - started).toFixed(1)}ms${closed}${note ? ` error: ${note}` : ''}`);
      } catch {
        // A log that cannot be written is no reason to stop serving.
      }
    });
    try {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      handle(req, res, client).catch((err: unknown) => {
        note = fail(res, err);
      });
    } catch (err) {
      note = fail(res, err);
    }
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  413: 'Request body too large',
  503: 'Busy: please try again shortly',
};

/** The request target as a URL on this site; origin-form keeps `//` paths as paths. */
function requestUrl(target: string | undefined): URL {
  const raw = target ?? '/';
  try {
    if (raw.startsWith('/')) return new URL(`http://localhost${raw}`);
    // Absolute form (`GET http://host/path`), which proxies may send: only its path and query count.
    const absolute = new URL(raw);
    if (absolute.protocol === 'http:' || absolute.protocol === 'https:') return new URL(`http://localhost${absolute.pathname}${absolute.search}`);
  } catch {
    // Falls through to the 400 below.
  }
  throw new HttpError(400, 'bad request target');
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  send(res, 405, 'Method not allowed\n', 'text/plain; charset=utf-8');
}

/** A urlencoded form or a JSON object, as URLSearchParams. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const body = await readBody(req);
  if (!/application\/json/.test(req.headers['content-type'] ?? '')) return new URLSearchParams(body);
  const params = new URLSearchParams();
  try {
    const data = JSON.parse(body) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) for (const item of [v].flat()) params.append(k, String(item));
  } catch {
    // Not JSON: an empty form, which fails validation like any other bad input.
  }
  return params;
}
