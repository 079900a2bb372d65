// DKIM keys for tests and an independent verifier: mailauth's dkimVerify, with the public keys
// published as the TXT records `keys dkim` prints on a DNS server on loopback, and asked for through
// node:dns (no DNS on the internet is asked).
import { generateKeyPairSync } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimRecord, type DkimRecord } from '../../src/mail/dkim-record.ts';
import { startDnsServer } from './dns-server.ts';

export const DKIM_DOMAIN = 'almanac.example.org';

export interface TestKeys {
  /** Environment that gives the keys: the RSA key as PEM text, the Ed25519 key as a file. */
  env: NodeJS.ProcessEnv;
  rsaPem: string;
  edPem: string;
  records: DkimRecord[];
  /** sending.dkim for both keys. */
  config: { domain: string; selector: string; ed25519Selector: string };
}

export async function testKeys(dir: string): Promise<TestKeys> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  const rsaPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const edPem = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const edFile = path.join(dir, 'dkim-e1.pem');
  await writeFile(edFile, edPem, { mode: 0o600 });
  return {
    env: { DKIM_PRIVATE_KEY: rsaPem, DKIM_ED25519_PRIVATE_KEY_FILE: edFile },
    rsaPem,
    edPem,
    records: [dkimRecord(rsa.publicKey, 's1', DKIM_DOMAIN), dkimRecord(ed.publicKey, 'e1', DKIM_DOMAIN)],
    config: { domain: DKIM_DOMAIN, selector: 's1', ed25519Selector: 'e1' },
  };
}

export interface Verdict {
  selector: string;
  algorithm: string;
  result: string;
  /** Fields the signature covers (its h= tag). */
  signedFields: string[];
}

/** Every DKIM signature of `raw`, checked against `records` as a DNS server on loopback serves them. */
export async function verifyDkim(raw: Buffer, records: readonly DkimRecord[]): Promise<Verdict[]> {
  const server = await startDnsServer({ TXT: Object.fromEntries(records.map((r) => [r.name, [r.strings]])) });
  try {
    const dns = new Resolver({ timeout: 2000, tries: 2 });
    dns.setServers([server.address]);
    // mailauth asks for the key record by name and type, as node:dns would answer it.
    const resolver = (name: string, type: string) => {
      if (type !== 'TXT') throw Object.assign(new Error(`no ${type} lookups here`), { code: 'ENOTFOUND' });
      return dns.resolveTxt(name);
    };
    const { results } = await dkimVerify(raw, { resolver, curTime: new Date() });
    // Every key that verified came through DNS (a signature whose body hash fails needs none).
    const asked = new Set(server.queries.filter((q) => q.startsWith('TXT ')));
    const passed = results.filter((r) => (r as { status: { result: string } }).status.result === 'pass').length;
    if (asked.size < passed) throw new Error(`${passed} signatures verified but ${asked.size} key records asked of the DNS server`);
    // The result's typings leave out fields the verifier sets (algo, signingHeaders): read them plainly.
    return (results as unknown as { selector: string; algo: string; status: { result: string }; signingHeaders?: { keys?: string } }[]).map((r) => ({
      selector: r.selector,
      algorithm: r.algo,
      result: r.status.result,
      signedFields: (r.signingHeaders?.keys ?? '').split(':').map((k) => k.trim().toLowerCase()).filter(Boolean),
    }));
  } finally {
    await server.close();
  }
}
