// A news item's front matter (content/news/**/*.md).
import { z } from 'zod';
import { LIMITS, list, text } from './fields.ts';

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
