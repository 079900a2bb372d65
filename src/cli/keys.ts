// `keys dkim`: a new DKIM key pair. The private key goes to a file only its owner can read (or to
// standard output when asked with --out -); what is printed is the DNS record to publish.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { DKIM_SELECTOR, DOMAIN } from '../content/config-schema.ts';
import { IoError, UsageError } from '../content/problems.ts';
import { STATE_DIR } from '../content/paths.ts';
import { newDkimKey, zoneLine, type DkimKeyType } from '../mail/dkim-record.ts';
import { addressOf } from '../mail/message.ts';
import { printJson, withJson } from './json.ts';
import { globals } from './options.ts';
import { siteConfig } from './site-config.ts';
import { startsSite } from './site-root.ts';

/** What `keys dkim --json` prints. */
export interface DkimKeyReport {
  type: DkimKeyType;
  selector: string;
  domain: string;
  /** Where the private key was written; "-" when it went to standard output. */
  keyFile: string;
  record: { name: string; type: 'TXT'; value: string; strings: string[] };
  /** Only with --out -: the private key, asked for on standard output. */
  privateKey?: string;
}


interface KeysOptions {
  selector: string;
  domain?: string;
  type: string;
  out?: string;
  json?: boolean;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('make keys for signing mail');
  withJson(
    // Runs without a site when --domain is given: keys are often made before the site is set up.
    startsSite(keys.command('dkim')),
  )
    .description('make a DKIM key pair and print the DNS TXT record to publish')
    .requiredOption('--selector <name>', 'the key\'s name in DNS, e.g. s1 (a new one for each new key)')
    .option('--domain <domain>', 'the signing domain (default: sending.dkim.domain, else the From address\'s domain)')
    .option('--type <type>', 'rsa (2048 bits) or ed25519', 'rsa')
    .option('--out <file>', `where the private key goes (default: ${STATE_DIR}/dkim-<selector>.pem under --root; "-" for standard output)`)
    .action(async (opts: KeysOptions, cmd: Command) => {
      const root = path.resolve(globals(cmd).root);
      const selector = opts.selector.trim().toLowerCase();
      if (!DKIM_SELECTOR.test(selector)) throw new UsageError(`--selector expects letters, digits and hyphens, e.g. s1, found "${opts.selector}"`);
      if (opts.type !== 'rsa' && opts.type !== 'ed25519') throw new UsageError(`--type expects rsa or ed25519, found "${opts.type}"`);
      const domain = (opts.domain ?? (await configuredDomain(root))).trim().toLowerCase();
      if (!DOMAIN.test(domain)) throw new UsageError(`--domain expects the domain that signs, e.g. example.org, found "${domain}"`);
      const key = newDkimKey(opts.type, selector, domain);
      const keyFile = opts.out === '-' ? '-' : path.resolve(root, opts.out ?? path.join(STATE_DIR, `dkim-${selector}.pem`));
      if (keyFile !== '-') await writePrivate(keyFile, key.privatePem);
      const report: DkimKeyReport = { type: opts.type, selector, domain, keyFile, record: { ...key.record, type: 'TXT' } };
      if (opts.json) return printJson(keyFile === '-' ? { ...report, privateKey: key.privatePem } : report);
      if (keyFile === '-') process.stdout.write(key.privatePem);
      const variable = `${opts.type === 'ed25519' ? 'DKIM_ED25519_PRIVATE_KEY' : 'DKIM_PRIVATE_KEY'}${keyFile === '-' ? '' : '_FILE'}`;
      const selectorField = opts.type === 'ed25519' ? 'ed25519Selector' : 'selector';
      const out = keyFile === '-' ? process.stderr : process.stdout;
      out.write(
        [
          keyFile === '-' ? '' : `Private key written to ${keyFile} (readable by you only; keep it out of version control).`,
          `Publish this DNS record, then set ${variable} to the key${keyFile === '-' ? '' : ' file'} and sending.dkim { "domain": "${domain}", "${selectorField}": "${selector}" }:`,
          '',
          zoneLine(key.record),
          '',
        ]
          .filter((line, i) => i > 0 || line)
          .join('\n'),
      );
    });
}

async function configuredDomain(root: string): Promise<string> {
  const { config } = await siteConfig(root);
  const domain = config.sending.dkim?.domain ?? addressOf(config.from).split('@').pop() ?? '';
  if (!DOMAIN.test(domain)) throw new UsageError(`give --domain: the configuration names no signing domain (the From address's domain is "${domain}")`);
  return domain;
}

/** Created new, mode 0600: an existing key (perhaps the one in use) is never overwritten. */
async function writePrivate(file: string, pem: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    if (code !== 'EEXIST') throw err;
    throw new IoError([{ file, expected: 'a new file for the private key (an existing key is never overwritten)', found: 'a file already there' }], code);
  }
}
