// `doctor`: whether mail Almanac sends can be trusted by the receiving side, as far as DNS and the
// relay tell: the SMTP session a send opens, the DKIM keys in DNS against the keys that sign, SPF of
// the return-path and From domains for the relay's addresses, DMARC policy and alignment, and MX for
// replies and bounces. Each finding is one line: ok, warning or error, what was found and what to
// publish. DNS and the relay are passed in, so every check runs against servers a test starts.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import type { Config } from '../content/config-schema.ts';
import { ProblemError, formatProblem } from '../content/problems.ts';
import { dkimKeys } from './dkim-keys.ts';
import { comparePublishedKey, parseDkimRecord } from './dkim-published.ts';
import { dkimRecord, zoneLine } from './dkim-record.ts';
import { aligned, isDmarcRecord, organisationalDomain, parseDmarc, type DmarcRecord, type Mode } from './dmarc.ts';
import { cachedLookup, type Answer, type DnsLookup } from './dns-lookup.ts';
import { addressOf } from './message.ts';
import { bounceDomain } from './send-job.ts';
import { checkSpf, parseSpf, spfRecordOf, type SpfVerdict } from './spf.ts';

export type Status = 'ok' | 'warning' | 'error';
export type CheckName = 'smtp' | 'dkim' | 'spf' | 'dmarc' | 'mx';

export interface Finding {
  check: CheckName;
  /** What was looked at: a DNS name, or the relay. */
  subject: string;
  status: Status;
  found: string;
  /** The record to publish or the setting to change, when there is one. */
  publish?: string;
}

export interface DoctorInput {
  config: Config;
  env: NodeJS.ProcessEnv;
  dns: DnsLookup;
  /** The relay (SMTP_URL), or why it cannot be used. */
  relay: { url: string; host: string } | { problem: string };
  /** Opens one session as a send would; the server's words when it fails, undefined when it works. */
  preflight: () => Promise<string | undefined>;
}

/** Keys shorter than this are accepted by receivers but no longer advised (RFC 8301). */
const ADVISED_RSA_BITS = 2048;
const MIN_RSA_BITS = 1024;

export async function runDoctor(given: DoctorInput): Promise<Finding[]> {
  const input = { ...given, dns: cachedLookup(given.dns) };
  const fromDomain = asciiDomain(addressOf(input.config.from).split('@').pop()!);
  const returnDomain = asciiDomain(bounceDomain(input.config));
  const relayAddresses = 'host' in input.relay ? await addressesOf(input.dns, input.relay.host) : undefined;
  const [smtp, dkim, spf, dmarc, mx] = await Promise.all([
    smtpFindings(input),
    dkimFindings(input),
    spfFindings(input.dns, returnDomain, fromDomain, 'host' in input.relay ? input.relay.host : undefined, relayAddresses),
    dmarcFindings(input.dns, input.config, fromDomain, returnDomain),
    mxFindings(input.dns, fromDomain, returnDomain),
  ]);
  return [...smtp, ...dkim, ...spf, ...dmarc, ...mx];
}

/**
 * A domain as DNS holds it and receivers compare it: "bücher.example" is "xn--bcher-kva.example", the
 * form sending.dkim.domain is written in and a zone file takes.
 */
function asciiDomain(domain: string): string {
  return domainToASCII(domain) || domain.toLowerCase();
}

async function smtpFindings(input: DoctorInput): Promise<Finding[]> {
  if (!('host' in input.relay)) return [{ check: 'smtp', subject: 'SMTP_URL', status: 'error', found: input.relay.problem, publish: 'set SMTP_URL, e.g. smtp://user:password@mail.example.org:587' }];
  const refused = await input.preflight();
  const subject = input.relay.url;
  if (refused) return [{ check: 'smtp', subject, status: 'error', found: refused }];
  return [{ check: 'smtp', subject, status: 'ok', found: 'the relay accepted a session as a send opens it (connect, EHLO, STARTTLS if offered, AUTH when a login is given)' }];
}

// --- DKIM ---

