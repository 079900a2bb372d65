// The HTTP side: dist/ as static files, and the endpoints readers reach from a form or an email —
// subscribe (double opt-in), confirm, unsubscribe (one page, or RFC 8058 one-click POST) and
// preferences. Node's own http module; routes are few enough for a switch.
import type { IncomingMessage, ServerResponse } from 'node:http';
import MailComposer from 'nodemailer/lib/mail-composer';
import { EDITIONS, type Edition } from '../compose/slots.ts';
import type { Config } from '../content/schema.ts';
import { addressOf } from '../mail/message.ts';
import { signToken, verifyToken, type Purpose } from '../mail/signing.ts';
import type { Transport } from '../mail/send.ts';
import type { TemplateSet } from '../render/templates.ts';
import { addressProblem, isEmailAddress, type SubscriberStore } from '../store/subscribers.ts';
import { RateLimiter } from './rate-limit.ts';
import { escapeHtml, readBody } from './http.ts';
import { serveFile } from './static.ts';

export interface AppOptions {
  distDir: string;
  config: Config;
  subscribers: SubscriberStore;
  secret: string;
  templates: TemplateSet;
  /** Sends confirmation emails; without one, subscribing answers 503. */
  mailer?: Transport;
  clock: () => number;
  log: (line: string) => void;
  subscribeLimit?: { max: number; windowMs: number };
}

const CONFIRM_TTL = 7 * 24 * 3600_000;

/** What a confirmation link is signed under: the reader's key and the nonce of this one sign-up. */
const confirmKey = (tokenKey: string, nonce: string) => `${tokenKey}.${nonce}`;

export const SECURITY_HEADERS: Record<string, string> = {
  // Pages carry no script of their own; JSON-LD data blocks are not executed, so none is needed.
  'content-security-policy': "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function createApp(o: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limiter = new RateLimiter(o.subscribeLimit?.max ?? 5, o.subscribeLimit?.windowMs ?? 10 * 60_000);
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

  async function subscribe(req: IncomingMessage, res: ServerResponse, wantsJson: boolean): Promise<void> {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const wait = limiter.take(ip, o.clock());
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
    if (!o.mailer) return reply(res, wantsJson, 503, 'Subscriptions are paused', ['Please try again later.']);
    const chosen = form.getAll('editions').filter((e): e is Edition => (EDITIONS as readonly string[]).includes(e));
    const editions = chosen.length ? chosen : [...EDITIONS];
    // The same answer whether or not the address is known: nobody learns who is subscribed. An
    // address that unsubscribed or bounced stays so until its reader uses the link.
    const signedUp = o.subscribers.signUp(email, editions, o.clock());
    if (signedUp) {
      const { subscriber, nonce } = signedUp;
      const token = signToken(o.secret, { subscriber: subscriber.id, key: confirmKey(subscriber.tokenKey, nonce), purpose: 'confirm', expires: o.clock() + CONFIRM_TTL });
      await sendConfirmation(email, `${o.config.baseUrl}/confirm?token=${token}`).catch((err: Error) => o.log(`confirmation to a subscriber failed: ${err.message}`));
    }
    reply(res, wantsJson, 200, 'Check your inbox', [`If ${email} can receive mail, a message with a link to confirm is on its way. The link works for seven days.`]);
  }

  async function sendConfirmation(email: string, link: string): Promise<void> {
    const raw = await new Promise<Buffer>((resolve, reject) =>
      new MailComposer({
        from: o.config.from,
        to: email,
        subject: `Confirm your subscription to ${o.config.title}`,
        text: `Please confirm that you want ${o.config.title} (${EDITIONS.map(labels).join(' & ')}) by email:\n\n${link}\n\nIf you did not ask for this, ignore this message: nothing happens unless you click.\n`,
        html: `<p>Please confirm that you want <strong>${escapeHtml(o.config.title)}</strong> by email:</p><p><a href="${escapeHtml(link)}">Yes, subscribe me</a></p><p>If you did not ask for this, ignore this message: nothing happens unless you click.</p>`,
      }).compile().build((err, message) => (err ? reject(err) : resolve(message))),
    );
    await o.mailer!.send(raw, { from: addressOf(o.config.from), to: email });
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const wantsJson = /application\/json/.test(req.headers.accept ?? '') || /application\/json/.test(req.headers['content-type'] ?? '');
    switch (url.pathname) {
      case '/healthz':
        return send(res, 200, '{"status":"ok"}\n', 'application/json; charset=utf-8');
      case '/subscribe':
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        return subscribe(req, res, wantsJson);
      case '/confirm': {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        // Single use: the nonce the link was checked against is cleared as the sign-up becomes active,
        // in one transaction with checking it is still the one waiting, so a replay finds none.
        let nonce: string | null = null;
        const who = verifyToken(o.secret, url.searchParams.get('token') ?? '', 'confirm', o.clock(), (id) => {
          const s = o.subscribers.get(id);
          nonce = s?.confirmNonce ?? null;
          return s && nonce !== null ? confirmKey(s.tokenKey, nonce) : undefined;
        });
        const subscriber = who && nonce !== null ? o.subscribers.confirm(who.subscriber, nonce, o.clock()) : undefined;
        if (!subscriber) return invalidLink(res);
        return page(res, 200, { title: 'You are in', paragraphs: [`${subscriber.email} will receive ${subscriber.editions.map(labels).join(' and ')}.`], links: [{ url: '/', label: `Read ${o.config.title}` }] });
      }
      case '/unsubscribe':
        if (method !== 'GET' && method !== 'POST') return methodNotAllowed(res, 'GET, POST');
        return unsubscribe(req, res, url);
      case '/preferences':
        if (method !== 'GET' && method !== 'POST') return methodNotAllowed(res, 'GET, POST');
        return preferences(req, res, url);
    }
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    if (await serveFile(req, res, o.distDir, url.pathname)) return;
    if (!(await serveFile(req, res, o.distDir, '/404.html', 404))) send(res, 404, 'Not found\n', 'text/plain; charset=utf-8');
  }

  return (req, res) => {
    const started = performance.now();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.on('finish', () => {
      // The path only: query strings carry tokens, which are not for logs.
      const where = (req.url ?? '/').split('?')[0];
      o.log(`${req.socket.remoteAddress ?? '-'} ${req.method} ${where} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`);
    });
    handle(req, res).catch((err: Error) => {
      o.log(`error: ${err.message}`);
      if (err.message === 'body too large') return send(res, 413, 'Request body too large\n', 'text/plain; charset=utf-8');
      if (!res.headersSent) send(res, 500, 'Something went wrong\n', 'text/plain; charset=utf-8');
    });
  };
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
