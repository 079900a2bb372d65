// The site's configuration (almanac.config.json): every key optional, each with its default.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { isAddressOrCidr, isEmailAddress, isLoopbackHost } from './address.ts';
import { LIMITS, text } from './fields.ts';

/** An SMTP or stop deadline: more than 0 and at most an hour. */
const seconds = z
  .number({ error: 'a number of seconds from 0.1 to 3600' })
  .min(0.1, { error: 'a number of seconds from 0.1 to 3600' })
  .max(3600, { error: 'a number of seconds from 0.1 to 3600' });

/** A provider's quota over one window: a whole number of messages, left out for no limit. */
const quotaLimit = z
  .number({ error: 'a whole number of messages of at least 1' })
  .int({ error: 'a whole number of messages of at least 1' })
  .min(1, { error: 'a whole number of messages of at least 1' })
  .optional();

export interface EditionConfig {
  label: string;
  cron: string;
  maxItems: number;
}

/** The two editions a site has when its config names none; a key an edition of these names leaves out falls back to these. */
export const EDITION_DEFAULTS = {
  midweek: { label: 'Midweek', cron: '0 7 * * 3', maxItems: 12 },
  sunday: { label: 'Sunday', cron: '0 8 * * 0', maxItems: 20 },
} as const satisfies Record<string, EditionConfig>;

/** The most stories an issue of an edition of another name holds when its config does not say. */
export const MAX_ITEMS_DEFAULT = 12;

/**
 * An edition's name goes into file names (`content/issues/<date>-<edition>.md`), issue ids, URLs and
 * return paths (whose local part, at most 64 characters, has room for 15 of it beside the largest
 * reader id), so it is a short lower-case slug.
 */
export const EDITION_NAME = /^[a-z][a-z0-9-]{0,14}$/;

/** The editions by name, in the order the config lists them. */
export type Editions = Record<string, EditionConfig>;

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

const isDefaultEdition = (name: string): name is keyof typeof EDITION_DEFAULTS => Object.hasOwn(EDITION_DEFAULTS, name);

/**
 * The editions by name: Midweek and Sunday, and any other the config names; `false` turns one off
 * (`"sunday": false`). A config written for the two editions keeps both when it tunes only one. An
 * edition named midweek or sunday falls back to that edition's defaults key by key; one of another
 * name needs its own cron, is labelled with its name capitalised and holds at most MAX_ITEMS_DEFAULT
 * stories unless it says otherwise.
 */
const editionsSchema = z
  .record(
    z.string().regex(EDITION_NAME, { error: 'an edition name of lower-case letters, digits and hyphens, starting with a letter, at most 15 characters, e.g. "monthly"' }),
    z.union([editionSchema, z.literal(false)], { error: 'an edition: {"label", "cron", "maxItems"}, each optional, or false to turn it off' }),
    { error: 'editions by name, e.g. {"midweek": {"cron": "0 7 * * 3"}}' },
  )
  .default({})
  .superRefine(
    (editions, ctx) => {
      const names = Object.keys({ ...EDITION_DEFAULTS, ...editions }).filter((name) => editions[name] !== false);
      if (names.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'at least one edition that is not turned off' });
      for (const name of names) {
        const own = editions[name];
        if (isDefaultEdition(name) || !EDITION_NAME.test(name) || (own && own.cron !== undefined)) continue;
        ctx.addIssue({ code: 'custom', path: [name, 'cron'], message: `a cron expression for when ${name} goes out, e.g. "0 9 1 * *" (only midweek and sunday have a default)` });
      }
    },
    // Every problem at once: a missing cron is reported beside a wrong value elsewhere.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) },
  )
  .transform((editions): Editions => {
    const edition = (name: string): EditionConfig => {
      const own = editions[name] || {};
      const base: EditionConfig = isDefaultEdition(name) ? EDITION_DEFAULTS[name] : { label: name[0]!.toUpperCase() + name.slice(1), cron: '', maxItems: MAX_ITEMS_DEFAULT };
      return { label: own.label ?? base.label, cron: own.cron ?? base.cron, maxItems: own.maxItems ?? base.maxItems };
    };
    const names = Object.keys({ ...EDITION_DEFAULTS, ...editions }).filter((name) => editions[name] !== false);
    return Object.fromEntries(names.map((name) => [name, edition(name)]));
  });

