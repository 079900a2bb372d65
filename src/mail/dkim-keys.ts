// The DKIM keys a site signs with: `sending.dkim` names the domain and selectors, the environment holds
// the private keys. DKIM_PRIVATE_KEY (or _FILE) signs under `selector` and may be RSA or Ed25519;
// DKIM_ED25519_PRIVATE_KEY (or _FILE) adds an Ed25519 signature under `ed25519Selector`, so a message
// carries both when both keys are given (RFC 8463 section 4). Problems name the variable, never the key.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Config } from '../content/config-schema.ts';
import { ConfigError, type Problem } from '../content/problems.ts';
import { CONFIG_FILE } from '../content/paths.ts';
import type { DkimKey } from './dkim-sign.ts';
import { secretSetting } from './secret-setting.ts';

/** Below this an RSA key is refused by receivers (RFC 8301 asks for at least 1024 bits; 2048 is usual). */
const MIN_RSA_BITS = 1024;

interface KeySlot {
  variable: string;
  selectorField: 'selector' | 'ed25519Selector';
  types: readonly string[];
}

const SLOTS: readonly KeySlot[] = [
  { variable: 'DKIM_PRIVATE_KEY', selectorField: 'selector', types: ['rsa', 'ed25519'] },
  { variable: 'DKIM_ED25519_PRIVATE_KEY', selectorField: 'ed25519Selector', types: ['ed25519'] },
];

/** The keys to sign with; none when neither `sending.dkim` nor a key is set. */
export function dkimKeys(config: Config, env: NodeJS.ProcessEnv = process.env): DkimKey[] {
  const dkim = config.sending.dkim;
  const problems: Problem[] = [];
  const keys: DkimKey[] = [];
  for (const slot of SLOTS) {
    const key = readKey(slot, env, problems);
    const selector = dkim?.[slot.selectorField];
    if (key && (!dkim || !selector)) {
      problems.push({ file: CONFIG_FILE, field: `sending.dkim.${slot.selectorField}`, expected: `the DKIM domain and selector that ${slot.variable} signs for`, found: 'nothing' });
    } else if (!key && selector && !problems.some((p) => p.field?.startsWith(slot.variable))) {
      problems.push({ file: 'environment', field: slot.variable, expected: `the private key for sending.dkim.${slot.selectorField} "${selector}" (PEM text, or a file named by ${slot.variable}_FILE)`, found: 'nothing' });
    } else if (key && dkim && selector) {
      keys.push({ domain: dkim.domain, selector, key });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}

function readKey(slot: KeySlot, env: NodeJS.ProcessEnv, problems: Problem[]): KeyObject | undefined {
  const setting = secretSetting(slot.variable, env, { what: 'key', fileExpected: 'a readable private key file', encoding: 'latin1' }, problems);
  if (!setting) return undefined;
  const variable = setting.variable;
  // One-line settings (a .env file, a CI secret) often carry the PEM's line breaks as "\n".
  const pem = variable === slot.variable ? setting.text.replace(/\\n/g, '\n') : setting.text;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    problems.push({ file: 'environment', field: variable, expected: 'a PEM private key ("-----BEGIN PRIVATE KEY-----"), e.g. made by "almanac keys dkim"', found: 'something that is not one' });
    return undefined;
  }
  const type = key.asymmetricKeyType ?? 'unknown';
  if (!slot.types.includes(type)) {
    problems.push({ file: 'environment', field: variable, expected: `${slot.types.length > 1 ? 'an RSA or Ed25519' : 'an Ed25519'} private key`, found: `a key of type ${type}` });
    return undefined;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (type === 'rsa' && bits < MIN_RSA_BITS) {
    problems.push({ file: 'environment', field: variable, expected: `an RSA key of at least ${MIN_RSA_BITS} bits (2048 recommended)`, found: `one of ${bits} bits` });
    return undefined;
  }
  return key;
}

