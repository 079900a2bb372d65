// SPF (RFC 7208): reads a domain's policy and evaluates it for one sending address, as a receiver
// would: ip4, ip6, a, mx, include, redirect, exists and all, with the limits of 10 DNS lookups and 2
// void lookups and a time limit for the whole check (section 4.6.4). What cannot be evaluated from
// here (macros, ptr) is noted as uncertain and never matches. Parsing never throws: a record in any
// shape gives terms or a reason it is wrong.
import ipaddr from 'ipaddr.js';
import type { Answer, DnsLookup } from './dns-lookup.ts';

export type Qualifier = '+' | '-' | '~' | '?';
export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

export interface Mechanism {
  kind: 'mechanism';
  qualifier: Qualifier;
  name: 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';
  /** The domain the mechanism names (include, exists, a/mx/ptr with ":domain"). */
  domain?: string;
  /** The network of ip4 / ip6. */
  network?: string;
  cidr4?: number;
  cidr6?: number;
  /** As written in the record. */
  text: string;
}

export interface Modifier {
  kind: 'modifier';
  name: string;
  value: string;
}

export type Term = Mechanism | Modifier;
export type Parsed = { ok: true; terms: Term[] } | { ok: false; error: string };

/** Lookups a receiver makes at most for one check (RFC 7208 4.6.4). */
export const SPF_LOOKUP_LIMIT = 10;
/** Lookups that find nothing (no such name, or no record) a receiver allows before giving up (RFC 7208 4.6.4). */
export const SPF_VOID_LOOKUP_LIMIT = 2;
/** How long a receiver lets one check take, at least (RFC 7208 4.6.4); a slow zone must not hold `doctor` past it. */
export const SPF_TIME_LIMIT_MS = 20_000;

const RESULT_OF: Record<Qualifier, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };
const MECHANISM = /^([+\-~?]?)(all|include|exists|ptr|ip4|ip6|mx|a)(?=$|[:/])(.*)$/i;
const MODIFIER = /^([a-z][a-z0-9_.-]*)=(.*)$/i;
const DOMAIN_SPEC = /^[\x21-\x7e]+$/;

/** Whether a TXT record is an SPF record: "v=spf1" alone or followed by a space (RFC 7208 4.5). */
export function isSpfRecord(txt: string): boolean {
  return /^v=spf1(?: |$)/i.test(txt);
}

export function parseSpf(record: string): Parsed {
  if (!isSpfRecord(record)) return { ok: false, error: 'it does not start with "v=spf1"' };
  const terms: Term[] = [];
  for (const text of record.slice(6).split(' ').filter(Boolean)) {
    const term = parseTerm(text);
    if (typeof term === 'string') return { ok: false, error: term };
    if (term.kind === 'modifier' && (term.name === 'redirect' || term.name === 'exp') && terms.some((t) => t.kind === 'modifier' && t.name === term.name)) {
      return { ok: false, error: `"${term.name}=" is given twice` };
    }
    terms.push(term);
  }
  return { ok: true, terms };
}

function parseTerm(text: string): Term | string {
  const m = MECHANISM.exec(text);
  if (m) {
    const qualifier = (m[1] || '+') as Qualifier;
    const name = m[2]!.toLowerCase() as Mechanism['name'];
    const rest = m[3]!;
    const bad = `"${text}" is not a valid ${name} mechanism`;
    if (name === 'all') return rest === '' ? { kind: 'mechanism', qualifier, name, text } : bad;
    if (name === 'ip4' || name === 'ip6') {
      const ip = /^:([^/]+)(?:\/(\d{1,3}))?$/.exec(rest);
      if (!ip) return bad;
      const max = name === 'ip4' ? 32 : 128;
      const bits = ip[2] === undefined ? max : Number(ip[2]);
      const valid = name === 'ip4' ? ipaddr.IPv4.isValidFourPartDecimal(ip[1]!) : ipaddr.IPv6.isValid(ip[1]!);
      if (!valid || bits > max) return bad;
      return { kind: 'mechanism', qualifier, name, network: ip[1]!, ...(name === 'ip4' ? { cidr4: bits } : { cidr6: bits }), text };
    }
    if (name === 'include' || name === 'exists') {
      const d = /^:(.+)$/.exec(rest);
      return d && DOMAIN_SPEC.test(d[1]!) ? { kind: 'mechanism', qualifier, name, domain: d[1]!, text } : bad;
    }
    if (name === 'ptr') {
      const d = /^(?::(.+))?$/.exec(rest);
      return d && (d[1] === undefined || DOMAIN_SPEC.test(d[1])) ? { kind: 'mechanism', qualifier, name, ...(d[1] ? { domain: d[1] } : {}), text } : bad;
    }
    // a and mx: [":" domain] ["/" cidr4] ["//" cidr6]
    const d = /^(?::([^/]+))?(?:\/(\d{1,2}))?(?:\/\/(\d{1,3}))?$/.exec(rest);
    if (!d || (d[1] !== undefined && !DOMAIN_SPEC.test(d[1]))) return bad;
    const cidr4 = d[2] === undefined ? 32 : Number(d[2]);
    const cidr6 = d[3] === undefined ? 128 : Number(d[3]);
    if (cidr4 > 32 || cidr6 > 128) return bad;
    return { kind: 'mechanism', qualifier, name, ...(d[1] ? { domain: d[1] } : {}), cidr4, cidr6, text };
  }
  const mod = MODIFIER.exec(text);
  if (mod) return { kind: 'modifier', name: mod[1]!.toLowerCase(), value: mod[2]! };
  return `"${text}" is neither a mechanism nor a modifier`;
}

