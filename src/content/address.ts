// What counts as an email address or a network address, in one place: the config (test addresses,
// trusted proxies), the subscriber list, the forms and `--to` all check with it.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Characters that show as nothing, or reorder what is around them: C0 and C1 controls, DEL, the soft
 * hyphen, zero-width characters and marks, bidi embeddings, overrides and isolates, invisible
 * operators, fillers, variation selectors, tag characters and the byte-order mark. An address
 * holding one is not what the reader sees.
 */
const HIDDEN =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\u3164\ufe00-\ufe0f\ufeff\uffa0\u{e0000}-\u{e007f}]/u;

const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `value` is not an address we accept, as the "found" part of a problem; undefined when it is fine. */
export function addressProblem(value: string): string | undefined {
  const hidden = HIDDEN.exec(value);
  if (hidden) {
    const shown = value.replace(new RegExp(HIDDEN.source, 'gu'), (ch) => `<${codePoint(ch)}>`);
    return `${JSON.stringify(shown)}, which contains an invisible or control character (${codePoint(hidden[0])})`;
  }
  if (!isEmailAddress(value)) return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  return undefined;
}

/** A practical address check: one @, a dotted domain, no spaces, angle brackets or hidden characters, at most 254 characters. */
export function isEmailAddress(value: string): boolean {
  return (
    value.length <= 254 &&
    !HIDDEN.test(value) &&
    /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+\.[A-Za-z]{2,}$/.test(value) &&
    !value.includes('..')
  );
}

/** Whether `entry` is an IP address or a CIDR block (`10.0.0.0/8`, `fd00::/8`). */
export function isAddressOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

const DOTLESS = new Set(['gmail.com', 'googlemail.com']);

/**
 * The inbox an address most likely reaches, for limits on how often one inbox is mailed: case
 * folded, a `+tag` dropped, and Gmail's dots (which it ignores) taken out. Not for storing or sending.
 */
export function mailboxKey(address: string): string {
  const at = address.lastIndexOf('@');
  let local = address.slice(0, at).toLowerCase();
  let domain = address.slice(at + 1).toLowerCase();
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (DOTLESS.has(domain)) {
    local = local.replace(/\./g, '');
    domain = 'gmail.com';
  }
  return `${local}@${domain}`;
}

/** The address part of "Name <address>". */
export function addressOf(from: string): string {
  // The last <…>: a display name may itself hold angle brackets.
  return /<([^<>]+)>\s*$/.exec(from)?.[1]?.trim() ?? from.trim();
}

/** "localhost" or a loopback address (127.0.0.0/8, ::1): a host whose traffic never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return ipaddr.isValid(name) && ipaddr.process(name).range() === 'loopback';
}