async function dkimFindings(input: DoctorInput): Promise<Finding[]> {
  const dkim = input.config.sending.dkim;
  let keys;
  try {
    keys = dkimKeys(input.config, input.env);
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    return err.problems.map((p) => ({ check: 'dkim', subject: p.field ?? p.file, status: 'error', found: formatProblem(p) }));
  }
  if (!dkim || keys.length === 0) {
    return [{ check: 'dkim', subject: 'sending.dkim', status: 'error', found: 'messages are not signed: receivers such as Gmail and Yahoo ask bulk senders for DKIM', publish: 'run "almanac keys dkim --selector s1", publish the record it prints, set DKIM_PRIVATE_KEY_FILE and sending.dkim' }];
  }
  // dkimKeys gives the key of `selector` first, then the one of `ed25519Selector`.
  return Promise.all(keys.map((key, i) => dkimKeyFinding(input.dns, key.domain, key.selector, key.key, i === 0 ? 'DKIM_PRIVATE_KEY' : 'DKIM_ED25519_PRIVATE_KEY')));
}

async function dkimKeyFinding(dns: DnsLookup, domain: string, selector: string, key: KeyObject, variable: string): Promise<Finding> {
  const record = dkimRecord(createPublicKey(key), selector, domain);
  const subject = record.name;
  const publish = zoneLine(record);
  const fail = (found: string): Finding => ({ check: 'dkim', subject, status: 'error', found, publish });
  const answer = await dns.txt(record.name);
  if (answer.kind === 'failed') return { check: 'dkim', subject, status: 'error', found: `the TXT lookup failed: ${answer.reason}` };
  const candidates = answer.kind === 'found' ? answer.records.filter((r) => /(^|;)\s*(v\s*=\s*DKIM1|p\s*=)/i.test(r)) : [];
  if (candidates.length === 0) return fail(`no DKIM key record: receivers cannot check the signatures made with ${variable}`);
  if (candidates.length > 1) return fail(`${candidates.length} DKIM key records (publish one only; receivers may pick either)`);
  const parsed = parseDkimRecord(candidates[0]!);
  if (!parsed.ok) return fail(`a record receivers cannot read: ${parsed.error}`);
  const { tags } = parsed;
  if (tags.p === '') return fail('a revoked key (empty p=): every signature fails');
  // Signatures are rsa-sha256 and ed25519-sha256, for mail: a key limited otherwise verifies none of them.
  if (tags.h.length > 0 && !tags.h.includes('sha256')) return fail(`h=${tags.h.join(':')} does not allow sha256, the hash every signature uses`);
  if (tags.s.length > 0 && !tags.s.includes('email') && !tags.s.includes('*')) return fail(`s=${tags.s.join(':')} is not for email (s=email or *)`);
  const compared = comparePublishedKey(tags, key);
  if (!compared.matches) return fail(compared.written ? `${compared.found}: ${variable}'s key, written so that no signature verifies` : `${compared.found}, not the public half of ${variable}`);
  const kind = key.asymmetricKeyType === 'ed25519' ? 'an Ed25519 key' : `an RSA key of ${compared.bits ?? '?'} bits`;
  if (compared.bits !== undefined && compared.bits < MIN_RSA_BITS) return fail(`${kind}: receivers ignore RSA keys under ${MIN_RSA_BITS} bits`);
  if (tags.t.includes('y')) return { check: 'dkim', subject, status: 'warning', found: `${kind} matching ${variable}, in test mode (t=y): receivers may treat its signatures as absent`, publish };
  if (compared.bits !== undefined && compared.bits < ADVISED_RSA_BITS) return { check: 'dkim', subject, status: 'warning', found: `${kind} matching ${variable}; ${ADVISED_RSA_BITS} bits are advised`, publish: 'make a new key with "almanac keys dkim --selector <new>" and publish it' };
  return { check: 'dkim', subject, status: 'ok', found: `${kind} matching ${variable}` };
}

// --- SPF ---

async function addressesOf(dns: DnsLookup, host: string): Promise<{ ips: string[]; problem?: string }> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return { ips: [bare] };
  const [a, aaaa] = await Promise.all([dns.a(host), dns.aaaa(host)]);
  const ips = [...(a.kind === 'found' ? a.records : []), ...(aaaa.kind === 'found' ? aaaa.records : [])];
  if (ips.length > 0) return { ips };
  const failed = [a, aaaa].find((x): x is Extract<Answer<string>, { kind: 'failed' }> => x.kind === 'failed');
  return { ips, problem: failed ? `its addresses could not be looked up (${failed.reason})` : 'it has no A or AAAA record' };
}

/** Ranges whose addresses never send on the internet: a relay there sends through something else. */
const INTERNAL = new Set(['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat', 'unspecified']);

function isPublic(ip: string): boolean {
  try {
    return !INTERNAL.has(ipaddr.process(ip).range());
  } catch {
    return false;
  }
}

