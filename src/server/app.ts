// The HTTP side of `serve`: dist/ as static files, and the endpoints readers reach from a form or an
// email — subscribe (double opt-in), confirm, unsubscribe (one page, or RFC 8058 one-click POST) and
// preferences, one module each under routes/. This file routes a request to one of them, answers
// whatever it throws, and logs the request.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { clientAddress, trustList } from './client-address.ts';
import { isBusyError } from './db-health.ts';
import { answerClientError, HttpError, isValidHost, MAX_BODY } from './guard.ts';
import { confirmRoute } from './routes/confirm.ts';
import { ServeContext, type AppOptions, type Route } from './routes/context.ts';
import { filesRoute } from './routes/files.ts';
import { healthRoute } from './routes/health.ts';
import { preferencesRoute } from './routes/preferences.ts';
import { methodNotAllowed, send } from './routes/respond.ts';
import { subscribeRoute } from './routes/subscribe.ts';
import { unsubscribeRoute } from './routes/unsubscribe.ts';
import { mailgunRoute } from './routes/webhook-mailgun.ts';
import { sesRoute } from './routes/webhook-ses.ts';


const SECURITY_HEADERS: Record<string, string> = {
  // Scripts only from the site itself (the guide's contents, the search page and Pagefind, whose index
  // is WebAssembly); JSON-LD data blocks are not executed, so no inline script is allowed.
  'content-security-policy': csp("'self'"),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function csp(formAction: string): string {
  return `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: https:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'`;
}

/** The headers of every answer; the subscribe form may post to the `subscribeUrl` of the config, wherever it is. */
export function securityHeaders(subscribeUrl: string | undefined): Record<string, string> {
  if (!subscribeUrl) return SECURITY_HEADERS;
  return { ...SECURITY_HEADERS, 'content-security-policy': csp(`'self' ${new URL(subscribeUrl).origin}`) };
}

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
  const ctx = new ServeContext(o);
  const proxies = o.config.trustProxy.length ? trustList(o.config.trustProxy) : undefined;
  const routes = new Map<string, Route>([
    ['/healthz', healthRoute(ctx)],
    ['/subscribe', subscribeRoute(ctx)],
    ['/confirm', confirmRoute(ctx)],
    ['/unsubscribe', unsubscribeRoute(ctx)],
    ['/preferences', preferencesRoute(ctx)],
    ['/webhooks/mailgun', mailgunRoute(ctx)],
    ['/webhooks/ses', sesRoute(ctx)],
  ]);
  const files = filesRoute(o.distDir);
  const headers = securityHeaders(o.config.subscribeUrl);

  async function handle(req: IncomingMessage, res: ServerResponse, client: string): Promise<void> {
    if (!isValidHost(req.headers.host)) throw new HttpError(400, 'bad Host header');
    const url = requestUrl(req.url);
    const method = req.method ?? 'GET';
    const wantsJson = /application\/json/.test(req.headers.accept ?? '') || /application\/json/.test(req.headers['content-type'] ?? '');
    const route = routes.get(url.pathname) ?? files;
    if (route.methods && !route.methods.includes(method)) return methodNotAllowed(res, route.methods.join(', '));
    if (route.postWrites && method === 'POST') ctx.writable();
    return route.handle(req, res, { url, wantsJson, client });
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
      const refused = ctx.busy();
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
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
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
