// A loopback HTTP server that serves feeds to `news fetch` and `news add` in tests: fixtures from
// test/fixtures/feeds/, with ETag answers (304), compression, redirects, and misbehaviours (a server
// that never answers, a body of 50 MB streamed as it is read).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { PROJECT } from './cli.ts';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface FeedServer {
  /** The server's origin, e.g. http://127.0.0.1:40123 */
  origin: string;
  url(p: string): string;
  /** Requests per path, with the headers they came with. */
  requests: { path: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export function fixture(name: string): Buffer {
  return readFileSync(path.join(PROJECT, 'test/fixtures/feeds', name));
}

/** Serves `body` with an ETag and Last-Modified, answering 304 when the client already has it. */
export function serve(body: Buffer | string, contentType: string, options: { encoding?: 'gzip' | 'br'; validators?: boolean } = {}): Handler {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const etag = `"${bytes.length.toString(16)}-${bytes.subarray(0, 64).toString('hex').slice(0, 16)}"`;
  const encoded = options.encoding === 'gzip' ? zlib.gzipSync(bytes) : options.encoding === 'br' ? zlib.brotliCompressSync(bytes) : bytes;
  return (req, res) => {
    const validators = options.validators !== false;
    if (validators && req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': contentType, 'content-length': encoded.length };
    if (validators) Object.assign(headers, { etag, 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' });
    if (options.encoding) headers['content-encoding'] = options.encoding;
    res.writeHead(200, headers);
    res.end(encoded);
  };
}

export function redirect(location: string, status = 301): Handler {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

/** Holds each request until `count` are waiting, then lets `handler` answer them all at once. */
export function together(count: number, handler: Handler): Handler {
  let waiting: (() => void)[] = [];
  return (req, res) => {
    waiting.push(() => handler(req, res));
    if (waiting.length < count) return;
    const now = waiting;
    waiting = [];
    for (const answer of now) answer();
  };
}

/** Never answers: the client's deadline has to end the request. */
export const hang: Handler = () => undefined;

/** Streams `total` bytes of a feed that never ends, as fast as the client reads; `sent` counts them. */
export function huge(total: number, sent: { bytes: number }): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    const chunk = Buffer.alloc(64 * 1024, ' ');
    res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title><description>');
    const pump = () => {
      while (sent.bytes < total && !res.destroyed) {
        sent.bytes += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('</description></channel></rss>');
    };
    pump();
  };
}

export async function startFeedServer(routes: Record<string, Handler>): Promise<FeedServer> {
  const requests: FeedServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0]!;
    requests.push({ path: p, headers: req.headers });
    const handler = routes[p];
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (p) => `${origin}${p}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
