// DKIM keys for tests and an independent verifier: mailauth's dkimVerify, with the public keys served
// by a resolver fed the TXT records `keys dkim` would print (no DNS on the internet is asked).
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimRecord, type DkimRecord } from '../../src/mail/dkim-record.ts';

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

/** Every DKIM signature of `raw`, checked against `records` as DNS would serve them. */
export async function verifyDkim(raw: Buffer, records: readonly DkimRecord[]): Promise<Verdict[]> {
  const resolver = async (name: string, type: string) => {
    const record = records.find((r) => r.name === name);
    if (type !== 'TXT' || !record) throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
    return [record.strings];
  };
  const { results } = await dkimVerify(raw, { resolver, curTime: new Date() });
  // The result's typings leave out fields the verifier sets (algo, signingHeaders): read them plainly.
  return (results as unknown as { selector: string; algo: string; status: { result: string }; signingHeaders?: { keys?: string } }[]).map((r) => ({
    selector: r.selector,
    algorithm: r.algo,
    result: r.status.result,
    signedFields: (r.signingHeaders?.keys ?? '').split(':').map((k) => k.trim().toLowerCase()).filter(Boolean),
  }));
}
