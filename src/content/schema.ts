// One schema per content type. Each rule carries the words a writer sees when it fails ("expected …"),
// so the messages read as instructions rather than as validator jargon.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { describeValue, type Problem } from './problems.ts';

const text = (what: string) => z.string({ error: what }).trim().min(1, { error: what });
const textList = (what: string, item: string) =>
  z.array(text(item), { error: what }).min(1, { error: what });

export const LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export type Level = (typeof LEVELS)[number];

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a bare year in YAML arrives as a number. */
const timelineDate = z
  .union([z.string(), z.number().int()], { error: 'a date as YYYY, YYYY-MM or YYYY-MM-DD' })
  .transform((v) => String(v))
  .refine((v) => /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/.test(v), {
    error: 'a date as YYYY, YYYY-MM or YYYY-MM-DD',
  });

export const guideSchema = z.strictObject({
  title: text('a title (text)'),
  level: z.enum(LEVELS, { error: 'one of beginner, intermediate, advanced' }),
  topics: textList('a list of at least one topic', 'a topic name (text)'),
  tldr: text('a TL;DR (text)'),
  takeaways: textList('a list of at least one takeaway', 'a takeaway (text)'),
  status: z.enum(['active', 'archived'], { error: 'active or archived' }).default('active'),
  timeline: z
    .array(
      z.strictObject(
        { date: timelineDate, event: text('an event (text)') },
        { error: 'an entry with date and event' },
      ),
      { error: 'a list of {date, event} entries' },
    )
    .default([]),
  related: z.array(text('a topic name (text)'), { error: 'a list of topics' }).default([]),
  faq: z
    .array(
      z.strictObject({ q: text('a question (text)'), a: text('an answer (text)') }, { error: 'an entry with q and a' }),
      { error: 'a list of {q, a} entries' },
    )
    .default([]),
});
export type GuideFrontMatter = z.infer<typeof guideSchema>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export const newsSchema = z.strictObject({
  title: text('a title (text)'),
  url: z
    .string({ error: 'an absolute http(s) URL' })
    .refine((v) => /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v), { error: 'an absolute http(s) URL' }),
  source: text('the name of the source (text), e.g. "The Batch"'),
  published: z
    .string({ error: 'an ISO 8601 date or date-time, e.g. 2026-04-08 or 2026-04-08T09:30:00Z' })
    .refine((v) => ISO_DATE.test(v) || ISO_DATE_TIME.test(v), {
      error: 'an ISO 8601 date or date-time, e.g. 2026-04-08 or 2026-04-08T09:30:00Z',
    }),
  score: z
    .number({ error: 'a whole number from 1 to 10' })
    .int({ error: 'a whole number from 1 to 10' })
    .min(1, { error: 'a whole number from 1 to 10' })
    .max(10, { error: 'a whole number from 1 to 10' }),
  topics: z.array(text('a topic name (text)'), { error: 'a list of topics' }).default([]),
});
export type NewsFrontMatter = z.infer<typeof newsSchema>;

/** An SMTP or stop deadline: more than 0 and at most an hour. */
const seconds = z
  .number({ error: 'a number of seconds from 0.1 to 3600' })
  .min(0.1, { error: 'a number of seconds from 0.1 to 3600' })
  .max(3600, { error: 'a number of seconds from 0.1 to 3600' });

const editionSchema = z.strictObject({
  label: text('a label (text)'),
  cron: z
    .string({ error: 'a cron expression, e.g. "0 7 * * 3"' })
    .refine(isCron, { error: 'a cron expression, e.g. "0 7 * * 3" (minute hour day month weekday)' }),
  maxItems: z.number({ error: 'a whole number of at least 1' }).int().min(1, { error: 'a whole number of at least 1' }),
});

