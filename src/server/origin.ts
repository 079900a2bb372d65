// Which requests a local server answers, and which may change something. A page on any site can make
// the editor's browser send requests to 127.0.0.1, and DNS rebinding can make a foreign name resolve
// there, so neither the address nor the port proves a request is the user's own: the Host header
// must be one of the server's own names, and a request that changes something (or opens an event
// stream) must come from the server's own origin.
import type { IncomingHttpHeaders } from 'node:http';

/** The names a server on loopback is reached by. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

/** A host name or address one may add to the loopback names, as written in a Host header. */
export function isHostName(name: string): boolean {
  return /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)$/i.test(name) && name.length <= 253;
}

/** The host part of a Host header (`name` or `name:port`), lower case; undefined when it is not one. */
function hostOf(header: string | undefined): string | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(header ?? '');
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return undefined;
  return m[1]!.toLowerCase();
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** Whether the request is addressed to one of `names` (DNS rebinding sends a foreign name). */
export function checkHost(headers: IncomingHttpHeaders, names: ReadonlySet<string>): Verdict {
  const host = hostOf(headers.host);
  if (host && names.has(host)) return { ok: true };
  return { ok: false, reason: `this server answers only to ${[...names].join(', ')}, not to the host "${headers.host ?? ''}"` };
}

/**
 * Whether a request that changes something comes from this server's own pages. Browsers send
 * Sec-Fetch-Site (newer) or Origin (every browser, on every POST) with such requests; a client that
 * sends neither is not a browser, so no other site can be behind it.
 */
export function checkSameOrigin(headers: IncomingHttpHeaders): Verdict {
  const site = headers['sec-fetch-site'];
  // "same-site" is not enough: every other port on localhost is the same site.
  if (site !== undefined && site !== 'same-origin') return { ok: false, reason: `a request from another site (Sec-Fetch-Site: ${site})` };
  const origin = headers.origin;
  if (origin === undefined) return { ok: true };
  const own = `http://${(headers.host ?? '').toLowerCase()}`;
  if (origin.toLowerCase() !== own) return { ok: false, reason: `a request from another origin (${origin})` };
  return { ok: true };
}
