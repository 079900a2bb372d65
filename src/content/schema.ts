// One schema per content type. Each rule carries the words a writer sees when it fails ("expected …"),
// so the messages read as instructions rather than as validator jargon.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { isAddressOrCidr, isEmailAddress } from './address.ts';
import { describeValue, type Problem } from './problems.ts';

// Every text and list has a ceiling, named in the message: a pasted 50 MB summary or a list of
// 200,000 topics is a mistake to report, not something to render into every page and email.
export const LIMITS = {
  name: 100,
  title: 500,
  line: 1_000,
  paragraph: 5_000,
  url: 2_048,
  topics: 20,
  list: 50,
  timeline: 200,
  summary: 20_000,
} as const;

const text = (what: string, max: number = LIMITS.line) =>
  z
    .string({ error: what })
    .trim()
    .min(1, { error: what })
    .max(max, { error: `${what} of at most ${max.toLocaleString('en')} characters` });
const list = <T extends z.ZodType>(item: T, what: string, max: number) =>
  z.array(item, { error: what }).max(max, { error: `${what} of at most ${max.toLocaleString('en')} entries` });
const textList = (what: string, item: string, max: number = LIMITS.list, itemMax: number = LIMITS.line) =>
  list(text(item, itemMax), what, max).min(1, { error: what });

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
  title: text('a title (text)', LIMITS.title),
  level: z.enum(LEVELS, { error: 'one of beginner, intermediate, advanced' }),
  topics: textList('a list of at least one topic', 'a topic name (text)', LIMITS.topics, LIMITS.name),
  tldr: text('a TL;DR (text)', LIMITS.paragraph),
  takeaways: textList('a list of at least one takeaway', 'a takeaway (text)'),
  status: z.enum(['active', 'archived'], { error: 'active or archived' }).default('active'),
  timeline: list(
    z.strictObject({ date: timelineDate, event: text('an event (text)') }, { error: 'an entry with date and event' }),
    'a list of {date, event} entries',
    LIMITS.timeline,
  ).default([]),
  related: list(text('a topic name (text)', LIMITS.name), 'a list of topics', LIMITS.topics).default([]),
  faq: list(
    z.strictObject({ q: text('a question (text)'), a: text('an answer (text)', LIMITS.paragraph) }, { error: 'an entry with q and a' }),
    'a list of {q, a} entries',
    LIMITS.list,
  ).default([]),
});
export type GuideFrontMatter = z.infer<typeof guideSchema>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export const newsSchema = z.strictObject({
  title: text('a title (text)', LIMITS.title),
  url: z
    .string({ error: 'an absolute http(s) URL' })
    .max(LIMITS.url, { error: `an absolute http(s) URL of at most ${LIMITS.url.toLocaleString('en')} characters` })
    .refine((v) => /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v), { error: 'an absolute http(s) URL' }),
  source: text('the name of the source (text), e.g. "The Batch"', LIMITS.name),
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
  topics: list(text('a topic name (text)', LIMITS.name), 'a list of topics', LIMITS.topics).default([]),
});
export type NewsFrontMatter = z.infer<typeof newsSchema>;

/** An SMTP or stop deadline: more than 0 and at most an hour. */
const seconds = z
  .number({ error: 'a number of seconds from 0.1 to 3600' })
  .min(0.1, { error: 'a number of seconds from 0.1 to 3600' })
  .max(3600, { error: 'a number of seconds from 0.1 to 3600' });

export interface EditionConfig {
  label: string;
  cron: string;
  maxItems: number;
}

/** The two built-in editions; every key an edition leaves out falls back to these. */
export const EDITION_DEFAULTS = {
  midweek: { label: 'Midweek', cron: '0 7 * * 3', maxItems: 12 },
  sunday: { label: 'Sunday', cron: '0 8 * * 0', maxItems: 20 },
} as const satisfies Record<string, EditionConfig>;

export type Editions = { [E in keyof typeof EDITION_DEFAULTS]: EditionConfig };

/** Each key optional: see editionsSchema for the defaults. */
const editionSchema = z.strictObject(
  {
    label: text('a label (text)', LIMITS.name).optional(),
    cron: z
      .string({ error: 'a cron expression, e.g. "0 7 * * 3"' })
      .refine(isCron, { error: 'a cron expression, e.g. "0 7 * * 3" (minute hour day month weekday)' })
      .optional(),
    maxItems: z.number({ error: 'a whole number of at least 1' }).int({ error: 'a whole number of at least 1' }).min(1, { error: 'a whole number of at least 1' }).optional(),
  },
  { error: 'an edition: {"label", "cron", "maxItems"}, each optional' },
);

/**
 * The editions by name, each key an edition leaves out falling back to its default. Only midweek and
 * sunday: the scheduler, the subscriber list and the preferences page know these two, so an edition of
 * another name would be accepted here and then never sent.
 */
