// Dates as readers see them: a relative age ("5d ago") computed from the build's clock,
// with the exact date kept for <time datetime> and the tooltip.
import { DateTime } from 'luxon';

export interface Stamp {
  /** Machine-readable instant for <time datetime>. */
  iso: string;
  /** "5d ago". */
  ago: string;
  /** "8 April 2026, 09:30 UTC" in the site's time zone. */
  exact: string;
  /** "8 Apr 2026". */
  date: string;
}

export function stamp(ms: number, now: number, zone: string): Stamp {
  const dt = DateTime.fromMillis(ms, { zone });
  const iso = dt.toUTC().toISO({ suppressMilliseconds: true }) ?? '';
  return {
    iso,
    ago: relativeAge(ms, now),
    exact: dt.toFormat("d LLLL yyyy', 'HH:mm ZZZZ"),
    date: dt.toFormat('d LLL yyyy'),
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Compact age in the style readers know from news sites: "just now", "12m ago", "3h ago", "5d ago", "1mo ago", "2y ago". */
export function relativeAge(ms: number, now: number): string {
  const diff = now - ms;
  if (diff < 0) return diff > -HOUR ? 'just now' : `in ${compact(-diff)}`;
  if (diff < MINUTE) return 'just now';
  return `${compact(diff)} ago`;
}

function compact(diff: number): string {
  if (diff < HOUR) return `${Math.floor(diff / MINUTE)}m`;
  if (diff < DAY) return `${Math.floor(diff / HOUR)}h`;
  if (diff < 30 * DAY) return `${Math.floor(diff / DAY)}d`;
  if (diff < 365 * DAY) return `${Math.floor(diff / (30 * DAY))}mo`;
  return `${Math.floor(diff / (365 * DAY))}y`;
}

/** A timeline date as written (YYYY, YYYY-MM, YYYY-MM-DD) in words. */
export function timelineLabel(value: string): string {
  const [y, m, d] = value.split('-');
  if (d) return DateTime.fromObject({ year: Number(y), month: Number(m), day: Number(d) }).toFormat('d LLLL yyyy');
  if (m) return DateTime.fromObject({ year: Number(y), month: Number(m) }).toFormat('LLLL yyyy');
  return String(y);
}
