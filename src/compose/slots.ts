// When issues go out: each edition's cron, read in the site's time zone. A slot is one scheduled
// instant of one edition. An issue covers the news published after the previous slot of either
// edition, up to its own slot.
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import type { Config } from '../content/config-schema.ts';

export const EDITIONS = ['midweek', 'sunday'] as const;
export type Edition = (typeof EDITIONS)[number];

export function isEdition(value: string): value is Edition {
  return (EDITIONS as readonly string[]).includes(value);
}

function cron(config: Config, edition: Edition, currentDate: number) {
  return CronExpressionParser.parse(config.editions[edition].cron, { currentDate: new Date(currentDate), tz: config.timezone });
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

/** The window an issue at `slot` covers: after the previous slot of either edition, up to and including `slot`. */
export function issueWindow(config: Config, slot: number): { from: number; to: number } {
  const from = Math.max(...EDITIONS.map((e) => previousSlot(config, e, slot)));
  return { from, to: slot };
}

/** The local date of an instant, YYYY-MM-DD. */
export function localDate(config: Config, ms: number): string {
  return DateTime.fromMillis(ms, { zone: config.timezone }).toISODate()!;
}
