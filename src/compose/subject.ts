// An issue's subject line and preheader: plain text on one line, clipped to what inboxes show.
import { PREHEADER_MAX, SUBJECT_MAX } from '../content/issue-notes-schema.ts';
import type { ComposedIssue } from './issue.ts';

export { PREHEADER_MAX, SUBJECT_MAX };

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

export interface Subject {
  /** "Midweek #12: Meta Introduces Muse Spark" — at most SUBJECT_MAX characters, one line. */
  text: string;
  /** The lead headline as written, on one line. */
  headline: string;
  /** Whether the headline had to be shortened to fit. */
  shortened: boolean;
}

/**
 * The edition's prefix and the lead headline, at most 78 characters. A headline too long for the room
 * left gives its first clause, or else its words up to a boundary with "…"; a quoted phrase is
 * kept whole or left out, and a word is cut only when the first one alone is longer than the room.
 */
export function composeSubject(editionLabel: string, number: number, title: string): Subject {
  const prefix = `${oneLine(editionLabel)} #${number}: `;
  const headline = oneLine(title);
  const whole = `${prefix}${headline}`;
  if (codePoints(whole) <= SUBJECT_MAX) return { text: whole, headline, shortened: false };
  const room = SUBJECT_MAX - codePoints(prefix);
  // A label so long that no headline fits beside it: shortened as one text.
  if (room < MIN_ROOM) return { text: clip(whole, SUBJECT_MAX), headline, shortened: true };
  return { text: `${prefix}${shortenHeadline(headline, room)}`, headline, shortened: true };
}

/** "Midweek #12: Meta Introduces Muse Spark" — at most 78 characters, one line. */
export function subjectLine(issue: Pick<ComposedIssue, 'editionLabel' | 'top'>, number: number): string {
  return composeSubject(issue.editionLabel, number, issue.top.title).text;
}

/** Below this many characters beside the prefix, a headline is not worth shortening on its own. */
const MIN_ROOM = 12;
/** A clause this short ("OpenAI:") says too little to stand for the headline. */
const MIN_CLAUSE_WORDS = 3;

const codePoints = (s: string) => [...s].length;
const TRAILING = /[\s,;:.–—-]+$/u;

/** Quote marks that open a phrase, each with the mark that closes it. */
const QUOTES: Record<string, string> = { '"': '"', '“': '”', '‘': '’', '«': '»', '„': '“', '‹': '›', '「': '」', '『': '』' };

/**
 * The quoted phrases of a headline as [open, close] indexes. Only a mark that is closed later counts:
 * an apostrophe or a stray quote mark is text like any other.
 */
function quotedSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < text.length; i++) {
    const close = QUOTES[text[i]!];
    if (!close) continue;
    const end = text.indexOf(close, i + 1);
    if (end < 0) continue;
    spans.push([i, end]);
    i = end;
  }
  return spans;
}

/** The headline shortened to `room` characters: its first clause, or words with "…", or graphemes with "…". */
function shortenHeadline(headline: string, room: number): string {
  const spans = quotedSpans(headline);
  const quoted = (i: number) => spans.some(([a, b]) => i > a && i < b);
  // The first clause: up to the first clause mark outside quotes.
  const mark = [...headline.matchAll(/[,;:!?](?= )| [—–-](?= )/gu)].find((m) => !quoted(m.index));
  const clause = mark ? headline.slice(0, mark.index).replace(TRAILING, '') : '';
  if (clause && codePoints(clause) <= room && clause.split(' ').length >= MIN_CLAUSE_WORDS) return clause;
  // Whole words, never ending inside a quoted phrase.
  let words = '';
  for (let i = headline.indexOf(' '); i > 0; i = headline.indexOf(' ', i + 1)) {
    if (quoted(i)) continue;
    const candidate = headline.slice(0, i).replace(TRAILING, '');
    if (codePoints(candidate) + 1 > room) break;
    if (candidate) words = candidate;
  }
  if (words) return `${words}…`;
  // The first word (or quoted phrase) alone is longer than the room.
  const open = spans[0] && spans[0][0] === 0 ? QUOTES[headline[0]!]! : '';
  if (open) {
    // A quoted phrase that opens the headline: its own words, the quote closed after the "…".
    let inner = '';
    for (let i = headline.indexOf(' '); i > 0 && i < spans[0]![1]; i = headline.indexOf(' ', i + 1)) {
      const candidate = headline.slice(0, i).replace(TRAILING, '');
      if (codePoints(candidate) + 2 > room) break;
      if (codePoints(candidate) > 1) inner = candidate;
    }
    if (inner) return `${inner}…${open}`;
    return `${clip(headline.slice(0, spans[0]![1]), room - 1)}${open}`;
  }
  return clip(headline, room);
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
