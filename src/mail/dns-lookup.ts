// DNS as the deliverability checks see it: each answer is records, "none" (no such name, or no record
// of that type) or a failure that says why (no answer in time, the server refused). Every query has
// its own deadline, so a resolver that never answers cannot hold `doctor`.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export type Answer<T> = { kind: 'found'; records: T[] } | { kind: 'none' } | { kind: 'failed'; reason: string };

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface DnsLookup {
  /** Each TXT record with its strings joined, as SPF, DKIM and DMARC read them (RFC 7208 3.3). */
  txt(name: string): Promise<Answer<string>>;
  a(name: string): Promise<Answer<string>>;
  aaaa(name: string): Promise<Answer<string>>;
  mx(name: string): Promise<Answer<MxRecord>>;
}

export interface ResolverSettings {
  /** "ip" or "ip:port" ("[v6]:port"); empty for the system's resolvers. */
  servers: string[];
  /** The longest one query may take, retries included. */
  deadlineMs: number;
}

export const DNS_DEADLINE_MS = 4000;

/** Whether `server` is an address node:dns takes: "192.0.2.1", "192.0.2.1:5353", "::1", "[::1]:5353". */
export function isResolverAddress(server: string): boolean {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(server) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(server);
  if (m) return isIP(m[1]!) !== 0 && (m[2] === undefined || (Number(m[2]) > 0 && Number(m[2]) < 65536));
  return isIP(server) === 6;
}

const NONE_CODES = new Set(['ENOTFOUND', 'ENODATA']);
const WORDS: Record<string, string> = {
  ETIMEOUT: 'no answer in time',
  ECONNREFUSED: 'the resolver refused the connection',
  ESERVFAIL: 'the server failed (SERVFAIL)',
  EREFUSED: 'the server refused the query (REFUSED)',
  EBADRESP: 'a malformed answer',
  ECANCELLED: 'no answer in time',
};

export function nodeDnsLookup(settings: ResolverSettings): DnsLookup {
  const ask = async <T>(query: (resolver: Resolver) => Promise<T[]>): Promise<Answer<T>> => {
    // A resolver per query: cancel() ends every query of its resolver, and only this one is late.
    const resolver = new Resolver({ timeout: Math.max(100, Math.floor(settings.deadlineMs / 2)), tries: 2 });
    if (settings.servers.length > 0) resolver.setServers(settings.servers);
    let timer: NodeJS.Timeout | undefined;
    try {
      const records = await Promise.race([
        query(resolver),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            resolver.cancel();
            reject(Object.assign(new Error('deadline'), { code: 'ETIMEOUT' }));
          }, settings.deadlineMs);
        }),
      ]);
      return records.length > 0 ? { kind: 'found', records } : { kind: 'none' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (NONE_CODES.has(code)) return { kind: 'none' };
      return { kind: 'failed', reason: code === 'ETIMEOUT' || code === 'ECANCELLED' ? `no answer within ${settings.deadlineMs / 1000} s` : (WORDS[code] ?? code) || 'an unknown failure' };
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    txt: (name) => ask(async (r) => (await r.resolveTxt(name)).map((strings) => strings.join(''))),
    a: (name) => ask((r) => r.resolve4(name)),
    aaaa: (name) => ask((r) => r.resolve6(name)),
    mx: (name) => ask((r) => r.resolveMx(name)),
  };
}

/**
 * Each name and type asked of `inner` once: the SPF of every relay address walks the same records, and
 * a slow resolver would otherwise be waited on again for each. A query still under way is shared.
 */
export function cachedLookup(inner: DnsLookup): DnsLookup {
  const answers = new Map<string, Promise<Answer<unknown>>>();
  const once = <T>(type: string, name: string, ask: () => Promise<Answer<T>>): Promise<Answer<T>> => {
    const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`;
    let answer = answers.get(key);
    if (!answer) answers.set(key, (answer = ask()));
    return answer as Promise<Answer<T>>;
  };
  return {
    txt: (n) => once('TXT', n, () => inner.txt(n)),
    a: (n) => once('A', n, () => inner.a(n)),
    aaaa: (n) => once('AAAA', n, () => inner.aaaa(n)),
    mx: (n) => once('MX', n, () => inner.mx(n)),
  };
}

/** Counts the answers and failures of `inner`, so a caller can tell "the resolver answered nothing at all". */
export function countingLookup(inner: DnsLookup): DnsLookup & { answered: () => number; failed: () => number } {
  let answered = 0;
  let failed = 0;
  const count = <T>(p: Promise<Answer<T>>): Promise<Answer<T>> =>
    p.then((a) => {
      if (a.kind === 'failed') failed++;
      else answered++;
      return a;
    });
  return {
    txt: (n) => count(inner.txt(n)),
    a: (n) => count(inner.a(n)),
    aaaa: (n) => count(inner.aaaa(n)),
    mx: (n) => count(inner.mx(n)),
    answered: () => answered,
    failed: () => failed,
  };
}
