// Records as DNS serves them, in any shape: SPF, DMARC and DKIM parsing never throws; SPF evaluation
// over any graph of include/redirect/a/mx ends within the lookup limit; a TXT value split into
// character-strings comes back through a real resolver whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDkimRecord } from '../src/mail/dkim-published.ts';
import { aligned, parseDmarc } from '../src/mail/dmarc.ts';
import { nodeDnsLookup, type Answer, type DnsLookup } from '../src/mail/dns-lookup.ts';
import { SPF_LOOKUP_LIMIT, SPF_TIME_LIMIT_MS, checkSpf, parseSpf } from '../src/mail/spf.ts';
import { startDnsServer } from './helpers/dns-server.ts';

const RUNS = Number(process.env.PROPS_RUNS ?? 300);
const DOMAINS = ['a.test', 'b.test', 'c.test', 'd.test'];

const token = fc.oneof(
  fc.constantFrom('all', '-all', '~all', '?all', '+all', 'a', 'mx', 'ptr', 'a/24', 'mx//64', 'a:b.test/33', 'ip4:', 'ip6:', 'include:', 'redirect=', 'exp=', '%{i}', '=', ':', '/', '//'),
  fc.constantFrom(...DOMAINS).map((d) => `include:${d}`),
  fc.constantFrom(...DOMAINS).map((d) => `redirect=${d}`),
  fc.constantFrom(...DOMAINS).map((d) => `a:${d}`),
  fc.constantFrom(...DOMAINS).map((d) => `mx:${d}`),
  fc.constantFrom(...DOMAINS).map((d) => `exists:%{i}.${d}`),
  fc.ipV4().map((ip) => `ip4:${ip}`),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([ip, n]) => `ip4:${ip}/${n}`),
  fc.ipV6().map((ip) => `ip6:${ip}`),
  fc.string({ maxLength: 12 }),
);
const spfText = fc.array(token, { maxLength: 8 }).map((terms) => ['v=spf1', ...terms].join(' '));

describe('parsing never throws', () => {
  it('SPF: any text, and records built from real and broken terms', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), spfText), (text) => {
        const parsed = parseSpf(text);
        if (!parsed.ok) assert.equal(typeof parsed.error, 'string');
      }),
      { numRuns: RUNS },
    );
  });

  it('DMARC and DKIM records: any text and tag lists', () => {
    const tagList = fc.array(fc.tuple(fc.constantFrom('v', 'p', 'k', 't', 'sp', 'adkim', 'aspf', 'pct', 'rua', 'h', 'x'), fc.string({ maxLength: 20 })), { maxLength: 6 }).map((tags) => tags.map(([k, v]) => `${k}=${v}`).join('; '));
    fc.assert(
      fc.property(fc.oneof(fc.string(), tagList, tagList.map((t) => `v=DMARC1; ${t}`), tagList.map((t) => `v=DKIM1; ${t}`)), (text) => {
        const dmarc = parseDmarc(text);
        if (dmarc.ok) assert.ok(['none', 'quarantine', 'reject'].includes(dmarc.record.p));
        const dkim = parseDkimRecord(text);
        if (dkim.ok) assert.ok(!/\s/.test(dkim.tags.p));
      }),
      { numRuns: RUNS },
    );
  });

  it('alignment is symmetric in relaxed mode and strict implies relaxed', () => {
    const domain = fc.array(fc.constantFrom('a', 'b', 'mail', 'example', 'org', 'net'), { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
    fc.assert(
      fc.property(domain, domain, (x, y) => {
        assert.equal(aligned(x, y, 'r'), aligned(y, x, 'r'));
        if (aligned(x, y, 's')) assert.ok(aligned(x, y, 'r'));
      }),
      { numRuns: RUNS },
    );
  });
});

/** A zone in memory: the SPF evaluation's many paths are explored here; the real server is tested elsewhere. */
function memoryLookup(txt: Map<string, string[]>): DnsLookup & { asked: () => number } {
  let asked = 0;
  const answer = <T>(records: T[] | undefined): Promise<Answer<T>> => {
    asked++;
    return Promise.resolve(records && records.length ? { kind: 'found', records } : { kind: 'none' });
  };
  return {
    txt: (name) => answer(txt.get(name)),
    a: (name) => answer(name.endsWith('.test') ? ['192.0.2.1'] : undefined),
    aaaa: () => answer<string>(undefined),
    mx: (name) => answer(DOMAINS.includes(name) ? [{ exchange: name, priority: 10 }] : undefined),
    asked: () => asked,
  };
}

describe('SPF evaluation', () => {
  it('any graph of records ends with a result, within the lookup limit, never throwing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(spfText, { minLength: DOMAINS.length, maxLength: DOMAINS.length }), fc.constantFrom('192.0.2.1', '198.51.100.7', '2001:db8::1'), async (records, ip) => {
        const dns = memoryLookup(new Map(DOMAINS.map((d, i) => [d, [records[i]!]])));
        const verdict = await checkSpf(dns, 'a.test', ip);
        assert.ok(['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror', 'temperror'].includes(verdict.result));
        assert.ok(verdict.lookups <= SPF_LOOKUP_LIMIT + 1, `${verdict.lookups} lookups`);
        if (verdict.lookups > SPF_LOOKUP_LIMIT) assert.equal(verdict.result, 'permerror');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('SPF time limit', () => {
  it('a zone that answers each query just in time gives temperror once the check has taken its limit, asking no more', async () => {
    // Eight includes, each answered 3 s after it was asked: the check stops at the query that would start past 20 s.
    let now = 0;
    const records = new Map(Array.from({ length: 9 }, (_, i) => [`s${i}.test`, [i < 8 ? `v=spf1 include:s${i + 1}.test -all` : 'v=spf1 -all']]));
    const inner = memoryLookup(records);
    const slow: DnsLookup = { ...inner, txt: async (name) => ((now += 3000), inner.txt(name)) };
    const verdict = await checkSpf(slow, 's0.test', '192.0.2.1', { now: () => now, timeLimitMs: SPF_TIME_LIMIT_MS });
    assert.equal(verdict.result, 'temperror');
    assert.match(verdict.reason, /no result within 20 s/);
    assert.equal(inner.asked(), 7);
  });
});

describe('TXT records through a real resolver', () => {
  it('a value split into 255-character strings comes back joined, whole', async () => {
    const values = fc.sample(fc.string({ unit: fc.constantFrom(...'abcXYZ019+/=; -'.split('')), minLength: 0, maxLength: 700 }), { numRuns: Math.min(RUNS, 40), seed: 7 });
    const split = (v: string) => (v.length === 0 ? [''] : Array.from({ length: Math.ceil(v.length / 255) }, (_, i) => v.slice(i * 255, i * 255 + 255)));
    const server = await startDnsServer({ TXT: Object.fromEntries(values.map((v, i) => [`r${i}.test`, [split(v)]])) });
    try {
      const dns = nodeDnsLookup({ servers: [server.address], deadlineMs: 3000 });
      for (const [i, value] of values.entries()) {
        const answer = await dns.txt(`r${i}.test`);
        assert.deepEqual(answer, { kind: 'found', records: [value] }, `value ${i} of ${value.length} characters`);
      }
    } finally {
      await server.close();
    }
  });
});
