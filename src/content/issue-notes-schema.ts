// An issue's notes (content/issues/<YYYY-MM-DD>-<edition>.md): the editor's subject, preheader, the
// stories to put first or leave out, the guides to feature; the body is the intro.
import { z } from 'zod';
import { LIMITS, list, text } from './fields.ts';

const url = z
  .string({ error: 'a story URL (an absolute http(s) URL)' })
  .max(LIMITS.url, { error: `a story URL of at most ${LIMITS.url.toLocaleString('en')} characters` })
  .refine((v) => /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v), { error: 'a story URL (an absolute http(s) URL)' });

// What inboxes show, counted in code points as mail clients count them. The editor's own words are
// never cut: a longer one is an error to fix rather than a subject clipped mid-word.
export const SUBJECT_MAX = 78;
export const PREHEADER_MAX = 140;

const shown = (what: string, max: number) =>
  text(what, LIMITS.line).refine((v) => [...v].length <= max, { error: `${what} of at most ${max} characters (what inboxes show)` });

export const issueNotesSchema = z.strictObject({
  subject: shown('a subject line (text)', SUBJECT_MAX).optional(),
  preheader: shown('a preheader (text)', PREHEADER_MAX).optional(),
  pin: list(url, 'a list of story URLs to put first', LIMITS.list).default([]),
  drop: list(url, 'a list of story URLs to leave out', LIMITS.list).default([]),
  guides: list(text('a guide slug (text)', LIMITS.name), 'a list of guide slugs', LIMITS.list).default([]),
});
export type IssueNotesFrontMatter = z.infer<typeof issueNotesSchema>;
