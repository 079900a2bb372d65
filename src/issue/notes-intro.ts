// The editor's intro as the email will carry it: an image or link the email checks would refuse is
// an error of the notes file, and raw HTML, which is shown as text, a warning; both name the file
// and line, so the editor fixes the notes rather than reading a fault of "the issue".
import type { IssueNotes } from '../content/issue-notes.ts';
import type { Problem } from '../content/problems.ts';
import { untrustedFaults, type UntrustedFault } from '../render/markdown.ts';

const EXPECTED: Record<UntrustedFault['kind'], string> = {
  image: 'an image from an https:// URL (emails show images from https only)',
  link: 'a link to an https:// or mailto: address (emails link to nothing else)',
  'raw-html': 'Markdown without raw HTML (raw HTML is not allowed in notes and is shown as text)',
};

export function introProblems(notes: Pick<IssueNotes, 'file' | 'intro' | 'introLine'>): { errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  if (!notes.intro) return { errors, warnings };
  const where = (line: number) => (notes.introLine === undefined ? notes.file : `${notes.file}:${notes.introLine + line - 1}`);
  // The tags of one line are one thing to fix: "<b>", "</b>" are one warning.
  const tags = new Map<number, string[]>();
  for (const fault of untrustedFaults(notes.intro)) {
    if (fault.kind === 'raw-html') tags.set(fault.line, [...(tags.get(fault.line) ?? []), fault.found]);
    else errors.push({ file: where(fault.line), field: 'intro', expected: EXPECTED[fault.kind], found: `"${fault.found}"` });
  }
  for (const [line, found] of tags) warnings.push({ file: where(line), field: 'intro', expected: EXPECTED['raw-html'], found: found.join(' ') });
  return { errors, warnings };
}
