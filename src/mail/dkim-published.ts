// The DKIM key record as DNS publishes it (RFC 6376 3.6.1), and whether it is the public half of the
// private key Almanac signs with. Parsing never throws.
import { createPublicKey, type KeyObject } from 'node:crypto';

export interface DkimTags {
  /** "DKIM1" when given (it must then be the first tag). */
  v?: string;
  /** The key type, "rsa" when not given. */
  k: string;
  /** The public key, base64 with white space removed; empty for a revoked key. */
  p: string;
  /** Flags of t=, e.g. ["y"] for a key in test mode. */
  t: string[];
  /** The hash algorithms h= allows; empty when it is not given (all allowed). */
  h: string[];
  /** The service types s= names; empty when it is not given ("*", every service). */
  s: string[];
}

export type ParsedDkim = { ok: true; tags: DkimTags } | { ok: false; error: string };

export function parseDkimRecord(txt: string): ParsedDkim {
  const tags = new Map<string, string>();
  const parts = txt.split(';');
  for (const [i, part] of parts.entries()) {
    if (!part.trim()) {
      if (i === parts.length - 1) continue;
      return { ok: false, error: 'an empty tag between two ";"' };
    }
    const m = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=(.*)$/s.exec(part);
    if (!m) return { ok: false, error: `"${part.trim().slice(0, 40)}" is not a tag=value pair` };
    const name = m[1]!.toLowerCase();
    if (tags.has(name)) return { ok: false, error: `the tag ${name}= is given twice` };
    if (name === 'v' && tags.size > 0) return { ok: false, error: 'v= is not the first tag' };
    tags.set(name, m[2]!.trim());
  }
  const v = tags.get('v');
  if (v !== undefined && v !== 'DKIM1') return { ok: false, error: `v=${v} where DKIM1 is expected` };
  const p = tags.get('p');
  if (p === undefined) return { ok: false, error: 'it has no public key (p=)' };
  return {
    ok: true,
    tags: {
      ...(v !== undefined ? { v } : {}),
      k: (tags.get('k') ?? 'rsa').toLowerCase(),
      p: p.replace(/\s+/g, ''),
      t: list(tags.get('t')),
      h: list(tags.get('h')),
      s: list(tags.get('s')),
    },
  };
}

/** A colon-separated tag value as its lower-case items. */
function list(value: string | undefined): string[] {
  return (value ?? '').split(':').map((f) => f.trim().toLowerCase()).filter(Boolean);
}

/** `written` when the record holds the right key in a form receivers do not read. */
export type KeyComparison = { matches: true; bits?: number } | { matches: false; found: string; written?: true };

/** Whether the published key is the public half of `privateKey`. */
export function comparePublishedKey(tags: DkimTags, privateKey: KeyObject): KeyComparison {
  const type = privateKey.asymmetricKeyType;
  if (tags.k !== type) return { matches: false, found: `a key of type ${tags.k} where the private key is ${type}` };
  const own = createPublicKey(privateKey);
  const der = Buffer.from(tags.p, 'base64');
  if (type === 'ed25519') {
    const spki = own.export({ type: 'spki', format: 'der' });
    if (der.equals(spki)) return { matches: false, found: 'the public key as a whole SubjectPublicKeyInfo, where receivers read the bare 32-byte key (RFC 8463)', written: true };
    return der.equals(spki.subarray(spki.length - 32)) ? { matches: true } : { matches: false, found: 'another Ed25519 key' };
  }
  const published = rsaPublicKey(der);
  if (!published) return { matches: false, found: 'a p= that is not an RSA public key' };
  const bits = published.asymmetricKeyDetails?.modulusLength;
  if (!published.equals(own)) return { matches: false, found: `another RSA key${bits ? ` (${bits} bits)` : ''}` };
  return bits === undefined ? { matches: true } : { matches: true, bits };
}

/** The RSA key of a p= value: SubjectPublicKeyInfo as RFC 6376 asks, or the bare RSAPublicKey some tools publish. */
export function rsaPublicKey(der: Buffer): KeyObject | undefined {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      const key = createPublicKey({ key: der, format: 'der', type });
      if (key.asymmetricKeyType === 'rsa') return key;
    } catch {
      // Try the next form.
    }
  }
  return undefined;
}