/** An http(s) URL (checked before) that links can be appended to: nothing after its path, no credentials. */
function isBaseUrl(v: string): boolean {
  const url = new URL(v);
  return !v.includes('?') && !v.includes('#') && url.username === '' && url.password === '';
}

const SUBSCRIBE_URL = 'an https URL, or http on this machine (localhost), with no user name or fragment, e.g. "https://letters.example.org/subscribe"';

function isSubscribeUrl(v: string): boolean {
  if (!URL.canParse(v)) return false;
  const url = new URL(v);
  if (url.username || url.password || url.hash || v.includes('#')) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

export const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
/** A DKIM selector is one or more DNS labels: "s1", "2026-12.mail". */
export const DKIM_SELECTOR = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const dkimSelector = z
  .string({ error: 'a DKIM selector, e.g. "s1"' })
  .trim()
  .toLowerCase()
  .regex(DKIM_SELECTOR, { error: 'a DKIM selector of letters, digits and hyphens, e.g. "s1"' });

/**
 * A word or pattern for a source's include/exclude and for topicRules: "/llama\\s*4/" is a regular
 * expression, anything else a word or phrase matched whole; both ignore case.
 */
const matchRule = z
  .string({ error: 'a word, or a pattern between slashes, e.g. "llama" or "/llama\\s*4/"' })
  .trim()
  .min(1, { error: 'a word, or a pattern between slashes, e.g. "llama" or "/llama\\s*4/"' })
  .max(LIMITS.line, { error: `a word or pattern of at most ${LIMITS.line} characters` })
  .refine(isMatchRule, { error: 'a pattern between slashes that is a valid regular expression' });

/** One feed that `news fetch` reads. */
const sourceSchema = z.strictObject(
  {
    name: text('the name of the source (text), e.g. "Meta AI Blog"', LIMITS.name),
    url: z
      .string({ error: 'the feed\'s absolute http(s) URL' })
      .trim()
      .refine((v) => /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v), { error: 'the feed\'s absolute http(s) URL' }),
    topics: z.array(text('a topic name (text)', LIMITS.name), { error: 'a list of topics' }).max(LIMITS.topics).default([]),
    score: z.number({ error: 'a whole number from 1 to 10' }).int({ error: 'a whole number from 1 to 10' }).min(1, { error: 'a whole number from 1 to 10' }).max(10, { error: 'a whole number from 1 to 10' }).default(5),
    include: z.array(matchRule, { error: 'a list of words or patterns' }).default([]),
    exclude: z.array(matchRule, { error: 'a list of words or patterns' }).default([]),
  },
  { error: 'a source: {"name", "url", "topics"?, "score"?, "include"?, "exclude"?}' },
);

export type SourceConfig = z.infer<typeof sourceSchema>;

/** A mailbox name as IMAP lists it ("INBOX", "Almanac/Processed"): printable, no control characters. */
const mailboxName = z
  .string({ error: 'a mailbox name, e.g. "INBOX"' })
  .trim()
  .min(1, { error: 'a mailbox name, e.g. "INBOX"' })
  .max(200, { error: 'a mailbox name of at most 200 characters' })
  .refine((v) => !/[\u0000-\u001f\u007f*%]/.test(v), { error: 'a mailbox name without control characters, "*" or "%"' });

/** Whether two mailbox names are one folder: INBOX is case-insensitive (RFC 3501 §5.1), other names are not. */
function sameMailbox(a: string, b: string): boolean {
  const inbox = (name: string) => (name.toUpperCase() === 'INBOX' ? 'INBOX' : name);
  return inbox(a) === inbox(b);
}

/**
 * The mailbox `bounces fetch` and `schedule` poll for bounces. The password comes from the
 * environment (BOUNCES_IMAP_PASSWORD or _FILE), never from here. Without TLS the login and every
 * report would cross the network readable, so plain text is only for a server on this machine
 * unless `allowPlainText` says otherwise.
 */
