// The product's own words, said the same way on the site, in the email and on the command line.
import { editionNames, isEdition, type Edition } from '../compose/slots.ts';
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

/**
 * The edition's name as readers see it: its configured label ("Midweek"); for an edition the config
 * no longer has (a reader may still be down for it), its name capitalised.
 */
export function editionLabel(config: Config, edition: Edition): string {
  return isEdition(config, edition) ? config.editions[edition]!.label : edition.charAt(0).toUpperCase() + edition.slice(1);
}

/** "Midweek & Sunday", "Midweek, Sunday & Monthly": every edition, as the newsletter box and the footers name them. */
export function allEditions(config: Config): string {
  return editionsInWords(config, editionNames(config), '&');
}

/** "Midweek", "Midweek and Sunday", "Midweek, Sunday and Monthly". */
export function editionsInWords(config: Config, editions: readonly Edition[], and = 'and'): string {
  const labels = editions.map((e) => editionLabel(config, e));
  return labels.length > 1 ? `${labels.slice(0, -1).join(', ')} ${and} ${labels.at(-1)}` : (labels[0] ?? '');
}
