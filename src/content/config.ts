// The site's configuration, `almanac.config.json` at the root. Reading it is cheap, but validating it
// loads the schema library: with a cache, an unchanged file is not validated again.
import path from 'node:path';
import { FileCache } from '../cache/file-cache.ts';
import type { Problem } from './problems.ts';
import { CONFIG_FILE } from './paths.ts';
import type { Config } from './config-schema.ts';

/** Reads `almanac.config.json` at the root; a missing file means every default. */
export async function loadConfig(root: string, cache = FileCache.disabled()): Promise<{ config: Config; problems: Problem[] }> {
  const file = path.join(root, CONFIG_FILE);
  const known = cache.reuse<{ config: Config; problems: Problem[] }>(file);
  if (known) return known;
  const { readConfig } = await import('./config-file.ts');
  const read = await readConfig(root);
  cache.keep(file, read);
  return read;
}
