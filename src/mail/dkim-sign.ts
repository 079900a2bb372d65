// DKIM signatures (RFC 6376, relaxed/relaxed) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463), over a
// message exactly as it goes on the wire, after each reader's values are filled in. The hashing and
// signing are node:crypto's; this module only canonicalises and writes the DKIM-Signature field.
// It takes the key as a parsed KeyObject: parsing a PEM for every message (as general-purpose signers
// do) costs as much as the RSA signature itself.
import { createHash, sign, type KeyObject } from 'node:crypto';

export interface DkimKey {
  /** d= : the signing domain. */
  domain: string;
  /** s= : the key's name under <selector>._domainkey.<domain>. */
  selector: string;
  key: KeyObject;
}

/**
 * Fields signed when present, each instance. List-Unsubscribe and its -Post must be signed for
 * one-click unsubscribe to count (RFC 8058 section 4).
 */
const SIGNED_FIELDS = [
  'from', 'reply-to', 'sender', 'to', 'cc', 'subject', 'date', 'message-id', 'in-reply-to', 'references',
  'mime-version', 'content-type', 'content-transfer-encoding', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post',
];
/** Signed once more than present, so a second From or Subject added on the way breaks the signature. */
const OVERSIGNED = ['from', 'subject'];

interface Field {
  name: string;
  /** The whole field as written, folding included, without its final CRLF. */
  text: string;
}

/** The DKIM-Signature fields to put in front of `raw`, one per key, each ending in CRLF. */
export function dkimSignatures(raw: Buffer, keys: readonly DkimKey[], now: number): string {
  return toSign(raw, keys, now)
    .map((p) => p.unsigned + fold((p.ed25519 ? sign(null, p.data, p.key) : sign('sha256', p.data, p.key)).toString('base64')) + '\r\n')
    .join('');
}

/** The same, with the signatures made on libuv's thread pool: this thread only canonicalises. */
export async function dkimSignaturesAsync(raw: Buffer, keys: readonly DkimKey[], now: number): Promise<string> {
  const parts = await Promise.all(
    toSign(raw, keys, now).map(
      (p) =>
        new Promise<string>((resolve, reject) =>
          sign(p.ed25519 ? null : 'sha256', p.data, p.key, (err, signature) => (err ? reject(err) : resolve(p.unsigned + fold(signature.toString('base64')) + '\r\n'))),
        ),
    ),
  );
  return parts.join('');
}

interface ToSign {
  /** The field up to its empty b= tag. */
  unsigned: string;
  /** What the key signs. */
  data: Buffer;
  key: KeyObject;
  ed25519: boolean;
}

function toSign(raw: Buffer, keys: readonly DkimKey[], now: number): ToSign[] {
  if (keys.length === 0) return [];
  // Line ends as they go on the wire: SMTP carries every bare LF as CRLF (nodemailer converts them).
  const wire = hasBareLf(raw) ? Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') : raw;
  const end = wire.indexOf('\r\n\r\n');
  const head = (end < 0 ? wire : wire.subarray(0, end + 2)).toString('latin1');
  const bodyHash = relaxedBodyHash(end < 0 ? Buffer.alloc(0) : wire.subarray(end + 4));
  const fields = parseFields(head);
  const names = signedNames(fields);
  const signedHead = chooseFields(fields, names).map((f) => relaxedField(f.text) + '\r\n').join('');
  const time = Math.floor(now / 1000);
  return keys.map((k) => {
    const ed25519 = k.key.asymmetricKeyType === 'ed25519';
    const unsigned =
      `DKIM-Signature: v=1; a=${ed25519 ? 'ed25519-sha256' : 'rsa-sha256'}; c=relaxed/relaxed; d=${k.domain}; s=${k.selector};\r\n` +
      ` t=${time}; h=${names.join(':')};\r\n bh=${bodyHash};\r\n b=`;
    const data = Buffer.from(signedHead + relaxedField(unsigned), 'latin1');
    // RFC 8463: Ed25519 signs the SHA-256 hash of the data; RSA hashes as part of signing.
    return { unsigned, data: ed25519 ? createHash('sha256').update(data).digest() : data, key: k.key, ed25519 };
  });
}

/** `raw` with its signatures in front. */
export function dkimSign(raw: Buffer, keys: readonly DkimKey[], now: number): Buffer {
  const signatures = dkimSignatures(raw, keys, now);
  return signatures ? Buffer.concat([Buffer.from(signatures, 'latin1'), raw]) : raw;
}

function parseFields(head: string): Field[] {
  const fields: Field[] = [];
  for (const line of head.split('\r\n')) {
    if (line === '') continue;
    const last = fields[fields.length - 1];
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last.text += '\r\n' + line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) fields.push({ name: line.slice(0, colon).trim().toLowerCase(), text: line });
  }
  return fields;
}

/** The h= list: each signed field as many times as it occurs, the oversigned ones once more. */
function signedNames(fields: readonly Field[]): string[] {
  const names: string[] = [];
  for (const name of SIGNED_FIELDS) {
    const count = fields.filter((f) => f.name === name).length + (OVERSIGNED.includes(name) ? 1 : 0);
    for (let i = 0; i < count; i++) names.push(name);
  }
  return names;
}

/** For each name in h=, the last instance not yet used (RFC 6376 5.4.2); a name with none left adds nothing. */
function chooseFields(fields: readonly Field[], names: readonly string[]): Field[] {
  const used = new Set<Field>();
  const chosen: Field[] = [];
  for (const name of names) {
    for (let i = fields.length - 1; i >= 0; i--) {
      const f = fields[i]!;
      if (f.name === name && !used.has(f)) {
        used.add(f);
        chosen.push(f);
        break;
      }
    }
  }
  return chosen;
}

/** Relaxed header canonicalisation (RFC 6376 3.4.2): lower-case name, unfolded, runs of space as one. */
function relaxedField(text: string): string {
  const colon = text.indexOf(':');
  const name = text.slice(0, colon).trim().toLowerCase();
  const value = text.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${name}:${value}`;
}

function hasBareLf(b: Buffer): boolean {
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) if (i === 0 || b[i - 1] !== 0x0d) return true;
  return false;
}

/**
 * The body's hash. A quoted-printable body seldom holds a tab, two spaces or a space at a line end, and
 * then its canonical form is its own bytes up to its last line: they are hashed as they are, which
 * costs a fraction of rewriting the body as text.
 */
function relaxedBodyHash(body: Buffer): string {
  const hash = createHash('sha256');
  if (body.includes(0x09) || body.includes('  ') || body.includes(' \r\n') || body[body.length - 1] === 0x20) {
    return hash.update(relaxedBody(body.toString('latin1')), 'latin1').digest('base64');
  }
  let end = body.length;
  while (end >= 2 && body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
  if (end > 0) hash.update(body.subarray(0, end)).update('\r\n');
  return hash.digest('base64');
}

/** Relaxed body canonicalisation (RFC 6376 3.4.4): no space at line ends, runs of space as one, no empty lines at the end. */
function relaxedBody(body: string): string {
  let b = body.replace(/[ \t]+/g, ' ').replace(/ \r\n/g, '\r\n');
  let end = b.length;
  if (b[end - 1] === ' ') end--;
  while (end >= 2 && b[end - 2] === '\r' && b[end - 1] === '\n') end -= 2;
  b = b.slice(0, end);
  return b ? b + '\r\n' : '';
}

/** The signature in lines of at most 76 characters (folding white space is ignored inside b=). */
function fold(base64: string): string {
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 72) lines.push(base64.slice(i, i + 72));
  return lines.join('\r\n ');
}