export interface SpfVerdict {
  result: SpfResult;
  /** Why: the mechanism that matched, or what went wrong. */
  reason: string;
  /** The record's (or its redirect's) final "all", e.g. "~all"; undefined when it has none. */
  all?: string;
  /** DNS lookups counted against the limit. */
  lookups: number;
  /** Parts that could not be evaluated here (macros, ptr). */
  uncertain: string[];
}

interface Context {
  dns: DnsLookup;
  ip: ipaddr.IPv4 | ipaddr.IPv6;
  lookups: number;
  voids: number;
  uncertain: string[];
}

/** The clock the time limit is kept on, passed in so that a test can move it. */
export interface SpfClock {
  now: () => number;
  timeLimitMs: number;
}

class Stop extends Error {
  constructor(readonly result: 'permerror' | 'temperror', readonly reason: string) {
    super(reason);
  }
}

/** The SPF result of `domain` for mail from `ip` (RFC 7208 check_host, without macros). */
export async function checkSpf(dns: DnsLookup, domain: string, ip: string, clock: SpfClock = { now: Date.now, timeLimitMs: SPF_TIME_LIMIT_MS }): Promise<SpfVerdict> {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(ip);
  } catch {
    return { result: 'permerror', reason: `"${ip}" is not an IP address`, lookups: 0, uncertain: [] };
  }
  const ctx: Context = { dns: timed(dns, clock), ip: parsed, lookups: 0, voids: 0, uncertain: [] };
  try {
    const r = await checkHost(ctx, domain.toLowerCase(), [domain.toLowerCase()]);
    return { ...r, lookups: ctx.lookups, uncertain: ctx.uncertain };
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { result: err.result, reason: err.reason, lookups: ctx.lookups, uncertain: ctx.uncertain };
  }
}

/** The one SPF record of a domain, or why there is none to use. */
export async function spfRecordOf(dns: DnsLookup, domain: string): Promise<{ record: string } | { result: 'none' | 'permerror' | 'temperror'; reason: string }> {
  const txt = await dns.txt(domain);
  if (txt.kind === 'failed') return { result: 'temperror', reason: `the TXT lookup of ${domain} failed: ${txt.reason}` };
  const records = txt.kind === 'found' ? txt.records.filter(isSpfRecord) : [];
  if (records.length === 0) return { result: 'none', reason: `${domain} has no SPF record` };
  if (records.length > 1) return { result: 'permerror', reason: `${domain} has ${records.length} SPF records (receivers take none of them)` };
  return { record: records[0]! };
}

/** `dns` that refuses to start a query once the check's time is up. */
function timed(dns: DnsLookup, clock: SpfClock): DnsLookup {
  const deadline = clock.now() + clock.timeLimitMs;
  const guard = <T>(ask: () => Promise<Answer<T>>): Promise<Answer<T>> => {
    if (clock.now() > deadline) throw new Stop('temperror', `no result within ${clock.timeLimitMs / 1000} s, after which receivers give up too`);
    return ask();
  };
  return {
    txt: (n) => guard(() => dns.txt(n)),
    a: (n) => guard(() => dns.a(n)),
    aaaa: (n) => guard(() => dns.aaaa(n)),
    mx: (n) => guard(() => dns.mx(n)),
  };
}

/** Counts a lookup of `what` that found nothing against the void lookup limit. */
function countVoid<T>(ctx: Context, records: T[], what: string): T[] {
  if (records.length === 0 && ++ctx.voids > SPF_VOID_LOOKUP_LIMIT) {
    throw new Stop('permerror', `more than ${SPF_VOID_LOOKUP_LIMIT} lookups that found nothing (the limit was passed at ${what})`);
  }
  return records;
}

function count(ctx: Context, what: string): void {
  ctx.lookups++;
  if (ctx.lookups > SPF_LOOKUP_LIMIT) throw new Stop('permerror', `more than ${SPF_LOOKUP_LIMIT} DNS lookups (the limit was passed at ${what})`);
}

