import path from 'node:path';
import { loadConfig } from '../content/config.ts';
import { ContentError } from '../content/problems.ts';
import type { Config } from '../content/config-schema.ts';
import { weekdayTimeZone } from '../words/dates.ts';

/** The site's configuration, or its problems thrown. */
export async function siteConfig(rootOption: string): Promise<{ root: string; config: Config }> {
  const root = path.resolve(rootOption);
  const { config, problems } = await loadConfig(root);
  if (problems.length) throw new ContentError(problems);
  return { root, config };
}

/** "Wed 15 Apr 2026 07:00 UTC": an instant in the site's time zone, as status and schedule show it. */
export function localTime(config: Config, ms: number): string {
  return weekdayTimeZone(ms, config.timezone);
}
