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
  /** The line of the file the intro starts on, to name where a fault in it is. */
  introLine?: number;
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
  return { ...checked.value!, file, intro: parsed.body.trim(), introLine: firstLineOf(decoded.text, parsed.body) };
}

/** The line of `source` on which `body` (its end, after the front matter) has its first character. */
function firstLineOf(source: string, body: string): number {
  const at = source.endsWith(body) ? source.length - body.length : Math.max(0, source.indexOf(body));
  const blank = body.length - body.trimStart().length;
  return source.slice(0, at + blank).split('\n').length;
}
