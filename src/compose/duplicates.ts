// One story, told twice: the launch post and a newsletter's write-up of it, from different outlets
// under nearly the same title, are merged into one story with the other listed as also covering it.
import { byImportance, type Story } from './stories.ts';

const STOPWORDS = new Set(
  'a an and are as at be by for from has have in into is it its of on or that the this to with via new its their'.split(' '),
);

function titleWords(title: string): Set<string> {
  return new Set(
    title
      .toLowerCase()
      .split(/[^a-z0-9-]+/)
      .map((w) => w.replace(/^-+|-+$/g, ''))
      .filter((w) => w.length > 2 && !STOPWORDS.has(w)),
  );
}

/** Share of distinct title words the two titles have in common. */
function similarity(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}

/** Titles this alike, from different outlets, are the same story ("also covered by …"). */
const SAME_STORY = 0.5;

/**
 * Merges stories from different sources whose titles are nearly the same (the launch post and a
 * newsletter's write-up of it). The more important one leads; the other is listed as also covering it.
 */
export function mergeNearDuplicates(stories: Story[]): Story[] {
  const ordered = [...stories].sort(byImportance);
  const words = ordered.map((s) => titleWords(s.lead.title));
  const merged: Story[] = [];
  const leadWords: Set<string>[] = [];
  ordered.forEach((story, i) => {
    const twin = merged.findIndex(
      (m, j) => m.lead.source !== story.lead.source && similarity(leadWords[j]!, words[i]!) >= SAME_STORY,
    );
    if (twin === -1) {
      merged.push({ lead: story.lead, others: [...story.others] });
      leadWords.push(words[i]!);
    } else {
      merged[twin]!.others.push(story.lead, ...story.others);
    }
  });
  return merged;
}

/**
 * Headlines already known, to ask whether a new one tells one of their stories (by the same measure
 * as mergeNearDuplicates). Only headlines sharing a word are compared, so a check against thousands
 * of headlines looks at a few.
 */
export class HeadlineIndex<T> {
  private readonly entries: { words: Set<string>; value: T }[] = [];
  private readonly byWord = new Map<string, number[]>();

  add(title: string, value: T): void {
    const words = titleWords(title);
    const at = this.entries.push({ words, value }) - 1;
    for (const w of words) {
      const list = this.byWord.get(w);
      if (list) list.push(at);
      else this.byWord.set(w, [at]);
    }
  }

  /** The first known headline that is the same story as `title` (among those `accept` takes), if any. */
  sameStory(title: string, accept: (value: T) => boolean = () => true): T | undefined {
    const words = titleWords(title);
    const seen = new Set<number>();
    for (const w of words) {
      for (const at of this.byWord.get(w) ?? []) {
        if (seen.has(at)) continue;
        seen.add(at);
        const entry = this.entries[at]!;
        if (similarity(entry.words, words) >= SAME_STORY && accept(entry.value)) return entry.value;
      }
    }
    return undefined;
  }
}
