// Request hardening both servers (serve and preview) can share: a failure that belongs to one request
// (HttpError), a bounded body reader that never tears the connection down under the response, a
// redirect target that can only be a path on this site, a Host header syntax check, and a 4xx for
// requests Node cannot parse.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** A failure answered with `status` for this request alone. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const MAX_BODY = 16 * 1024;

/**
 * A request body as text, refused beyond `limit` bytes with a 413. The stream is paused, not
 * destroyed: the caller can still answer on the socket (and should close the connection after).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, 'body too large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new HttpError(413, 'body too large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new HttpError(400, `request body: ${err.message}`));
    };
    const onAborted = () => onError(new Error('aborted by the client'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/**
 * A Location that can only point at a path on this site: one leading slash, never `//` or `/\`
 * (which browsers read as another host), no scheme, no control characters. Anything else becomes `/`.
 */
export function safeRedirectPath(target: string): string {
  if (!target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) return '/';
  if (/[\u0000-\u001f\u007f\\]/.test(target)) return '/';
  // What a browser would make of it, resolved against a placeholder origin, must stay on that origin.
  const resolved = new URL(target, 'http://same.invalid');
  if (resolved.origin !== 'http://same.invalid') return '/';
  return `${resolved.pathname}${resolved.search}`;
}

/** A URL path from file-system path segments, each percent-encoded: for Location headers. */
export function encodePath(segments: readonly string[]): string {
  return `/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

// Underscores are not valid in host names but common in container service names: allowed.
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** A syntactically valid Host header (name or address, optional port), the only kind answered. */
export function isValidHost(host: string | undefined): boolean {
  return host === undefined || (host.length <= 260 && HOST.test(host));
}

/**
 * Answers a request Node could not parse (bad request line, headers over the limit, a broken chunk):
 * always a 4xx, since the fault is the client's, then closes the connection.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, headers: Record<string, string> = {}): void {
  if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') return void socket.destroy();
  const code = (err as { code?: string }).code ?? '';
  const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}
