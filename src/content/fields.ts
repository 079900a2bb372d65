// The rules every content type's fields share: texts and lists with a ceiling, each carrying the words
// a writer sees when it fails ("expected …"), so the messages read as instructions rather than as
// validator jargon.
import { z } from 'zod';

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

export const text = (what: string, max: number = LIMITS.line) =>
  z
    .string({ error: what })
    .trim()
    .min(1, { error: what })
    .max(max, { error: `${what} of at most ${max.toLocaleString('en')} characters` });
export const list = <T extends z.ZodType>(item: T, what: string, max: number) =>
  z.array(item, { error: what }).max(max, { error: `${what} of at most ${max.toLocaleString('en')} entries` });
export const textList = (what: string, item: string, max: number = LIMITS.list, itemMax: number = LIMITS.line) =>
  list(text(item, itemMax), what, max).min(1, { error: what });
