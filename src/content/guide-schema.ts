// A guide's front matter (content/guides/<slug>/guide.md).
import { z } from 'zod';
import { LIMITS, list, text, textList } from './fields.ts';
import { LEVELS, type Level } from './levels.ts';

export { LEVELS, type Level };

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