async function spfFindings(dns: DnsLookup, returnDomain: string, fromDomain: string, relayHost: string | undefined, relay: { ips: string[]; problem?: string } | undefined): Promise<Finding[]> {
  const domains = returnDomain === fromDomain ? [returnDomain] : [returnDomain, fromDomain];
  return Promise.all(domains.map((domain) => spfFinding(dns, domain, domain === returnDomain, relayHost, relay)));
}

async function spfFinding(dns: DnsLookup, domain: string, isReturnPath: boolean, relayHost: string | undefined, relay: { ips: string[]; problem?: string } | undefined): Promise<Finding> {
  const role = isReturnPath ? 'the return-path domain, which receivers check SPF against' : 'the From domain';
  const subject = domain;
  const publicIps = relay?.ips.filter(isPublic) ?? [];
  const grant = publicIps.length > 0 ? publicIps.map((ip) => `${ip.includes(':') ? 'ip6' : 'ip4'}:${ip}`).join(' ') : "include:<your mail provider's SPF domain>";
  const found = await spfRecordOf(dns, domain);
  if (!('record' in found)) {
    // Only the return path's SPF decides; a From domain without one is worth a word, not a failure.
    const status: Status = found.result === 'none' && !isReturnPath ? 'warning' : 'error';
    return { check: 'spf', subject, status, found: `${found.reason} (${role})`, publish: found.result === 'temperror' ? undefined : `${domain}. IN TXT "v=spf1 ${grant} ~all"` };
  }
  const parsed = parseSpf(found.record);
  if (!parsed.ok) return { check: 'spf', subject, status: 'error', found: `"${found.record}" is invalid: ${parsed.error}` };
  const suggestion = `${domain}. IN TXT "${withGrant(found.record, grant)}"`;
  if (!relay || relay.ips.length === 0) {
    return { check: 'spf', subject, status: 'warning', found: `"${found.record}"; cannot tell whether it authorizes the relay${relayHost ? ` ${relayHost}: ${relay?.problem ?? 'no address'}` : ' (no SMTP_URL)'}` };
  }
  const verdicts: [string, SpfVerdict][] = [];
  for (const ip of relay.ips) verdicts.push([ip, await checkSpf(dns, domain, ip)]);
  const broken = verdicts.find(([, v]) => v.result === 'permerror' || v.result === 'temperror');
  if (broken) return { check: 'spf', subject, status: 'error', found: `"${found.record}": ${broken[1].result}, ${broken[1].reason}`, ...(broken[1].result === 'permerror' ? { publish: 'a record within 10 DNS lookups (fewer include:, a and mx; ip4:/ip6: cost none) without loops' } : {}) };
  const all = verdicts[0]![1].all;
  const uncertain = [...new Set(verdicts.flatMap(([, v]) => v.uncertain))];
  const notes = [all ? `ends with ${all}${all === '+all' ? ', which authorizes every sender on the internet' : ''}` : 'has no "all" (mail from elsewhere is neutral)', ...(uncertain.length ? [`not evaluated here: ${uncertain.join(', ')}`] : [])].join('; ');
  const passing = verdicts.every(([, v]) => v.result === 'pass');
  if (passing && all === '+all') return { check: 'spf', subject, status: 'warning', found: `"${found.record}" authorizes the relay but ${notes}`, publish: `${domain}. IN TXT "${found.record.replace(/\+?all$/i, '~all')}"` };
  if (passing) {
    // Reserved addresses that never send mail: one passing means any sender does (a wide network, or +all in an include).
    const anyone = relay.ips[0]!.includes(':') ? '100::1' : '240.0.0.1';
    const open = await checkSpf(dns, domain, anyone);
    if (open.result === 'pass') return { check: 'spf', subject, status: 'warning', found: `"${found.record}" authorizes the relay, and every other sender too: ${anyone}, a reserved address, passes (${open.reason}); ${notes}` };
    return { check: 'spf', subject, status: 'ok', found: `authorizes the relay ${relayHost} (${verdicts.map(([ip, v]) => `${ip}: ${v.reason}`).join('; ')}); ${notes}` };
  }
  const results = verdicts.map(([ip, v]) => `${ip} gets ${v.result} (${v.reason})`).join('; ');
  if (publicIps.length === 0) {
    return { check: 'spf', subject, status: 'warning', found: `cannot tell: the relay ${relayHost} is at a private address (${results}); the address it sends from on the internet is not known here. The record ${notes}` };
  }
  return {
    check: 'spf',
    subject,
    status: 'warning',
    found: `cannot tell whether the relay is authorized: ${results}. A provider's relay often sends from other addresses than its SMTP host's; if so, include the provider's SPF domain. The record ${notes}`,
    publish: suggestion,
  };
}