const editionsSchema = z
  .record(z.string(), editionSchema, { error: 'editions by name, e.g. {"midweek": {"cron": "0 7 * * 3"}}' })
  .default({})
  .superRefine(
    (editions, ctx) => {
      for (const name of Object.keys(editions)) {
        if (Object.hasOwn(EDITION_DEFAULTS, name)) continue;
        ctx.addIssue({ code: 'custom', path: [name], message: 'an edition this version of Almanac sends: "midweek" or "sunday" (editions of other names are not supported yet)' });
      }
    },
    // Every problem at once: an unknown edition is reported beside a wrong value elsewhere.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) },
  )
  .transform((editions): Editions => {
    const edition = (name: keyof typeof EDITION_DEFAULTS): EditionConfig => ({ ...EDITION_DEFAULTS[name], ...(Object.hasOwn(editions, name) ? editions[name] : {}) });
    return { midweek: edition('midweek'), sunday: edition('sunday') };
  });

/** An http(s) URL (checked before) that links can be appended to: nothing after its path, no credentials. */
function isBaseUrl(v: string): boolean {
  const url = new URL(v);
  return !v.includes('?') && !v.includes('#') && url.username === '' && url.password === '';
}

export const configSchema = z.strictObject({
  title: text('a site title (text)', LIMITS.name).default('Call Me Almanac'),
  // Written once as the URL standard spells it (a space or quote in the path percent-encoded, the host
  // in lower case), so that every link built on it (pages, feeds, sitemap, emails) is a valid URL; a
  // query, fragment or password would end up in the middle of each link.
  baseUrl: z
    .string({ error: 'an absolute http(s) URL' })
    .trim()
    .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), { error: 'an absolute http(s) URL', abort: true })
    .refine(isBaseUrl, { error: 'the site\'s address with no query, fragment or user name, e.g. "https://example.org/letters"' })
    .transform((v) => new URL(v).href.replace(/\/+$/, ''))
    .default('http://localhost:4000'),
  timezone: z
    .string({ error: 'an IANA time zone, e.g. "Europe/Berlin"' })
    .refine(isTimeZone, { error: 'an IANA time zone, e.g. "Europe/Berlin"' })
    .default('UTC'),
  from: text('a sender, e.g. "Call Me Almanac <almanac@example.com>"', LIMITS.title).default('Call Me Almanac <almanac@localhost>'),
  language: z
    .string({ error: 'a language tag, e.g. "en"' })
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { error: 'a language tag, e.g. "en"' })
    .default('en'),
  catchUpHours: z.number({ error: 'a number of hours (0 or more)' }).min(0, { error: 'a number of hours (0 or more)' }).default(6),
  // At most a day: the lease is renewed on timers of a quarter of it, which Node cannot set past
  // 2^31 ms (it fires them every millisecond instead), and a dead sender's lease blocks for that long.
  leaseSeconds: z
    .number({ error: 'a number of seconds from 1 to 86400' })
    .min(1, { error: 'a number of seconds from 1 to 86400' })
    .max(86_400, { error: 'a number of seconds from 1 to 86400' })
    .default(60),
  // The reverse proxies in front of `serve` whose X-Forwarded-For header is believed.
  trustProxy: z
    .array(
      z.string({ error: 'an IP address or CIDR block, e.g. "127.0.0.1" or "10.0.0.0/8"' }).trim().refine(isAddressOrCidr, {
        error: 'an IP address or CIDR block, e.g. "127.0.0.1" or "10.0.0.0/8"',
      }),
      { error: 'a list of proxy addresses (IPs or CIDR blocks), e.g. ["127.0.0.1"]' },
    )
    .default([]),
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
  editions: editionsSchema,
  preview: z
    .strictObject({
      // Where the preview's "send test" may deliver (besides active subscribers): never an address typed into a page.
      testAddresses: z
        .array(
          z
            .string({ error: 'an email address, e.g. "editor@example.com"' })
            .trim()
            .refine(isEmailAddress, { error: 'an email address, e.g. "editor@example.com"' }),
          { error: 'a list of email addresses, e.g. ["editor@example.com"]' },
        )
        .default([]),
    })
    .default({ testAddresses: [] }),
});
export type Config = z.infer<typeof configSchema>;

/**
 * Five fields (minute hour day month weekday) or a name such as @daily. The parser also reads six or
 * seven fields, seconds first: "0 7 * * 3 *", one field too many, would be every hour in March.
 */
function isCron(expression: string): boolean {
  // Five fields, or six with seconds first (as node-cron reads them); a seventh (a year, in some
  // dialects) is refused rather than read with every field shifted by one.
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6 && !(fields.length === 1 && fields[0]!.startsWith('@'))) return false;
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
    if (issue.code === 'invalid_key') {
      // A name that is not allowed (an edition's, say): the name is what was found.
      problems.push({
        file,
        field: fieldName(issue.path),
        expected: issue.issues[0]?.message ?? issue.message,
        found: `the name ${JSON.stringify(String(issue.path.at(-1)))}`,
      });
      continue;
    }
    problems.push({
      file,
      field: fieldName(issue.path) || undefined,
      expected: issue.message,
      found: describeFound(valueAt(data, issue.path)),
    });
  }
  return { value: undefined, problems };
}

/** A long text is described by its length: quoting the start of 50 MB helps nobody. */
function describeFound(value: unknown): string {
  if (typeof value === 'string' && value.length > 200) return `a text of ${value.length.toLocaleString('en')} characters`;
  return describeValue(value);
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
    else if (cur instanceof z.ZodRecord) cur = cur.valueType;
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
