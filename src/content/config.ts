import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configSchema, validate, type Config } from './schema.ts';
import type { Problem } from './problems.ts';

export const CONFIG_FILE = 'almanac.config.json';

/** Reads `almanac.config.json` at the root; a missing file means every default. */
export async function loadConfig(root: string): Promise<{ config: Config; problems: Problem[] }> {
  const file = CONFIG_FILE;
  let raw: string;
  try {
    raw = await readFile(path.join(root, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: configSchema.parse({}), problems: [] };
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    return {
      config: configSchema.parse({}),
      problems: [{ file, expected: 'valid JSON', found: (err as Error).message }],
    };
  }
  const result = validate(configSchema, data, file);
  if (result.value) return { config: result.value, problems: [] };
  return { config: configSchema.parse({}), problems: result.problems };
}
