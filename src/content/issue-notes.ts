// Reading an issue's notes file, if the editor wrote one.
import { readInsideRoot } from '../files/walk.ts';
import { parseFrontMatter } from './frontmatter.ts';
import { issueNotesSchema, type IssueNotesFrontMatter } from './issue-notes-schema.ts';
import { ISSUE_NOTES_DIR } from './paths.ts';
import { ContentError } from './problems.ts';
import { decodeText } from './text.ts';
import { validate } from './validate.ts';

export interface IssueNotes extends IssueNotesFrontMatter {
  /** Path relative to the site root, for messages. */
  file: string;
  /** The editor's intro, Markdown; empty when the body is. */
  intro: string;
}

export function issueNotesFile(id: string): string {
  return `${ISSUE_NOTES_DIR}/${id}.md`;
}

/** The notes of issue `id` (`<YYYY-MM-DD>-<edition>`); undefined when there is no file. Throws ContentError. */
export function readIssueNotes(root: string, id: string): IssueNotes | undefined {
  const file = issueNotesFile(id);
  const bytes = readInsideRoot(root, file);
  if (bytes === undefined) return undefined;
  const decoded = decodeText(bytes, file);
  if (decoded.problem) throw new ContentError([decoded.problem]);
  const parsed = parseFrontMatter(decoded.text, file);
  if ('problems' in parsed) throw new ContentError(parsed.problems);
  const checked = validate(issueNotesSchema, parsed.data, file);
  if (checked.problems.length) throw new ContentError(checked.problems);
  return { ...checked.value!, file, intro: parsed.body.trim() };
}
