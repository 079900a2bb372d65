// Whether the configuration lets an issue go out at all: settings every issue needs, whatever its
// content. `check` reports them before the first real send would fail on them.
import { isEmailAddress } from '../content/address.ts';
import { CONFIG_FILE } from '../content/paths.ts';
import { ConfigError, type Problem } from '../content/problems.ts';
import type { Config } from '../content/config-schema.ts';
import { dkimKeys } from './dkim-keys.ts';
import { addressOf } from './message.ts';

export function sendingProblems(config: Config, env: NodeJS.ProcessEnv = process.env): Problem[] {
  const problems: Problem[] = [];
  problems.push(...dkimProblems(config, env));
  const base = baseUrlProblem(config);
  if (base) problems.push(base);
  const from = fromProblem(config);
  if (from) problems.push(from);
  return problems;
}

/** The From address must be one at a domain on the internet: receivers, and `doctor`, look that domain up. */
export function fromProblem(config: Config): Problem | undefined {
  if (isEmailAddress(addressOf(config.from))) return undefined;
  return {
    file: CONFIG_FILE,
    field: 'from',
    expected: 'a sender with an address readers can reply to, e.g. "Call Me Almanac <letters@example.org>"',
    found: JSON.stringify(config.from),
  };
}

/** Links in an email are absolute https, so the site's address must be one. */
export function baseUrlProblem(config: Config): Problem | undefined {
  if (config.baseUrl.startsWith('https://')) return undefined;
  return {
    file: CONFIG_FILE,
    field: 'baseUrl',
    expected: "the site's public https:// address (every link in an email must be absolute https)",
    found: JSON.stringify(config.baseUrl),
  };
}

/**
 * The DKIM keys as a send would read them, without the network: a selector without its key, a key
 * file that cannot be read, a key of the wrong type or too short. Problems name the variable, never the key.
 */
export function dkimProblems(config: Config, env: NodeJS.ProcessEnv = process.env): Problem[] {
  try {
    dkimKeys(config, env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}
