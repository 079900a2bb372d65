// DKIM signatures (RFC 6376, relaxed/relaxed) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463), over a
// message exactly as it goes on the wire, after each reader's values are filled in. The hashing and
// signing are node:crypto's; this module only canonicalises and writes the DKIM-Signature field.
// It takes the key as a parsed KeyObject: parsing a PEM for every message (as general-purpose signers
// do) costs as much as the RSA signature itself.
//
// A message may come as the runs it is joined from (an issue's fixed runs and each reader's values).
// The body is canonicalised run by run, and the canonical form of a long run is kept with the run
// object and reused when the same object comes again: the fixed runs of an issue, most of every
// copy, are canonicalised once per issue and only hashed for each reader.
import { createHash, sign, type Hash, type KeyObject } from 'node:crypto';
import type { MessageRuns } from './message.ts';

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

/** The DKIM-Signature fields to put in front of the message, one per key, each ending in CRLF. */
export function dkimSignatures(message: MessageRuns, keys: readonly DkimKey[], now: number): string {
  return toSign(runsOf(message), keys, now)
    .map((p) => p.unsigned + fold((p.ed25519 ? sign(null, p.data, p.key) : sign('sha256', p.data, p.key)).toString('base64')) + '\r\n')
    .join('');
}

/** The same, with the signatures made on libuv's thread pool: this thread only canonicalises. */
export async function dkimSignaturesAsync(message: MessageRuns, keys: readonly DkimKey[], now: number): Promise<string> {
  const parts = await Promise.all(
    toSign(runsOf(message), keys, now).map(
      (p) =>
        new Promise<string>((resolve, reject) =>
          sign(p.ed25519 ? null : 'sha256', p.data, p.key, (err, signature) => (err ? reject(err) : resolve(p.unsigned + fold(signature.toString('base64')) + '\r\n'))),
        ),
    ),
  );
  return parts.join('');
}

function runsOf(message: MessageRuns): readonly Buffer[] {
  return Buffer.isBuffer(message) ? [message] : message;
}

interface ToSign {
  /** The field up to its empty b= tag. */
  unsigned: string;
  /** What the key signs. */
  data: Buffer;
  key: KeyObject;
  ed25519: boolean;
}

