// Reading and validating almanac.config.json (see config.ts, which loads this module when it must).
import { ContentError } from './problems.ts';
import { readTextInsideRoot } from '../files/walk.ts';
import { CONFIG_FILE } from './paths.ts';
import { configSchema, turnedOffEditions, type Config } from './config-schema.ts';
import { validate } from './validate.ts';
import type { Problem } from './problems.ts';

export async function readConfig(root: string): Promise<{ config: Config; problems: Problem[] }> {
  const file = CONFIG_FILE;
  let raw: string | undefined;
  try {
    raw = readTextInsideRoot(root, file);
  } catch (err) {
    if (err instanceof ContentError) return { config: configSchema.parse({}), problems: [...err.problems] };
    throw err;
  }
  if (raw === undefined) return { config: configSchema.parse({}), problems: [] };
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
  if (result.value) return { config: { ...result.value, editionsOff: turnedOffEditions(data) }, problems: [] };
  return { config: configSchema.parse({}), problems: result.problems };
}
