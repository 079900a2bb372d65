// When issues go out: each edition's cron, read in the site's time zone. A slot is one scheduled
// instant of one edition. An issue covers the news published after the previous slot of any
// edition, up to its own slot.
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import type { Config, EditionConfig } from '../content/config-schema.ts';

/** An edition's name, one of the keys of the config's `editions` (see editionNames). */
export type Edition = string;

/** The site's editions, in the order its config lists them. */
export function editionNames(config: Config): string[] {
  return Object.keys(config.editions);
}

/** Whether `value` names an edition of this site ("constructor" is not one unless the config says so). */
export function isEdition(config: Config, value: string): boolean {
  return Object.hasOwn(config.editions, value);
}

/** "midweek or sunday", "midweek, sunday or monthly": the names a command accepts, for its messages. */
export function editionChoices(config: Config): string {
  const names = editionNames(config);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');
}

/** An edition's settings; only called with a name checked against the config. */
export function editionConfig(config: Config, edition: Edition): EditionConfig {
  if (!isEdition(config, edition)) throw new Error(`no edition "${edition}" in the configuration`);
  return config.editions[edition]!;
}

function cron(config: Config, edition: Edition, currentDate: number) {
  return CronExpressionParser.parse(editionConfig(config, edition).cron, { currentDate: new Date(currentDate), tz: config.timezone });
}

/** The first slot strictly after `after`. */
export function nextSlot(config: Config, edition: Edition, after: number): number {
  return cron(config, edition, after).next().getTime();
}

/** The last slot strictly before `before`. */
export function previousSlot(config: Config, edition: Edition, before: number): number {
  return cron(config, edition, before).prev().getTime();
}

/** Whether `date` (YYYY-MM-DD) is a day of the calendar: "2026-02-30" is not, though Date.parse takes it for 2 March. */
export function isCalendarDate(date: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(date) && DateTime.fromISO(date, { zone: 'UTC' }).isValid;
}

/** The edition's slot on a local calendar date (YYYY-MM-DD), or undefined when it is not scheduled that day. */
export function slotOn(config: Config, edition: Edition, date: string): number | undefined {
  const day = DateTime.fromISO(date, { zone: config.timezone });
  if (!day.isValid) return undefined;
  const slot = nextSlot(config, edition, day.startOf('day').toMillis() - 1);
  return DateTime.fromMillis(slot, { zone: config.timezone }).toISODate() === date ? slot : undefined;
}

/** The window an issue at `slot` covers: after the previous slot of any edition, up to and including `slot`. */
export function issueWindow(config: Config, slot: number): { from: number; to: number } {
  const from = Math.max(...editionNames(config).map((e) => previousSlot(config, e, slot)));
  return { from, to: slot };
}

/** The local date of an instant, YYYY-MM-DD. */
export function localDate(config: Config, ms: number): string {
  return DateTime.fromMillis(ms, { zone: config.timezone }).toISODate()!;
}
