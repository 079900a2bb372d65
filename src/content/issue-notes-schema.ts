// An issue's notes (content/issues/<YYYY-MM-DD>-<edition>.md): the editor's subject, preheader, the
// stories to put first or leave out, the guides to feature; the body is the intro.
import { z } from 'zod';
import { LIMITS, list, text } from './fields.ts';

const url = z
  .string({ error: 'a story URL (an absolute http(s) URL)' })
  .max(LIMITS.url, { error: `a story URL of at most ${LIMITS.url.toLocaleString('en')} characters` })
  .refine((v) => /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v), { error: 'a story URL (an absolute http(s) URL)' });

export const issueNotesSchema = z.strictObject({
  subject: text('a subject line (text)', LIMITS.line).optional(),
  preheader: text('a preheader (text)', LIMITS.line).optional(),
  pin: list(url, 'a list of story URLs to put first', LIMITS.list).default([]),
  drop: list(url, 'a list of story URLs to leave out', LIMITS.list).default([]),
  guides: list(text('a guide slug (text)', LIMITS.name), 'a list of guide slugs', LIMITS.list).default([]),
});
export type IssueNotesFrontMatter = z.infer<typeof issueNotesSchema>;