/** The record with `grant` added before its "all" (or redirect), or at its end. */
function withGrant(record: string, grant: string): string {
  const terms = record.split(' ').filter(Boolean);
  const at = terms.findIndex((t) => /^[+\-~?]?all$/i.test(t) || /^redirect=/i.test(t));
  terms.splice(at < 0 ? terms.length : at, 0, grant);
  return terms.join(' ');
}

// --- DMARC ---

async function dmarcFindings(dns: DnsLookup, config: Config, fromDomain: string, returnDomain: string): Promise<Finding[]> {
  const org = organisationalDomain(fromDomain);
  let subject = `_dmarc.${fromDomain}`;
  let answer = await dmarcAt(dns, subject);
  let fallback = '';
  if (answer.kind === 'none' && org !== fromDomain) {
    subject = `_dmarc.${org}`;
    answer = await dmarcAt(dns, subject);
    fallback = ` (the organisational domain's record, which receivers apply to ${fromDomain})`;
  }
  const publish = `_dmarc.${org}. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@${org}"`;
  const findings: Finding[] = [];
  let record: DmarcRecord = { p: 'none', adkim: 'r', aspf: 'r', pct: 100 };
  if (answer.kind === 'failed') return [{ check: 'dmarc', subject, status: 'error', found: `the TXT lookup failed: ${answer.reason}` }];
  if (answer.kind === 'none') {
    findings.push({ check: 'dmarc', subject: `_dmarc.${fromDomain}`, status: 'error', found: `no DMARC record${org !== fromDomain ? ` here or at _dmarc.${org}` : ''}: receivers such as Gmail and Yahoo ask bulk senders for one`, publish });
  } else if (answer.records.length > 1) {
    findings.push({ check: 'dmarc', subject, status: 'error', found: `${answer.records.length} DMARC records (receivers then apply none)`, publish });
  } else {
    const parsed = parseDmarc(answer.records[0]!);
    if (!parsed.ok) {
      findings.push({ check: 'dmarc', subject, status: 'error', found: `"${answer.records[0]}" is invalid: ${parsed.error}`, publish });
    } else {
      record = parsed.record;
      // Found at the organisational domain, the record's sp= (when given) is what applies to a subdomain (RFC 7489 6.6.3).
      const sp = fallback && record.sp ? record.sp : undefined;
      const words = `p=${record.p}${sp ? `, sp=${sp} (the policy for ${fromDomain})` : ''}, adkim=${record.adkim}, aspf=${record.aspf}${record.pct < 100 ? `, pct=${record.pct}` : ''}${fallback}`;
      if ((sp ?? record.p) === 'none') findings.push({ check: 'dmarc', subject, status: 'warning', found: `${words}: receivers only report, and act on nothing; move to ${sp ? 'sp' : 'p'}=quarantine once the reports show your mail aligned` });
      // pct= below 100 leaves the rest of the failing mail to the next milder policy (RFC 7489 6.6.4).
      else if (record.pct < 100) findings.push({ check: 'dmarc', subject, status: 'warning', found: `${words}: the policy is applied to ${record.pct}% of the mail that fails, the rest gets the next milder one; remove pct= once the reports show your mail aligned` });
      else findings.push({ check: 'dmarc', subject, status: 'ok', found: words });
    }
  }
  findings.push(...alignmentFindings(config, fromDomain, returnDomain, record));
  return findings;
}

async function dmarcAt(dns: DnsLookup, name: string): Promise<Answer<string>> {
  const answer = await dns.txt(name);
  if (answer.kind !== 'found') return answer;
  const records = answer.records.filter(isDmarcRecord);
  return records.length > 0 ? { kind: 'found', records } : { kind: 'none' };
}

const MODE_WORDS: Record<Mode, string> = { r: 'relaxed', s: 'strict' };

