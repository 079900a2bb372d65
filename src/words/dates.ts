// Dates as readers and editors see them, one formatter for each kind, used by the site, the email
// and the command line alike: exact dates in the site's time zone, always in English whatever the
// machine's locale. A page or an email is read long after it was written, so neither carries a
// relative age ("5d ago"), which would be wrong by then.

export interface Stamp {
  /** Machine-readable instant for <time datetime>. */
  iso: string;
  /** "8 April 2026, 09:30 UTC" in the site's time zone. */
  exact: string;
  /** "8 Apr 2026". */
  date: string;
}

/** An instant as a page shows it: its calendar day in the site's time zone, and the instant in full. */
export function stamp(ms: number, zone: string): Stamp {
  const t = localTime(ms, zone);
  return {
    iso: new Date(ms).toISOString().replace('.000Z', 'Z'),
    exact: exact(t),
    date: `${t.day} ${MONTHS[t.month]!.slice(0, 3)} ${t.year}`,
  };
}

/** "8 April 2026, 09:30 UTC": an instant in full, as the tooltip of an age shows it. */
export function exactTime(ms: number, zone: string): string {
  return exact(localTime(ms, zone));
}

/** "Sunday 3 May 2026": the day an instant falls on in the site's time zone. */
export function longDate(ms: number, zone: string): string {
  const t = localTime(ms, zone);
  return `${WEEKDAYS[t.weekday]} ${t.day} ${MONTHS[t.month]} ${t.year}`;
}

/** "Sunday 3 May 2026": a calendar date (YYYY-MM-DD) in words. */
export function calendarDate(date: string): string {
  return longDate(Date.parse(date), 'UTC');
}

/** "Wed 25 Nov": the day an instant falls on in the site's time zone, short, as an email dates a story. */
export function shortDay(ms: number, zone: string): string {
  const t = localTime(ms, zone);
  return `${WEEKDAYS[t.weekday]!.slice(0, 3)} ${t.day} ${MONTHS[t.month]!.slice(0, 3)}`;
}

/** "Wed 15 Apr 2026 07:00": an instant in the site's time zone, short, for messages and listings. */
export function weekdayTime(ms: number, zone: string): string {
  const t = localTime(ms, zone);
  return `${WEEKDAYS[t.weekday]!.slice(0, 3)} ${t.day} ${MONTHS[t.month]!.slice(0, 3)} ${t.year} ${pad(t.hour)}:${pad(t.minute)}`;
}

/** "Wed 15 Apr 2026 07:00 UTC": the same with the zone's short name. */
export function weekdayTimeZone(ms: number, zone: string): string {
  return `${weekdayTime(ms, zone)} ${localTime(ms, zone).zoneName}`;
}

/** "2026-04-15 07:00 UTC": an instant in the site's time zone, in columns that sort. */
export function numericTime(ms: number, zone: string): string {
  const t = localTime(ms, zone);
  return `${t.year}-${pad(t.month + 1)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)} ${t.zoneName}`;
}

/** "2026-04": the calendar month an instant falls in, in the site's time zone. */
export function calendarMonth(ms: number, zone: string): string {
  const t = localTime(ms, zone);
  return `${t.year}-${pad(t.month + 1)}`;
}

interface LocalTime {
  year: number;
  /** 0 for January. */
  month: number;
  day: number;
  /** 0 for Sunday. */
  weekday: number;
  hour: number;
  minute: number;
  zoneName: string;
}

function localTime(ms: number, zone: string): LocalTime {
  const { offset, name } = zoneAt(ms, zone);
  const local = new Date(ms + offset * MINUTE);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth(),
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    zoneName: name,
  };
}

function exact(t: LocalTime): string {
  return `${t.day} ${MONTHS[t.month]} ${t.year}, ${pad(t.hour)}:${pad(t.minute)} ${t.zoneName}`;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The zone's offset (minutes east of UTC) and short name ("UTC", "CEST", "GMT+9") at an instant.
 * A build stamps thousands of dates, so the answer is kept per zone and UTC day, and Intl is asked
 * only for the days on which the offset changes.
 */
function zoneAt(ms: number, zone: string): { offset: number; name: string } {
  if (zone === 'UTC') return UTC; // the default, and without changes
  const dayStart = Math.floor(ms / DAY) * DAY;
  let days = zoneDays.get(zone);
  if (!days) zoneDays.set(zone, (days = new Map()));
  let day = days.get(dayStart);
  if (day === undefined) {
    const start = askIntl(dayStart, zone);
    const end = askIntl(dayStart + DAY - 1, zone);
    day = start.offset === end.offset && start.name === end.name ? start : null;
    days.set(dayStart, day);
  }
  return day ?? askIntl(ms, zone);
}

const UTC = { offset: 0, name: 'UTC' };

/** Per zone, per UTC day start: the zone's offset and name all day, or null when it changes that day. */
const zoneDays = new Map<string, Map<number, { offset: number; name: string } | null>>();
const formatters = new Map<string, Intl.DateTimeFormat>();

function askIntl(ms: number, zone: string): { offset: number; name: string } {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZoneName: 'short',
    });
    formatters.set(zone, format);
  }
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(ms)) parts[p.type] = p.value;
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return { offset: Math.round((asUtc - Math.floor(ms / 1000) * 1000) / MINUTE), name: parts.timeZoneName ?? zone };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A timeline date as written (YYYY, YYYY-MM, YYYY-MM-DD) in words. */
export function timelineLabel(value: string): string {
  const [y, m, d] = value.split('-');
  if (d) return `${Number(d)} ${MONTHS[Number(m) - 1]} ${y}`;
  if (m) return `${MONTHS[Number(m) - 1]} ${y}`;
  return String(y);
}
