// DMARC (RFC 7489): the policy record of a From domain and whether a message's DKIM signing domain
// and return-path domain align with it. The organisational domain is the one registered under a
// public suffix, as receivers find it with the Public Suffix List (tldts): "example.co.uk" for
// "news.example.co.uk", not "co.uk".
import { getDomain } from 'tldts';

export type Policy = 'none' | 'quarantine' | 'reject';
export type Mode = 'r' | 's';

export interface DmarcRecord {
  p: Policy;
  sp?: Policy;
  adkim: Mode;
  aspf: Mode;
  pct: number;
  rua?: string;
}

export type ParsedDmarc = { ok: true; record: DmarcRecord } | { ok: false; error: string };

export function isDmarcRecord(txt: string): boolean {
  return /^v\s*=\s*DMARC1\s*(;|$)/i.test(txt);
}

const POLICIES = new Set(['none', 'quarantine', 'reject']);

/** Never throws: a record in any shape gives its policy or why it is not usable. */
export function parseDmarc(txt: string): ParsedDmarc {
  if (!isDmarcRecord(txt)) return { ok: false, error: 'it does not start with "v=DMARC1"' };
  const tags = new Map<string, string>();
  for (const part of txt.split(';').slice(1)) {
    const m = /^\s*([a-z]+)\s*=\s*(.*?)\s*$/i.exec(part);
    if (m && !tags.has(m[1]!.toLowerCase())) tags.set(m[1]!.toLowerCase(), m[2]!);
  }
  const p = tags.get('p')?.toLowerCase();
  if (p === undefined) return { ok: false, error: 'it has no policy (p=)' };
  if (!POLICIES.has(p)) return { ok: false, error: `p=${p} is not none, quarantine or reject` };
  const sp = tags.get('sp')?.toLowerCase();
  const mode = (tag: string): Mode => (tags.get(tag)?.toLowerCase() === 's' ? 's' : 'r');
  const pct = Number(tags.get('pct') ?? '100');
  return {
    ok: true,
    record: {
      p: p as Policy,
      ...(sp && POLICIES.has(sp) ? { sp: sp as Policy } : {}),
      adkim: mode('adkim'),
      aspf: mode('aspf'),
      pct: Number.isInteger(pct) && pct >= 0 && pct <= 100 ? pct : 100,
      ...(tags.get('rua') ? { rua: tags.get('rua')! } : {}),
    },
  };
}

/** The registered domain: "news.example.org" → "example.org", "news.example.co.uk" → "example.co.uk"; a name with none (a suffix, "localhost") itself. */
export function organisationalDomain(domain: string): string {
  const name = domain.toLowerCase().replace(/\.$/, '');
  return getDomain(name, { allowPrivateDomains: false }) ?? name;
}

/** Whether `other` aligns with the From domain: the same name (strict) or the same organisational domain (relaxed). */
export function aligned(fromDomain: string, other: string, mode: Mode): boolean {
  const a = fromDomain.toLowerCase().replace(/\.$/, '');
  const b = other.toLowerCase().replace(/\.$/, '');
  return mode === 's' ? a === b : organisationalDomain(a) === organisationalDomain(b);
}