async function checkHost(ctx: Context, domain: string, chain: string[]): Promise<Omit<SpfVerdict, 'lookups' | 'uncertain'>> {
  const found = await spfRecordOf(ctx.dns, domain);
  if (!('record' in found)) return found;
  const parsed = parseSpf(found.record);
  if (!parsed.ok) throw new Stop('permerror', `the SPF record of ${domain} is invalid: ${parsed.error}`);
  const mechanisms = parsed.terms.filter((t): t is Mechanism => t.kind === 'mechanism');
  const allTerm = mechanisms.find((m) => m.name === 'all');
  const all = allTerm ? `${allTerm.qualifier}all` : undefined;
  for (const m of mechanisms) {
    if (await matches(ctx, m, domain, chain)) {
      return { result: RESULT_OF[m.qualifier], reason: m.name === 'all' ? `${m.text} in ${domain}` : `${m.text} in ${domain} matches`, all };
    }
  }
  // redirect= applies only when no "all" is present (RFC 7208 6.1).
  const redirect = parsed.terms.find((t): t is Modifier => t.kind === 'modifier' && t.name === 'redirect');
  if (redirect && !allTerm) {
    const target = redirect.value.toLowerCase();
    if (target.includes('%')) {
      ctx.uncertain.push(`redirect=${redirect.value} (a macro)`);
      return { result: 'neutral', reason: `redirect=${redirect.value} uses a macro, which is not evaluated here` };
    }
    count(ctx, `redirect=${target}`);
    if (chain.includes(target)) throw new Stop('permerror', `a loop: ${[...chain, target].join(' → ')}`);
    const r = await checkHost(ctx, target, [...chain, target]);
    if (r.result === 'none') throw new Stop('permerror', `redirect=${target} has no SPF record`);
    return r;
  }
  return { result: 'neutral', reason: `nothing in the SPF record of ${domain} matches`, all };
}

async function matches(ctx: Context, m: Mechanism, current: string, chain: string[]): Promise<boolean> {
  const target = (m.domain ?? current).toLowerCase();
  if (m.domain?.includes('%')) {
    if (['include', 'a', 'mx', 'exists', 'ptr'].includes(m.name)) count(ctx, m.text);
    ctx.uncertain.push(`${m.text} (a macro)`);
    return false;
  }
  switch (m.name) {
    case 'all':
      return true;
    case 'ip4':
    case 'ip6':
      return inNetwork(ctx.ip, m.network!, m.name === 'ip4' ? m.cidr4! : m.cidr6!);
    case 'a':
      count(ctx, m.text);
      return matchesHost(ctx, target, m, true);
    case 'mx': {
      count(ctx, m.text);
      const mx = countVoid(ctx, answerOf(await ctx.dns.mx(target), `the MX lookup of ${target}`), m.text);
      // Receivers look up at most 10 MX hosts' addresses (RFC 7208 4.6.4).
      if (mx.length > SPF_LOOKUP_LIMIT) throw new Stop('permerror', `${m.text}: ${target} has more than ${SPF_LOOKUP_LIMIT} MX hosts`);
      for (const host of mx) if (await matchesHost(ctx, host.exchange.toLowerCase(), m)) return true;
      return false;
    }
    case 'ptr':
      count(ctx, m.text);
      ctx.uncertain.push(`${m.text} (ptr, which receivers are asked not to rely on)`);
      return false;
    case 'exists': {
      count(ctx, m.text);
      return countVoid(ctx, answerOf(await ctx.dns.a(target), `the A lookup of ${target}`), m.text).length > 0;
    }
    case 'include': {
      count(ctx, m.text);
      if (chain.includes(target)) throw new Stop('permerror', `a loop: ${[...chain, target].join(' → ')}`);
      const r = await checkHost(ctx, target, [...chain, target]);
      if (r.result === 'none') throw new Stop('permerror', `${m.text}: ${target} has no SPF record`);
      if (r.result === 'permerror' || r.result === 'temperror') throw new Stop(r.result, r.reason);
      return r.result === 'pass';
    }
  }
}

/** Whether `host` has the sending address; `term` when the lookup is the mechanism's own (a), not one of an mx's hosts. */
async function matchesHost(ctx: Context, host: string, m: Mechanism, term = false): Promise<boolean> {
  const v4 = ctx.ip.kind() === 'ipv4';
  const found = answerOf(await (v4 ? ctx.dns.a(host) : ctx.dns.aaaa(host)), `the ${v4 ? 'A' : 'AAAA'} lookup of ${host}`);
  const addresses = term ? countVoid(ctx, found, m.text) : found;
  return addresses.some((a) => inNetwork(ctx.ip, a, v4 ? (m.cidr4 ?? 32) : (m.cidr6 ?? 128)));
}

function answerOf<T>(answer: Answer<T>, what: string): T[] {
  if (answer.kind === 'failed') throw new Stop('temperror', `${what} failed: ${answer.reason}`);
  return answer.kind === 'found' ? answer.records : [];
}

function inNetwork(ip: ipaddr.IPv4 | ipaddr.IPv6, network: string, bits: number): boolean {
  try {
    const net = ipaddr.parse(network);
    return net.kind() === ip.kind() && ip.match(net, bits);
  } catch {
    return false;
  }
}