const imapSchema = z
  .strictObject(
    {
      host: z.string({ error: 'the IMAP server\'s host name, e.g. "imap.example.org"' }).trim().min(1, { error: 'the IMAP server\'s host name, e.g. "imap.example.org"' }),
      port: z.number({ error: 'a port number from 1 to 65535' }).int({ error: 'a port number from 1 to 65535' }).min(1).max(65535).optional(),
      secure: z.boolean({ error: 'true (TLS from the start, port 993) or false' }).optional(),
      starttls: z.boolean({ error: 'true (upgrade with STARTTLS, required) or false' }).optional(),
      allowPlainText: z.boolean({ error: 'true or false' }).default(false),
      user: z.string({ error: 'the IMAP user name' }).min(1, { error: 'the IMAP user name' }),
      mailbox: mailboxName.default('INBOX'),
      processed: z
        .strictObject({ moveTo: mailboxName.optional() }, { error: 'what to do with a processed message: {"moveTo": "Almanac/Processed"}, or {} to flag it' })
        .default({}),
      intervalMinutes: z.number({ error: 'a number of minutes from 1 to 1440' }).min(1, { error: 'a number of minutes from 1 to 1440' }).max(1440, { error: 'a number of minutes from 1 to 1440' }).default(5),
      batchSize: z.number({ error: 'a whole number of messages from 1 to 10000' }).int({ error: 'a whole number of messages from 1 to 10000' }).min(1).max(10_000).default(200),
      timeoutSeconds: seconds.default(30),
    },
    { error: 'an IMAP mailbox: {"host", "user", "port", "secure", "starttls", "mailbox", "processed", "intervalMinutes"}' },
  )
  .transform((imap) => {
    // Implicit TLS unless a port other than 993 is named without saying so.
    const secure = imap.secure ?? (imap.port === undefined || imap.port === 993);
    const port = imap.port ?? (secure ? 993 : 143);
    const starttls = secure ? false : (imap.starttls ?? true);
    return { ...imap, secure, port, starttls };
  })
  .superRefine((imap, ctx) => {
    // Moving a message onto its own folder gives it a new UID and keeps its keyword: every poll would
    // move every processed message again, for ever.
    if (imap.processed.moveTo !== undefined && sameMailbox(imap.processed.moveTo, imap.mailbox)) {
      ctx.addIssue({ code: 'custom', path: ['processed', 'moveTo'], message: 'a folder other than the mailbox read ("mailbox"), e.g. "Almanac/Processed"' });
    }
    if (imap.secure || imap.starttls || imap.allowPlainText || isLoopbackHost(imap.host)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['starttls'],
      message: `TLS to "${imap.host}" ("secure": true, or "starttls": true); plain text is only for a server on this machine, or with "allowPlainText": true`,
    });
  });

