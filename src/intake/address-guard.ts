// Where intake may connect: public http(s) addresses only. A feed, or a redirect it answers with, must
// not make Almanac fetch from the machine it runs on or its private network (a router's admin page,
// a cloud's metadata service). The check runs on the address the connection actually uses: a name
// is resolved once, checked, and that address is the one connected to.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The kinds of non-public address a fetch may still reach: empty in production. When a site allows
 * private sources (for local tests), a source on such an address may be fetched, and so may what it
 * redirects to on an address of the same kind, never another kind.
 */
export type AllowedRanges = ReadonlySet<string>;

export const PUBLIC_ONLY: AllowedRanges = new Set();

/** A fetch refused before it was made; `reason` completes "refused: …". */
export class AddressRefused extends Error {
  override name = 'AddressRefused';
  readonly code = 'EADDRESSREFUSED';
}

/** The only IPv6 block assigned for global unicast. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** The kind of an IP address as ipaddr.js names it; a public address is "unicast". */
export function addressRange(address: string): string {
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
  const ip = ipaddr.process(address);
  const range = ip.range();
  // ipaddr.js calls any IPv6 address outside its special blocks "unicast": the deprecated
  // IPv4-compatible ::7f00:1 (127.0.0.1 to systems that still tunnel them) among them.
  if (range === 'unicast' && ip.kind() === 'ipv6' && !(ip as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return 'reserved';
  return range;
}

export function isAllowedAddress(address: string, allowed: AllowedRanges): boolean {
  if (!ipaddr.isValid(address)) return false;
  const range = addressRange(address);
  return range === 'unicast' || allowed.has(range);
}

/** The host of an http(s) URL, or a refusal: no other scheme, no user name or password in it. */
export function checkUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AddressRefused(`not a URL: ${JSON.stringify(raw.slice(0, 100))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AddressRefused(`not an http(s) URL: ${url.protocol}`);
  if (url.username || url.password) throw new AddressRefused('a URL with a user name or password');
  return url;
}

/** The host of a URL as an IP address, if it is one (brackets of IPv6 removed). */
export function literalAddress(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(host) ? host : undefined;
}

/**
 * A lookup for net/tls connect that refuses a name resolving to any address not allowed: one
 * forbidden answer among several is enough, as the connection could use any of them.
 */
export function guardedLookup(allowed: AllowedRanges): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const refused = addresses.find((a) => !isAllowedAddress(a.address, allowed));
      if (refused || addresses.length === 0) {
        const why = refused ? `${hostname} resolves to ${refused.address}, ${describeRange(refused.address)}` : `${hostname} has no address`;
        return callback(new AddressRefused(why));
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as LookupFunction;
}

/** Checks an address that needs no lookup (an IP literal in a URL). */
export function checkLiteral(address: string, allowed: AllowedRanges): void {
  if (!isAllowedAddress(address, allowed)) throw new AddressRefused(`${address} is ${describeRange(address)}`);
}

export function describeRange(address: string): string {
  const range = ipaddr.isValid(address) ? addressRange(address) : 'invalid';
  const words: Record<string, string> = {
    loopback: 'a loopback address',
    private: 'a private address',
    linkLocal: 'a link-local address',
    uniqueLocal: 'a unique-local address',
    unspecified: 'an unspecified address',
    carrierGradeNat: 'a shared (carrier-grade NAT) address',
  };
  return `${words[range] ?? `a non-public address (${range})`}, not a public one`;
}

/**
 * The kinds of address a source may use: its own kind when the site allows private sources and the
 * source is on one, otherwise public ones only.
 */
export async function rangesForSource(url: URL, allowPrivate: boolean): Promise<AllowedRanges> {
  if (!allowPrivate) return PUBLIC_ONLY;
  const literal = literalAddress(url);
  const address = literal ?? (await dns.promises.lookup(url.hostname).catch(() => undefined))?.address;
  if (address === undefined) return PUBLIC_ONLY;
  const range = addressRange(address);
  return range === 'unicast' ? PUBLIC_ONLY : new Set([range]);
}
