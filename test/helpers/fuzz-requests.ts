// Generated HTTP requests for fuzzing `serve`, as raw bytes (so nothing normalises them on the way),
// and the checks every answer must pass. Seeded: a failing run is replayed with its seed.
import { copyFile, cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { PROJECT, almanac } from './cli.ts';
import { parseResponse, type RawResponse } from './serve.ts';

export const CANARY = 'CANARY-5f1d9c0e-never-served';

const SEGMENTS = [
  '', '.', '..', '...', '%2e', '%2E', '%2e%2e', '.%2e', '%2e.', '%252e%252e', '%25%32%65', '%c0%ae', '%c0%ae%c0%ae', '%e0%80%ae', '%e0%80%ae%e0%80%ae',
  '%c0%af', '%e0%80%af', '%c1%9c', '%2f', '%2F', '%252f', '%5c', '%5C', '\\', '%00', '%00.html', '%ff', '%', '%g0', '%25', 'é', '%C3%A9', ';', '@evil.example',
  'evil.example', 'guides', 'meta', 'assets', 'style.css', 'index.html', '404.html', 'feeds', 'guides.atom', 'healthz', 'subscribe', 'unsubscribe',
  'preferences', 'confirm', 'canary.txt', 'dist2', 'dist', 'almanac.config.json', '.almanac', 'almanac.db', 'etc', 'passwd',
];
const PREFIXES = ['/', '/', '/', '//', '/\\', '/./', '/.//', '/%2f', '/%5c', 'http://evil.example/', 'http://localhost/', '*', '', 'guides/'];
const QUERIES = ['', '', '', '?token=x', '?token=u.1.0.AAAA', '?a=%00', '?', '?token=' + 'z'.repeat(3000), '#frag'];
const ROUTES = ['/subscribe', '/subscribe', '/unsubscribe?token=u.1.0.AAAA', '/preferences?token=p.1.0.AAAA', '/confirm?token=c.1.0.AAAA', '/guides/meta/', '/guides/meta', '/guides', '/assets/style.css', '/healthz', '/', '/no/such/page'];
const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'FOO', 'get', 'M-SEARCH'];
const HOSTS = ['localhost', '127.0.0.1', 'localhost:4000', 'evil.example', '', '[::1]:80', 'a b', 'localhost:99999', 'x'.repeat(300), '@evil.example', 'localhost\u00e9', undefined];
const TYPES = [
  undefined,
  'application/x-www-form-urlencoded',
  'application/json',
  'multipart/form-data; boundary=XyZ',
  'text/plain',
  'application/octet-stream',
  'application/json; charset=utf-16',
];
const BODY_SIZES = [0, 0, 1, 20, 200, 4096, 16 * 1024, 16 * 1024 + 1, 40_000];

function body(type: string | undefined, size: number, text: string): string {
  let start: string;
  if (type?.startsWith('application/json')) start = JSON.stringify({ email: text, editions: ['sunday', text] });
  else if (type?.startsWith('multipart')) start = `--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\n${text}\r\n--XyZ--\r\n`;
  else if (type === 'application/x-www-form-urlencoded') start = `email=${encodeURIComponent(text)}&editions=midweek&List-Unsubscribe=One-Click`;
  else start = text;
  return (start + 'x'.repeat(Math.max(0, size - Buffer.byteLength(start)))).slice(0, Math.max(size, 0) || start.length);
}

export interface FuzzRequest {
  label: string;
  bytes: Buffer;
}