export type ImapConfig = z.infer<typeof imapSchema>;

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
  // Where the site's "Stay current" form posts when the pages are hosted apart from `serve`: its
  // /subscribe endpoint on whatever host runs it. A reader's address travels in it, so only https
  // leaves the machine.
  subscribeUrl: z
    .string({ error: SUBSCRIBE_URL })
    .trim()
    .refine(isSubscribeUrl, { error: SUBSCRIBE_URL })
    .transform((v) => new URL(v).href)
    .optional(),
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
      // Who signs: the keys come from the environment (DKIM_PRIVATE_KEY, DKIM_ED25519_PRIVATE_KEY), never from here.
      dkim: z
        .strictObject({
          domain: z.string({ error: 'the signing domain, e.g. "example.org"' }).trim().toLowerCase().regex(DOMAIN, { error: 'a domain name, e.g. "example.org"' }),
          selector: dkimSelector,
          ed25519Selector: dkimSelector.optional(),
        })
        .optional(),
      // The provider's quotas, shared by every process that sends through the store (store/quota.ts).
      limits: z
        .strictObject(
          { perSecond: quotaLimit, perMinute: quotaLimit, perHour: quotaLimit, perDay: quotaLimit },
          { error: 'quotas: {"perSecond", "perMinute", "perHour", "perDay"}, each optional' },
        )
        .default({}),
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
      limits: {},
    }),
  editions: editionsSchema,
  // Where bounces and complaints come back (VERP return paths), and when soft bounces add up to one.
  bounces: z
    .strictObject({
      domain: z
        .string({ error: 'a mail domain, e.g. "bounces.example.org"' })
        .trim()
        .toLowerCase()
        .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: 'a mail domain, e.g. "bounces.example.org"' })
        .optional(),
      // The SNS topic that carries Amazon SES's bounce and complaint notifications to /webhooks/ses.
      sesTopicArn: z
        .string({ error: 'an SNS topic ARN, e.g. "arn:aws:sns:eu-west-1:123456789012:ses-bounces"' })
        .regex(/^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, { error: 'an SNS topic ARN, e.g. "arn:aws:sns:eu-west-1:123456789012:ses-bounces"' })
        .optional(),
      imap: imapSchema.optional(),
      softLimit: z.number({ error: 'a whole number from 1 to 100' }).int().min(1).max(100).default(3),
      softWindowDays: z.number({ error: 'a number of days from 1 to 365' }).min(1).max(365).default(30),
    })
    .default({ softLimit: 3, softWindowDays: 30 }),
  // News intake: the feeds `news fetch` reads, topics given by words in a headline or summary, and
  // the limits of each fetch.
  sources: z
    .array(sourceSchema, { error: 'a list of sources, e.g. [{"name": "Meta AI Blog", "url": "https://ai.meta.com/blog/rss/"}]' })
    .default([])
    .superRefine((sources, ctx) => {
      const seen = new Set<string>();
      sources.forEach((s, i) => {
        const key = s.name.toLowerCase();
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'a name no other source has (names differing only in case are the same)' });
        seen.add(key);
      });
    }),
  topicRules: z.record(matchRule, text('a topic name (text)', LIMITS.name), { error: 'words or patterns mapped to topics, e.g. {"llama": "Llama"}' }).default({}),
  fetchBeforeIssue: z.boolean({ error: 'true or false' }).default(true),
  intake: z
    .strictObject({
      timeoutSeconds: seconds.default(20),
      maxFeedBytes: z.number({ error: 'a whole number of bytes from 1,000 to 100,000,000' }).int().min(1000).max(100_000_000).default(5_000_000),
      concurrency: z.number({ error: 'a whole number of requests from 1 to 16' }).int().min(1).max(16).default(4),
      summaryMaxChars: z.number({ error: 'a whole number of characters from 100 to 20,000' }).int().min(100).max(LIMITS.summary).default(1200),
      // A feed of fifty thousand tiny entries must not become fifty thousand files.
      maxNewPerSource: z.number({ error: 'a whole number of items from 1 to 10,000' }).int().min(1).max(10_000).default(100),
      // For local tests only: a source on a loopback or private address may be fetched (and only
      // addresses of the same kind after its redirects).
      allowPrivateSources: z.boolean({ error: 'true or false' }).default(false),
    })
    .default({ timeoutSeconds: 20, maxFeedBytes: 5_000_000, concurrency: 4, summaryMaxChars: 1200, maxNewPerSource: 100, allowPrivateSources: false }),
  // Limits of the email checks: the SpamAssassin score above which `check` warns, and fails.
  checks: z
    .strictObject({
      spam: z
        .strictObject({
          warn: z.number({ error: 'a score from 0 to 100' }).min(0).max(100).default(3),
          fail: z.number({ error: 'a score from 0 to 100' }).min(0).max(100).default(5),
          timeoutSeconds: z.number({ error: 'a number of seconds from 1 to 600' }).min(1).max(600).default(15),
        })
        .refine((s) => s.warn <= s.fail, { error: 'a warn score no higher than the fail score' })
        .default({ warn: 3, fail: 5, timeoutSeconds: 15 }),
    })
    .default({ spam: { warn: 3, fail: 5, timeoutSeconds: 15 } }),
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
export type Config = z.infer<typeof configSchema> & {
  /**
   * The edition names the file turns off (`"sunday": false`), set when the file is read (see
   * turnedOffEditions): nothing goes out for them, but a reader's choice of one is not lost.
   */
  readonly editionsOff?: readonly string[];
};

/** The edition names a config as written turns off with `false`. */
export function turnedOffEditions(raw: unknown): string[] {
  const editions = typeof raw === 'object' && raw !== null ? (raw as { editions?: unknown }).editions : undefined;
  if (typeof editions !== 'object' || editions === null || Array.isArray(editions)) return [];
  return Object.entries(editions).filter(([name, value]) => value === false && EDITION_NAME.test(name)).map(([name]) => name);
}

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

function isMatchRule(rule: string): boolean {
  const pattern = /^\/(.+)\/$/s.exec(rule.trim());
  if (!pattern) return true;
  try {
    new RegExp(pattern[1]!, 'iu');
    return true;
  } catch {
    return false;
  }
}