function toSign(runs: readonly Buffer[], keys: readonly DkimKey[], now: number): ToSign[] {
  if (keys.length === 0) return [];
  const { head, bodyHash } = onTheWire(runs);
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

/** The header section as text (up to the CRLF of its last field) and the body's hash, as the message goes on the wire. */
function onTheWire(runs: readonly Buffer[]): { head: string; bodyHash: string } {
  const { head, bodyStart } = headOf(runs);
  const bodyHash = hasBareLf(head) ? undefined : relaxedBodyHash(runs, bodyStart);
  if (bodyHash !== undefined) return { head: head.toString('latin1'), bodyHash };
  // Line ends as they go on the wire: SMTP carries every bare LF as CRLF (nodemailer converts them).
  const wire = Buffer.from(Buffer.concat(runs).toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  const whole = headOf([wire]);
  return { head: whole.head.toString('latin1'), bodyHash: relaxedBodyHash([wire], whole.bodyStart)! };
}

/** The header section up to the CRLF of its last field (the whole message when no empty line ends it), and where the body starts. */
function headOf(runs: readonly Buffer[]): { head: Buffer; bodyStart: number } {
  // Only the runs up to the empty line are joined: the body is read run by run.
  let joined: Buffer = Buffer.alloc(0);
  for (const run of runs) {
    const from = Math.max(0, joined.length - 3);
    joined = joined.length === 0 ? run : Buffer.concat([joined, run]);
    const end = joined.indexOf('\r\n\r\n', from);
    if (end >= 0) return { head: joined.subarray(0, end + 2), bodyStart: end + 4 };
  }
  return { head: joined, bodyStart: joined.length };
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

// Relaxed body canonicalisation (RFC 6376 3.4.4) as a stream: runs of space and tab within a line
// become one space, space at a line end goes, and empty lines at the end go. What a run turns into
// depends on what came before it only through this state.
interface BodyState {
  /** Space or tab seen and not yet written: one space if more of the line follows. */
  wsp: boolean;
  /** The run ended in a CR: a line end if the next byte is LF. */
  cr: boolean;
  /** Line ends not yet written: dropped if nothing but empty lines follows. */
  crlfs: number;
}

interface Canonical {
  out: Buffer;
  next: BodyState;
  /** An LF without its CR: such a body is rewritten with CRLF first (as it goes on the wire). */
  bareLf: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const CRLF = Buffer.from('\r\n');

/** Runs at least this long have their canonical form kept. */
const KEEP_FROM_BYTES = 512;

/** Each run's canonical form, by where in the run the body starts and the state before it. */
const canonicalRuns = new WeakMap<Buffer, Map<string, Canonical>>();

/**
 * The hash of the body, which is the runs' bytes from offset `start` of them all; undefined when
 * the body holds a bare LF.
 */
function relaxedBodyHash(runs: readonly Buffer[], start: number): string | undefined {
  const hash = createHash('sha256');
  let state: BodyState = { wsp: false, cr: false, crlfs: 0 };
  let written = false;
  let at = 0;
  for (const run of runs) {
    const from = Math.max(0, start - at);
    at += run.length;
    if (from >= run.length) continue;
    const c = canonicalRun(run, from, state);
    if (c.bareLf) return undefined;
    written = update(hash, c.out) || written;
    state = c.next;
  }
  // A CR that ends the body is not a line end: it is written, with what waited before it.
  if (state.cr) written = update(hash, Buffer.concat([pending(state), Buffer.from([CR])]));
  // A body that is not empty ends with exactly one line end.
  if (written) hash.update(CRLF);
  return hash.digest('base64');
}

function update(hash: Hash, bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  hash.update(bytes);
  return true;
}

function canonicalRun(run: Buffer, from: number, state: BodyState): Canonical {
  // A short run (a reader's values are short) is canonicalised again each time: that costs less than
  // keeping it, and what is kept for a run that does not come again only burdens the garbage collector.
  if (run.length - from < KEEP_FROM_BYTES) return canonicalise(run, from, state);
  const key = `${from}:${state.wsp ? 1 : 0}${state.cr ? 1 : 0}${state.crlfs}`;
  let byState = canonicalRuns.get(run);
  const known = byState?.get(key);
  if (known) return known;
  const c = canonicalise(run, from, state);
  if (!byState) canonicalRuns.set(run, (byState = new Map()));
  byState.set(key, c);
  return c;
}

function canonicalise(run: Buffer, from: number, state: BodyState): Canonical {
  // At most every byte of the run, and what waited before it: its line ends, a space and a CR.
  const out = Buffer.allocUnsafe(run.length - from + 2 * state.crlfs + 2);
  let n = 0;
  let { wsp, cr, crlfs } = state;
  let bareLf = false;
  const flush = () => {
    for (; crlfs > 0; crlfs--) (out[n++] = CR), (out[n++] = LF);
    if (wsp) out[n++] = SP;
    wsp = false;
  };
  for (let i = from; i < run.length; i++) {
    const c = run[i]!;
    if (cr) {
      cr = false;
      if (c === LF) {
        crlfs++;
        wsp = false;
        continue;
      }
      flush();
      out[n++] = CR; // a CR alone is part of the line
    }
    if (c === CR) cr = true;
    else if (c === SP || c === TAB) wsp = true;
    else {
      if (c === LF) bareLf = true;
      if (crlfs > 0 || wsp) flush();
      out[n++] = c;
    }
  }
  return { out: out.subarray(0, n), next: { wsp, cr, crlfs }, bareLf };
}

/** What waits to be written before more of a line: its line ends and a space. */
function pending(state: BodyState): Buffer {
  return Buffer.from('\r\n'.repeat(state.crlfs) + (state.wsp ? ' ' : ''), 'latin1');
}

/** The signature in lines of at most 76 characters (folding white space is ignored inside b=). */
function fold(base64: string): string {
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 72) lines.push(base64.slice(i, i + 72));
  return lines.join('\r\n ');
}
