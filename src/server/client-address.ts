// Who a request comes from, for rate limiting. The socket's address, unless it is one of the proxies
// named in `trustProxy`: then X-Forwarded-For counts, read from the right (each proxy appends the
// address it saw), and the client is the right-most address that is not itself a trusted proxy.
// Anything further left was written by the client and proves nothing.
import { BlockList, isIP } from 'node:net';

/** The trusted proxies as a BlockList; entries are checked by the config schema first. */
export function trustList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [written, bits] = entry.split('/');
    // Checked as clients are: an IPv4-mapped entry (`::ffff:10.0.0.0/104`) is the IPv4 block it maps.
    const address = normalise(written!);
    const mapped = isIP(written!) === 6 && isIP(address) === 4;
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, mapped ? Math.max(0, Number(bits) - 96) : Number(bits), type);
  }
  return list;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; `[::1]:80` and `1.2.3.4:80` → the address alone. */
export function normalise(raw: string): string {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return (mapped ? mapped[1]! : a).toLowerCase();
}

function trusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The client's address: the socket's, or the right-most untrusted one of X-Forwarded-For behind a trusted proxy. */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, proxies: BlockList | undefined): string {
  const peer = normalise(socketAddress ?? '');
  if (!peer) return 'unknown';
  if (!proxies || !trusted(proxies, peer) || !forwardedFor) return peer;
  const hops = [forwardedFor].flat().join(',').split(',').map(normalise).filter(Boolean);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // Not an address: whoever wrote it is untrusted, and the last trusted hop is the best we know.
    if (!isIP(hop)) break;
    client = hop;
    if (!trusted(proxies, hop)) break;
  }
  return client;
}

/** The rate-limit key for an address: IPv6 clients get a /64 each, so one host cannot rotate through its prefix. */
export function limitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return expand(address).slice(0, 4).join(':') + '::/64';
}

function expand(address: string): string[] {
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  // An embedded IPv4 tail (::1.2.3.4) is two groups; only the first four groups matter here.
  const missing = Math.max(0, 8 - left.length - right.length);
  return [...left, ...Array<string>(tail !== undefined ? missing : 0).fill('0'), ...right].map((g) => g.replace(/^0+(?=.)/, '').toLowerCase());
}