function alignmentFindings(config: Config, fromDomain: string, returnDomain: string, record: DmarcRecord): Finding[] {
  const subject = `alignment with ${fromDomain}`;
  const dkimDomain = config.sending.dkim?.domain;
  const dkimAligned = dkimDomain !== undefined && aligned(fromDomain, dkimDomain, record.adkim);
  const spfAligned = aligned(fromDomain, returnDomain, record.aspf);
  const dkimWords = dkimDomain === undefined ? 'no DKIM signature' : `DKIM d=${dkimDomain} ${dkimAligned ? 'aligns' : 'does not align'} (adkim=${record.adkim}, ${MODE_WORDS[record.adkim]})`;
  const spfWords = `the return path @${returnDomain} ${spfAligned ? 'aligns' : 'does not align'} (aspf=${record.aspf}, ${MODE_WORDS[record.aspf]})`;
  const found = `${dkimWords}; ${spfWords}`;
  if (!dkimAligned && !spfAligned) {
    return [{ check: 'dmarc', subject, status: 'error', found: `${found}: DMARC fails for every message`, publish: `sign with sending.dkim.domain "${fromDomain}" (or a domain under ${organisationalDomain(fromDomain)} with adkim=r)` }];
  }
  if (!dkimAligned) return [{ check: 'dmarc', subject, status: 'warning', found: `${found}: DMARC rests on SPF alone, which forwarding breaks`, publish: `sign with sending.dkim.domain "${fromDomain}"` }];
  if (!spfAligned) {
    const fix = record.aspf === 's' && aligned(fromDomain, returnDomain, 'r') ? `aspf=r in the DMARC record, or bounces.domain "${fromDomain}"` : `bounces.domain under ${organisationalDomain(fromDomain)}`;
    return [{ check: 'dmarc', subject, status: 'warning', found: `${found}: DMARC passes through DKIM alone`, publish: fix }];
  }
  return [{ check: 'dmarc', subject, status: 'ok', found }];
}

// --- MX ---

async function mxFindings(dns: DnsLookup, fromDomain: string, returnDomain: string): Promise<Finding[]> {
  if (fromDomain === returnDomain) return [await mxFinding(dns, fromDomain, 'replies and bounces')];
  return Promise.all([mxFinding(dns, fromDomain, 'replies'), mxFinding(dns, returnDomain, 'bounces')]);
}

/** MX hosts looked up for an address, in order of preference; a domain with more is unusual. */
const MX_HOSTS_CHECKED = 10;

async function mxFinding(dns: DnsLookup, domain: string, carries: 'replies' | 'bounces' | 'replies and bounces'): Promise<Finding> {
  const subject = `${domain} (${carries})`;
  const lost = carries === 'replies' ? 'replies to issues are lost' : 'asynchronous bounces and complaints never arrive';
  const mx = await dns.mx(domain);
  if (mx.kind === 'failed') return { check: 'mx', subject, status: 'error', found: `the MX lookup failed: ${mx.reason}` };
  if (mx.kind === 'found') {
    const hosts = [...mx.records].sort((a, b) => a.priority - b.priority);
    if (hosts.length === 1 && (hosts[0]!.exchange === '' || hosts[0]!.exchange === '.')) {
      return { check: 'mx', subject, status: 'error', found: `a null MX: ${domain} accepts no mail, so ${lost}`, publish: `${domain}. IN MX 10 <the host that receives its mail>` };
    }
    const listed = `MX ${hosts.map((h) => `${h.priority} ${h.exchange}`).join(', ')}`;
    // A host that DNS cannot find (a typo, a host since removed) receives nothing.
    const reached = await Promise.all(hosts.slice(0, MX_HOSTS_CHECKED).map((h) => addressesOf(dns, h.exchange)));
    if (reached.some((r) => r.ips.length > 0)) return { check: 'mx', subject, status: 'ok', found: listed };
    const why = reached.map((r, i) => `${hosts[i]!.exchange}: ${r.problem ?? 'no address'}`).join('; ');
    return { check: 'mx', subject, status: 'error', found: `${listed}, but none of its hosts has an address (${why}), so ${lost}`, publish: `an A or AAAA record for ${hosts[0]!.exchange}, or an MX naming a host that has one` };
  }
  const a = await dns.a(domain);
  if (a.kind === 'found') return { check: 'mx', subject, status: 'warning', found: `no MX; mail goes to its A address ${a.records.join(', ')} (RFC 5321 5.1), which some senders refuse to do`, publish: `${domain}. IN MX 10 <the host that receives its mail>` };
  if (a.kind === 'failed') return { check: 'mx', subject, status: 'error', found: `no MX, and the A lookup failed: ${a.reason}` };
  return { check: 'mx', subject, status: 'error', found: `no MX and no A record: ${lost}`, publish: `${domain}. IN MX 10 <the host that receives its mail>` };
}
