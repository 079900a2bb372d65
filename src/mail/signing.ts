// Signed links: unsubscribe, preferences and confirmation tokens name one subscriber and one purpose,
// carry an optional expiry, and are signed with HMAC-SHA256 under ALMANAC_SECRET. The signature also
// covers the subscriber's own random key (not in the token), so a link acts only on the reader it
// was made for: not on a later subscriber, and not after the key is rotated or the reader removed.
// Verification compares signatures in constant time; a token for one purpose never works for another.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../content/problems.ts';

export type Purpose = 'unsubscribe' | 'preferences' | 'confirm';
const CODES: Record<Purpose, string> = { unsubscribe: 'u', preferences: 'p', confirm: 'c' };

export interface TokenClaims {
  subscriber: number;
  /** The subscriber's key (for confirmations, key and sign-up nonce); never part of the token. */
  key: string;
  purpose: Purpose;
  /** Expiry in ms since the epoch; 0 for links that must keep working (unsubscribe). */
  expires: number;
}

const MIN_SECRET_LENGTH = 32;
/** Fewer different characters than this is not random: "aaaa…", "abababab…", "0000…1". */
const MIN_DISTINCT = 10;

/** ALMANAC_SECRET from the environment; its value is never shown, only why it is not usable. */
export function secretFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const secret = env.ALMANAC_SECRET ?? '';
  const weakness = secretWeakness(secret);
  if (weakness) {
    throw new ConfigError([
      {
        file: 'environment',
        field: 'ALMANAC_SECRET',
        expected: `a random secret of at least ${MIN_SECRET_LENGTH} characters (it signs every unsubscribe and preferences link); make one with "openssl rand -hex 32"`,
        found: weakness,
      },
    ]);
  }
  return secret;
}

/** Why `secret` cannot sign links, in words that do not reveal it; undefined when it can. */
function secretWeakness(secret: string): string | undefined {
  if (!secret) return 'nothing';
  if (!secret.trim()) return `only whitespace (${secret.length} characters)`;
  if (secret.length < MIN_SECRET_LENGTH) return `one of ${secret.length} characters`;
  if (/^\s|\s$/.test(secret)) return 'a value with spaces at its start or end (a copy-and-paste slip?)';
  if (new Set(secret).size < MIN_DISTINCT) return `a value of only ${new Set(secret).size} different characters`;
  // A short pattern repeated ("abcabcabc…") has many characters but little randomness.
  for (let period = 1; period <= secret.length / 4; period++) {
    if (secret.slice(period) === secret.slice(0, -period)) return 'a repeated pattern';
  }
  return undefined;
}

function sign(secret: string, body: string, key: string): Buffer {
  // The key is length-prefixed so no (body, key) pair can be read as another.
  return createHmac('sha256', secret).update(`${body}\n${key.length}:${key}`).digest().subarray(0, 18);
}

export function signToken(secret: string, claims: TokenClaims): string {
  const body = `${CODES[claims.purpose]}.${claims.subscriber.toString(36)}.${Math.floor(claims.expires / 1000).toString(36)}`;
  return `${body}.${sign(secret, body, claims.key).toString('base64url')}`;
}

/**
 * The subscriber a token acts on, if it is well formed, for `purpose`, unexpired, and signed with
 * the key `keyOf` gives for that subscriber now (undefined: no such subscriber, the token fails).
 */
export function verifyToken(
  secret: string,
  token: string,
  purpose: Purpose,
  now: number,
  keyOf: (subscriber: number) => string | undefined,
): { subscriber: number } | undefined {
  const m = /^([upc])\.([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{24})$/.exec(token);
  if (!m || m[1] !== CODES[purpose]) return undefined;
  const subscriber = parseInt(m[2]!, 36);
  const key = keyOf(subscriber);
  if (key === undefined) return undefined;
  const given = Buffer.from(m[4]!, 'base64url');
  const expected = sign(secret, `${m[1]}.${m[2]}.${m[3]}`, key);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const expires = parseInt(m[3]!, 36) * 1000;
  if (expires && expires < now) return undefined;
  return { subscriber };
}

// Return-path tokens (VERP): `bounces+<token>@<domain>` names one reader and one issue, so a bounce
// that arrives days later maps to both without guessing. Mail systems may fold the case of a local
// part, so the token is lower case only (base 36 and hex), and it stays within the 64 characters of
// a local part for any issue id Almanac makes ("2026-04-15-midweek"; edition names have at most 15
// characters).
export type ReturnPurpose = 'bounce' | 'unsubscribe';
const RETURN_CODES: Record<ReturnPurpose, string> = { bounce: 'b', unsubscribe: 'u' };
const ISSUE_ID = /^(\d{4})-(\d{2})-(\d{2})-([a-z][a-z0-9-]{0,14})$/;
const RETURN_TOKEN = /^([bu])([0-9a-z]{1,10})-(\d{8})([a-z][a-z0-9-]{0,14})-([0-9a-f]{20})$/;

export interface ReturnClaims {
  purpose: ReturnPurpose;
  subscriber: number;
  issueId: string;
}

function signReturn(secret: string, body: string): Buffer {
  // Its own label: no token of another kind can be read as a return token.
  return createHmac('sha256', secret).update(`return-path\n${body}`).digest().subarray(0, 10);
}

/** The token of a reader's return path, or undefined for an issue id of another form. */
export function signReturnToken(secret: string, claims: ReturnClaims): string | undefined {
  const m = ISSUE_ID.exec(claims.issueId);
  if (!m || !Number.isSafeInteger(claims.subscriber) || claims.subscriber < 0) return undefined;
  const body = `${RETURN_CODES[claims.purpose]}${claims.subscriber.toString(36)}-${m[1]}${m[2]}${m[3]}${m[4]}`;
  return `${body}-${signReturn(secret, body).toString('hex')}`;
}

/** What a return token names, if it is well formed and signed with `secret`; undefined otherwise. */
export function verifyReturnToken(secret: string, token: string): ReturnClaims | undefined {
  const m = RETURN_TOKEN.exec(token.toLowerCase());
  if (!m) return undefined;
  const body = `${m[1]}${m[2]}-${m[3]}${m[4]}`;
  const given = Buffer.from(m[5]!, 'hex');
  if (!timingSafeEqual(given, signReturn(secret, body))) return undefined;
  const date = m[3]!;
  return {
    purpose: m[1] === 'b' ? 'bounce' : 'unsubscribe',
    subscriber: parseInt(m[2]!, 36),
    issueId: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}-${m[4]}`,
  };
}

/** `bounces+<token>@<domain>`. */
export function returnAddress(secret: string, domain: string, claims: ReturnClaims): string | undefined {
  const token = signReturnToken(secret, claims);
  return token && `bounces+${token}@${domain}`;
}

/** The claims of an address `bounces+<token>@…` (any case), when its token is ours. */
export function readReturnAddress(secret: string, address: string): ReturnClaims | undefined {
  const m = /^bounces\+([^@\s]{1,64})@[^@\s]+$/i.exec(address.trim());
  return m ? verifyReturnToken(secret, m[1]!) : undefined;
}
