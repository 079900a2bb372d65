// How long a guide takes to read, at the pace the usual estimates use for screen reading.

const WORDS_PER_MINUTE = 230;

/** "8 min read": `words` at 230 a minute, rounded, and never less than a minute. */
export function readingTime(words: number): string {
  return `${Math.max(1, Math.round(words / WORDS_PER_MINUTE))} min read`;
}

/** The words of an HTML fragment: runs of letters or digits between tags, entities and spaces. */
export function countWords(html: string): number {
  const text = html.replace(/<[^>]*>/g, ' ').replace(/&[#\w]+;/g, ' ');
  return text.match(/[\p{L}\p{N}][\p{L}\p{N}'’.,-]*/gu)?.length ?? 0;
}