export function requestArbitrary(): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.oneof({ arbitrary: fc.constantFrom(...METHODS), weight: 2 }, { arbitrary: fc.constant('POST'), weight: 1 }),
      route: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.constantFrom(...ROUTES), weight: 2 }),
      prefix: fc.oneof({ arbitrary: fc.constant('/'), weight: 3 }, { arbitrary: fc.constantFrom(...PREFIXES), weight: 2 }),
      segments: fc.oneof({ arbitrary: fc.constant([]), weight: 1 }, { arbitrary: fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 6 }), weight: 2 }),
      slash: fc.boolean(),
      // Ending on a real folder without its slash makes the server redirect: where to is the question.
      folder: fc.oneof({ arbitrary: fc.constant(''), weight: 2 }, { arbitrary: fc.constantFrom('guides', 'guides/meta', 'assets', 'feeds', '.', '..%2fguides'), weight: 1 }),
      query: fc.constantFrom(...QUERIES),
      host: fc.oneof({ arbitrary: fc.constant('localhost'), weight: 3 }, { arbitrary: fc.constantFrom(...HOSTS), weight: 1 }),
      type: fc.constantFrom(...TYPES),
      size: fc.constantFrom(...BODY_SIZES),
      declared: fc.constantFrom('exact', 'exact', 'chunked', 'none', 'short', 'huge'),
      text: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 40 }), fc.constant('a@b.co\r\nBcc: x@y.z')),
      accept: fc.constantFrom(undefined, 'application/json', 'text/html'),
      forwarded: fc.constantFrom(undefined, '203.0.113.1', 'garbage, 10.0.0.1', '::1'),
      padding: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constantFrom(1000, 8000, 15_000, 17_000, 70_000), weight: 1 }),
      version: fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 8 }, { arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', 'HTTP/0.9'), weight: 1 }),
    })
    .map((r) => {
      const target = r.route ?? `${r.prefix}${[...r.segments, ...(r.folder ? [r.folder] : [])].join('/')}${r.slash && !r.folder ? '/' : ''}${r.query}`;
      const payload = r.method === 'GET' && r.size > 0 && r.declared === 'none' ? '' : body(r.type, r.size, r.text);
      const headers: string[] = [];
      if (r.host !== undefined) headers.push(`Host: ${r.host}`);
      if (r.type) headers.push(`Content-Type: ${r.type}`);
      if (r.accept) headers.push(`Accept: ${r.accept}`);
      if (r.forwarded) headers.push(`X-Forwarded-For: ${r.forwarded}`);
      if (r.padding) headers.push(`X-Padding: ${'p'.repeat(r.padding)}`);
      headers.push('Connection: close');
      let wire = payload;
      if (payload) {
        if (r.declared === 'exact') headers.push(`Content-Length: ${Buffer.byteLength(payload)}`);
        else if (r.declared === 'short') headers.push(`Content-Length: ${Math.floor(Buffer.byteLength(payload) / 2)}`);
        else if (r.declared === 'huge') headers.push(`Content-Length: ${Buffer.byteLength(payload) * 1000}`);
        else if (r.declared === 'chunked') {
          headers.push('Transfer-Encoding: chunked');
          wire = `${Buffer.byteLength(payload).toString(16)}\r\n${payload}\r\n0\r\n\r\n`;
        }
      }
      const head = `${r.method} ${target} ${r.version}\r\n${headers.join('\r\n')}\r\n\r\n`;
      return { label: `${r.method} ${target.slice(0, 120)} (${r.type ?? 'no type'}, ${payload.length} bytes ${r.declared}, host ${String(r.host).slice(0, 20)}, padding ${r.padding})`, bytes: Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(wire)]) };
    });
}

export function generate(seed: number, count: number): FuzzRequest[] {
  return fc.sample(requestArbitrary(), { seed, numRuns: count });
}

/** Sends one request and reads until the server closes or `timeoutMs` passes. */
export function send(port: number, request: FuzzRequest, timeoutMs = 10_000): Promise<RawResponse & { timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ...parseResponse(Buffer.concat(chunks)), timedOut });
    });
    // A request whose body is cut short ("short", "huge" lengths) waits for bytes that never come:
    // the client hangs up after writing, as a real one eventually would.
    socket.write(request.bytes, () => setTimeout(() => socket.end(), 50));
  });
}

/** What is wrong with an answer, or undefined. */
export function violation(res: RawResponse & { timedOut: boolean }): string | undefined {
  if (res.timedOut) return 'no answer and the connection was not closed';
  if (res.status >= 500) return `answered ${res.status}`;
  const location = res.headers.location;
  if (location !== undefined && !/^\/(?![/\\])[^\s\u0000-\u001f\\]*$/.test(location)) return `redirects off-site or to a malformed place: ${location}`;
  if (res.body.includes(CANARY)) return 'served a file from outside dist/';
  return undefined;
}

/** Runs `requests` with `concurrency` in flight; returns the failures (request label and what was wrong). */
export async function run(port: number, requests: FuzzRequest[], concurrency = 16, onEach?: (res: RawResponse) => void): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const request = requests[next++]!;
        const res = await send(port, request);
        onEach?.(res);
        const wrong = violation(res);
        if (wrong) failures.push(`${request.label}: ${wrong}`);
      }
    }),
  );
  return failures;
}

/** A built site at <outer>/site with canary files where a path escape would land. */
export async function plantedSite(): Promise<string> {
  const outer = await mkdtemp(path.join(os.tmpdir(), 'almanac-fuzz-'));
  const root = path.join(outer, 'site');
  await cp(path.join(PROJECT, 'content'), path.join(root, 'content'), { recursive: true });
  await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
  const built = await almanac(['build', '--root', root]);
  if (built.code !== 0) throw new Error(`build failed: ${built.stderr}`);
  await writeFile(path.join(outer, 'canary.txt'), CANARY);
  await writeFile(path.join(root, 'canary.txt'), CANARY);
  await mkdir(path.join(root, 'dist2'), { recursive: true });
  await writeFile(path.join(root, 'dist2', 'canary.txt'), CANARY);
  await writeFile(path.join(root, 'dist2', 'index.html'), CANARY);
  return root;
}