export const configSchema = z.strictObject({
  title: text('a site title (text)').default('Call Me Almanac'),
  baseUrl: z
    .string({ error: 'an absolute http(s) URL' })
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { error: 'an absolute http(s) URL' })
    .transform((v) => v.replace(/\/+$/, ''))
    .default('http://localhost:4000'),
  timezone: z
    .string({ error: 'an IANA time zone, e.g. "Europe/Berlin"' })
    .refine(isTimeZone, { error: 'an IANA time zone, e.g. "Europe/Berlin"' })
    .default('UTC'),
  from: text('a sender, e.g. "Call Me Almanac <almanac@example.com>"').default('Call Me Almanac <almanac@localhost>'),
  language: z
    .string({ error: 'a language tag, e.g. "en"' })
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { error: 'a language tag, e.g. "en"' })
    .default('en'),
  catchUpHours: z.number({ error: 'a number of hours (0 or more)' }).min(0, { error: 'a number of hours (0 or more)' }).default(6),
  leaseSeconds: z.number({ error: 'a number of seconds from 1' }).min(1, { error: 'a number of seconds from 1' }).default(60),
  sending: z
    .strictObject({
      concurrency: z.number({ error: 'a whole number of SMTP connections from 1 to 50' }).int().min(1).max(50).default(5),
      ratePerSecond: z.number({ error: 'messages per second (0 for no limit)' }).min(0).default(0),
      maxAttempts: z.number({ error: 'a whole number of attempts from 1 to 20' }).int().min(1).max(20).default(5),
      // Deadlines of each SMTP step, and of a stop: a server that stops answering never hangs a run.
      connectTimeoutSeconds: seconds.default(30),
      greetingTimeoutSeconds: seconds.default(30),
      commandTimeoutSeconds: seconds.default(60),
      dataTimeoutSeconds: seconds.default(120),
      stopTimeoutSeconds: seconds.default(20),
    })
    .default({
      concurrency: 5,
      ratePerSecond: 0,
      maxAttempts: 5,
      connectTimeoutSeconds: 30,
      greetingTimeoutSeconds: 30,
      commandTimeoutSeconds: 60,
      dataTimeoutSeconds: 120,
      stopTimeoutSeconds: 20,
    }),
  editions: z
    .strictObject({
      midweek: editionSchema.default({ label: 'Midweek', cron: '0 7 * * 3', maxItems: 12 }),
      sunday: editionSchema.default({ label: 'Sunday', cron: '0 8 * * 0', maxItems: 20 }),
    })
    .default({
      midweek: { label: 'Midweek', cron: '0 7 * * 3', maxItems: 12 },
      sunday: { label: 'Sunday', cron: '0 8 * * 0', maxItems: 20 },
    }),
});
export type Config = z.infer<typeof configSchema>;

function isCron(expression: string): boolean {
  try {
    CronExpressionParser.parse(expression);
    return true;
  } catch {
    return false;
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Validates `data` against `schema`; problems name `file` and the field path. */
export function validate<T>(
  schema: z.ZodType<T>,
  data: unknown,
  file: string,
): { value: T; problems: [] } | { value: undefined; problems: Problem[] } {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data, problems: [] };
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, issue.path);
      for (const key of issue.keys) {
        problems.push({
          file,
          field: fieldName([...issue.path, key]),
          expected: allowed ? `one of the known fields (${allowed.join(', ')})` : 'a known field',
          found: `an unknown field "${key}"`,
        });
      }
      continue;
    }
    problems.push({
      file,
      field: fieldName(issue.path) || undefined,
      expected: issue.message,
      found: describeValue(valueAt(data, issue.path)),
    });
  }
  return { value: undefined, problems };
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/** The keys a strict object schema allows at `path`, to suggest the right spelling. */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let cur: unknown = schema;
  for (const part of path) {
    cur = unwrap(cur);
    if (cur instanceof z.ZodObject) cur = cur.shape[String(part)];
    else if (cur instanceof z.ZodArray) cur = cur.element;
    else return undefined;
  }
  cur = unwrap(cur);
  return cur instanceof z.ZodObject ? Object.keys(cur.shape) : undefined;
}

function unwrap(s: unknown): unknown {
  let cur = s;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional || cur instanceof z.ZodPipe) {
    if (cur instanceof z.ZodPipe) cur = cur.in;
    else cur = cur.unwrap();
  }
  return cur;
}
