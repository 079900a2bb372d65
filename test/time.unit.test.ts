// Dates as readers see them: the arithmetic calendar in words/dates.ts against the platform's own,
// and each kind of date as the email and the command line wrote it with luxon before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { calendarDate, exactTime, longDate, numericTime, stamp, weekdayTime, weekdayTimeZone } from '../src/words/dates.ts';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

// One formatter per zone: making one costs more than all the checks it serves.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
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
      timeZoneName: 'short',
    });
    formatters.set(zone, format);
  }
  return format;
}

/** What stamp() must say, from Intl and Date. */
function expected(ms: number, zone: string): { iso: string; exact: string; date: string } {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(ms)) parts[p.type] = p.value;
  const month = MONTHS[Number(parts.month) - 1]!;
  return {
    iso: new Date(ms).toISOString().replace('.000Z', 'Z'),
    exact: `${Number(parts.day)} ${month} ${parts.year}, ${parts.hour}:${parts.minute} ${parts.timeZoneName}`,
    date: `${Number(parts.day)} ${month.slice(0, 3)} ${parts.year}`,
  };
}

describe('stamp', () => {
  it('agrees with Date and Intl on every field, across 130 years, leap days and time zones', () => {
    // From 1970: before, some zones kept local mean time, with offsets in seconds.
    const from = Date.UTC(1970, 0, 1);
    const to = Date.UTC(2100, 11, 31);
    // A step that is not a whole number of days or seconds visits every time of day and some milliseconds.
    const step = 86_400_000 * 3 + 3_723_457;
    for (const zone of ['UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'America/St_Johns']) {
      for (let ms = from; ms < to; ms += step * (zone === 'UTC' ? 1 : 7)) {
        const { iso, exact, date } = stamp(ms, zone);
        assert.deepEqual({ iso, exact, date }, expected(ms, zone), `${new Date(ms).toISOString()} in ${zone}`);
      }
    }
  });

  it('writes the edges of a year and a leap day as Date does', () => {
    for (const iso of ['2024-02-29T23:59:59.999Z', '2100-03-01T00:00:00Z', '2000-02-29T12:00:00Z', '1969-12-31T23:59:59Z', '1970-01-01T00:00:00.001Z', '2026-12-31T23:59:00Z']) {
      const ms = Date.parse(iso);
      assert.equal(stamp(ms, 'UTC').iso, new Date(ms).toISOString().replace('.000Z', 'Z'));
      assert.deepEqual(stamp(ms, 'UTC').date, expected(ms, 'UTC').date);
    }
  });


  it('names the day an instant falls on in the site\'s zone', () => {
    const ms = Date.parse('2026-05-02T23:30:00Z');
    assert.equal(longDate(ms, 'UTC'), 'Saturday 2 May 2026');
    assert.equal(longDate(ms, 'Europe/Berlin'), 'Sunday 3 May 2026');
  });
});

describe('each kind of date', () => {
  const zones = ['UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'America/St_Johns', 'Australia/Lord_Howe'];
  const formats: [string, (ms: number, zone: string) => string, string][] = [
    ['exactTime', exactTime, "d LLLL yyyy', 'HH:mm ZZZZ"],
    ['longDate', longDate, 'cccc d LLLL yyyy'],
    ['weekdayTime', weekdayTime, 'ccc d LLL yyyy HH:mm'],
    ['weekdayTimeZone', weekdayTimeZone, 'ccc d LLL yyyy HH:mm ZZZZ'],
    ['numericTime', numericTime, 'yyyy-MM-dd HH:mm ZZZZ'],
  ];

  it('is written as luxon writes it in English, in every zone, across daylight-saving changes', () => {
    const from = Date.UTC(2000, 0, 1);
    const to = Date.UTC(2040, 0, 1);
    // An odd step, so that the instants drift through every hour of the day and every day of the week.
    const step = 86_400_000 * 13 + 3_723_457;
    for (const zone of zones) {
      for (let ms = from; ms < to; ms += step) {
        const dt = DateTime.fromMillis(ms, { zone, locale: 'en-US' });
        for (const [name, format, luxon] of formats) {
          assert.equal(format(ms, zone), dt.toFormat(luxon), `${name} of ${new Date(ms).toISOString()} in ${zone}`);
        }
      }
    }
  });

  it('names the day of a calendar date, whatever the zone', () => {
    assert.equal(calendarDate('2026-04-13'), 'Monday 13 April 2026');
    assert.equal(calendarDate('2024-02-29'), 'Thursday 29 February 2024');
  });
});

