// The product's own words, said the same way on the site, in the email and on the command line.
import { EDITIONS, type Edition } from '../compose/slots.ts';
import type { Config } from '../content/config-schema.ts';
import type { Level } from '../content/guide-schema.ts';

/** The line under the site's title and at the foot of every email. */
export const TAGLINE = 'The week in AI, paired with guides that explain it.';

const LEVELS: Record<Level, string> = { beginner: 'Beginner', intermediate: 'Intermediate', advanced: 'Advanced' };

/** "Beginner". */
export function levelLabel(level: Level): string {
  return LEVELS[level];
}

/** "Guide · Beginner": the kicker above a guide's title. */
export function guideKicker(level: Level): string {
  return `Guide · ${levelLabel(level)}`;
}

/** The edition's name as readers see it: its configured label ("Midweek"). */
export function editionLabel(config: Config, edition: Edition): string {
  return config.editions[edition].label;
}

/** "Midweek & Sunday": every edition, as the newsletter box and the footers name them. */
export function allEditions(config: Config): string {
  return EDITIONS.map((e) => editionLabel(config, e)).join(' & ');
}
