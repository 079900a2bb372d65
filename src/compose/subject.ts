// An issue's subject line and preheader: plain text on one line, clipped to what inboxes show.
import type { ComposedIssue } from './issue.ts';

export const SUBJECT_MAX = 78;
export const PREHEADER_MAX = 140;

/** Plain text on one line: whatever the content holds, no line break can reach a header. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Shortens to `max` characters (code points, as mail clients and the checks count them) at a word
 * boundary, with an ellipsis. It cuts between graphemes only: never inside an emoji, a surrogate
 * pair or a letter and its accent.
 */
export function clip(text: string, max: number): string {
  if ([...text].length <= max) return text;
  let cut = '';
  let length = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = [...segment].length;
    if (length + size > max - 1) break;
    cut += segment;
    length += size;
  }
  const space = cut.lastIndexOf(' ');
  const shortened = space > 0 && [...cut.slice(0, space)].length > max * 0.6 ? cut.slice(0, space) : cut;
  return `${shortened.replace(/[\s,;:.–—-]+$/u, '')}…`;
}

/** "Midweek #12: Meta Introduces Muse Spark…" — at most 78 characters, one line. */
export function subjectLine(issue: Pick<ComposedIssue, 'editionLabel' | 'top'>, number: number): string {
  return clip(oneLine(`${issue.editionLabel} #${number}: ${issue.top.title}`), SUBJECT_MAX);
}

/** The inbox preview line: what else is inside, after the subject's top story. */
export function preheaderText(issue: Pick<ComposedIssue, 'groups' | 'guides'>): string {
  const parts: string[] = [];
  const next = issue.groups.flatMap((g) => g.stories).slice(0, 2).map((s) => oneLine(s.title));
  if (next.length) parts.push(`Also: ${next.join(' · ')}`);
  const guide = issue.guides[0];
  if (guide) parts.push(`${guide.kind === 'related' ? 'Guide' : guide.label.split(' — ')[0]}: ${oneLine(guide.title)}`);
  return clip(oneLine(parts.join(' — ')) || 'The week in AI, with the guides that explain it.', PREHEADER_MAX);
}
