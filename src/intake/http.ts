// The one HTTP client intake uses (news fetch and news add): undici, with a deadline for the whole
// fetch, a size limit counted while the body streams in (decoded bytes, so a small gzip bomb is cut
// off too), gzip/deflate/br decoding, conditional requests, and redirects followed here one hop at a
// time so that each new address passes the address guard before anything is sent to it.
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import { AddressRefused, checkLiteral, checkUrl, guardedLookup, literalAddress, type AllowedRanges } from './address-guard.ts';

export interface FetchOptions {
  /** The whole fetch, every hop and the body included. */
  timeoutMs: number;
  /** Decoded bytes of the body. */
  maxBytes: number;
  userAgent: string;
  accept: string;
  allowed: AllowedRanges;
  etag?: string;
  lastModified?: string;
  signal?: AbortSignal;
}

export type Fetched =
  | { status: 'not-modified'; url: string }
  | { status: 'ok'; url: string; body: Buffer; contentType: string; etag?: string; lastModified?: string };

/** Why a fetch gave nothing; its message completes "<source>: …" for the user. */
export class FetchFailed extends Error {
  override name = 'FetchFailed';
  readonly code = 'EFETCH';
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One agent per set of allowed address kinds; each checks every address it connects to. */
export class HttpClient {
  private readonly agents = new Map<string, Agent>();

  private agent(allowed: AllowedRanges): Dispatcher {
    const key = [...allowed].sort().join(',');
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({ connect: { lookup: guardedLookup(allowed) }, connections: 8, keepAliveTimeout: 4000 });
      this.agents.set(key, agent);
    }
    return agent;
  }

  async get(url: string, o: FetchOptions): Promise<Fetched> {
    const deadline = AbortSignal.timeout(o.timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
    try {
      return await this.follow(url, o, signal);
    } catch (err) {
      if (deadline.aborted) throw new FetchFailed(`no complete answer within ${o.timeoutMs / 1000} s`);
      if (o.signal?.aborted) throw new FetchFailed('stopped');
      throw asFetchFailed(err);
    }
  }

  private async follow(start: string, o: FetchOptions, signal: AbortSignal): Promise<Fetched> {
    let current = start;
    for (let hop = 0; ; hop++) {
      const url = checkUrl(current);
      const literal = literalAddress(url);
      if (literal !== undefined) checkLiteral(literal, o.allowed);
      const headers: Record<string, string> = { 'user-agent': o.userAgent, accept: o.accept, 'accept-encoding': 'gzip, deflate, br' };
      // The validators came from the feed at the end of the redirects: each hop gets them, and only
      // that feed can match them.
      if (o.etag) headers['if-none-match'] = o.etag;
      if (o.lastModified) headers['if-modified-since'] = o.lastModified;
      const res = await request(url, { method: 'GET', headers, signal, dispatcher: this.agent(o.allowed) });
      if (REDIRECTS.has(res.statusCode)) {
        await res.body.dump();
        const location = header(res.headers, 'location');
        if (!location) throw new FetchFailed(`HTTP ${res.statusCode} without a Location header`);
        if (hop + 1 > MAX_REDIRECTS) throw new FetchFailed(`more than ${MAX_REDIRECTS} redirects`);
        current = new URL(location, url).href;
        continue;
      }
      if (res.statusCode === 304) {
        await res.body.dump();
        // Without validators sent there is no version to be unchanged from: taken as "unchanged",
        // such a server would never be read and never be reported.
        if (!o.etag && !o.lastModified) throw new FetchFailed('HTTP 304 (not modified) to a request that named no version');
        return { status: 'not-modified', url: url.href };
      }
      if (res.statusCode < 200 || res.statusCode > 299) {
        await res.body.dump();
        throw new FetchFailed(`HTTP ${res.statusCode}`);
      }
      const declared = Number(header(res.headers, 'content-length'));
      const encoding = (header(res.headers, 'content-encoding') ?? 'identity').trim().toLowerCase();
      if (encoding === 'identity' && declared > o.maxBytes) {
        res.body.destroy();
        throw tooLarge(o.maxBytes);
      }
      const body = await readBody(res.body, encoding, o.maxBytes, signal);
      return {
        status: 'ok',
        url: url.href,
        body,
        contentType: header(res.headers, 'content-type') ?? '',
        etag: header(res.headers, 'etag'),
        lastModified: header(res.headers, 'last-modified'),
      };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
    this.agents.clear();
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function tooLarge(max: number): FetchFailed {
  return new FetchFailed(`larger than the limit of ${max.toLocaleString('en')} bytes`);
}

function decoder(encoding: string): Transform | undefined {
  switch (encoding) {
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      throw new FetchFailed(`a body in an encoding Almanac does not read: ${JSON.stringify(encoding.slice(0, 40))}`);
  }
}

/** The body, decoded, stopped (and the connection closed) as soon as it passes `max` bytes. */
async function readBody(body: Readable, encoding: string, max: number, signal: AbortSignal): Promise<Buffer> {
  let decode: Transform | undefined;
  try {
    decode = decoder(encoding);
  } catch (err) {
    body.destroy();
    throw err;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > max) throw tooLarge(max);
      chunks.push(chunk);
    }
  };
  try {
    if (decode) await pipeline(body, decode, collect, { signal });
    else await pipeline(body, collect, { signal });
  } catch (err) {
    // Stopping at the limit tears the other streams down, and their "aborted" may be what the
    // pipeline reports: the limit is the reason.
    if (total > max) throw tooLarge(max);
    throw err;
  }
  return Buffer.concat(chunks, total);
}

/** A failure in words a user can act on, whatever layer it came from. */
function asFetchFailed(err: unknown): FetchFailed {
  if (err instanceof FetchFailed) return err;
  if (err instanceof AddressRefused) return new FetchFailed(`refused: ${err.message}`);
  const cause = err instanceof Error && err.cause instanceof AddressRefused ? err.cause : undefined;
  if (cause) return new FetchFailed(`refused: ${cause.message}`);
  const code = (err as { code?: string } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new FetchFailed('the host name does not resolve');
  if (code === 'ECONNREFUSED') return new FetchFailed('the connection was refused');
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return new FetchFailed('the connection was closed before the answer was complete');
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'ERR_BROTLI_DECOMPRESSION_FAILED') return new FetchFailed('a compressed body that does not decompress');
  return new FetchFailed(message);
}
