// Reading and validating almanac.config.json (see config.ts, which loads this module when it must).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CONFIG_FILE } from './config.ts';
import { configSchema, validate, type Config } from './schema.ts';
import { decodeText } from './text.ts';
import type { Problem } from './problems.ts';

export async function readConfig(root: string): Promise<{ config: Config; problems: Problem[] }> {
  const file = CONFIG_FILE;
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(root, file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: configSchema.parse({}), problems: [] };
    throw err;
  }
  const decoded = decodeText(bytes, file);
  if (decoded.problem) return { config: configSchema.parse({}), problems: [decoded.problem] };
  const raw = decoded.text;
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
