// Plain text word-wrapped for the text part of an email, where a line should stay within 78
// characters (RFC 5322's recommendation) but a link must stay whole to stay usable.
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
const columns = (s: string) => [...s].length;

/**
 * Word-wraps plain text at `width` characters. A link longer than that stays whole on its line (it
 * must stay usable); any other word that long (a long compound, text without spaces) is broken
 * between graphemes.
 */
export function wrapText(text: string, width: number): string {
  return text
    .split('\n')
    .map((paragraph) => {
      const lines: string[] = [];
      let line = '';
      for (const word of paragraph.split(/\s+/).flatMap((w) => (w ? pieces(w, width) : []))) {
        if (line && columns(line) + 1 + columns(word) > width) {
          lines.push(line);
          line = word;
        } else line = line ? `${line} ${word}` : word;
      }
      lines.push(line);
      return lines.join('\n');
    })
    .join('\n');
}

/** A link as a word of text: the link, perhaps in brackets or quotes and followed by punctuation. */
const LINK_WORD = /^[(<"'\[]?(https?:\/\/|mailto:)\S+$/;

/**
 * Whether a line holds a link and nothing else (but its brackets, punctuation and indent): the one
 * kind of line that may run past the width, since a broken link is no longer usable.
 */
export function linkAlone(line: string): boolean {
  return LINK_WORD.test(line.trim());
}

function pieces(word: string, width: number): string[] {
  if (columns(word) <= width || LINK_WORD.test(word)) return [word];
  const out: string[] = [];
  let piece = '';
  for (const { segment } of graphemes.segment(word)) {
    if (piece && columns(piece) + columns(segment) > width) {
      out.push(piece);
      piece = '';
    }
    piece += segment;
  }
  if (piece) out.push(piece);
  return out;
}
