// A new DKIM key pair and the DNS TXT record that publishes its public half (RFC 6376 3.6.1; for
// Ed25519, the bare 32-byte key of RFC 8463 section 4.2).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export type DkimKeyType = 'rsa' | 'ed25519';

/** DNS character-strings hold at most 255 bytes; a longer TXT value is several of them, joined by the reader. */
const TXT_STRING_MAX = 255;

export interface DkimKeyPair {
  /** PKCS#8 PEM: what DKIM_PRIVATE_KEY (or the file DKIM_PRIVATE_KEY_FILE names) holds. */
  privatePem: string;
  record: DkimRecord;
}

export interface DkimRecord {
  /** "s1._domainkey.example.org" */
  name: string;
  /** "v=DKIM1; k=rsa; p=…" */
  value: string;
  /** The value as the TXT record's strings, each at most 255 characters. */
  strings: string[];
}

export function makeDkimKeyPair(type: DkimKeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  return type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
}

export function newDkimKey(type: DkimKeyType, selector: string, domain: string): DkimKeyPair {
  const { privateKey, publicKey } = makeDkimKeyPair(type);
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, record: dkimRecord(publicKey, selector, domain) };
}

export function dkimRecord(publicKey: KeyObject, selector: string, domain: string): DkimRecord {
  const type = publicKey.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'rsa';
  const der = publicKey.export({ type: 'spki', format: 'der' });
  // An Ed25519 SubjectPublicKeyInfo is a fixed 12-byte prefix and the 32-byte key.
  const p = (type === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64');
  const value = `v=DKIM1; k=${type}; p=${p}`;
  const strings: string[] = [];
  for (let i = 0; i < value.length; i += TXT_STRING_MAX) strings.push(value.slice(i, i + TXT_STRING_MAX));
  return { name: `${selector}._domainkey.${domain}`, value, strings };
}

/** The record as a zone file line: `s1._domainkey.example.org. TXT "v=DKIM1; …" "…"`. */
export function zoneLine(record: DkimRecord): string {
  return `${record.name}. IN TXT ${record.strings.map((s) => `"${s}"`).join(' ')}`;
}
