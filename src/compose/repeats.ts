// Stories that already went out. A story is a repeat when any of its items' story keys (normalised
// URLs) was in an issue that started sending, scheduled before this one, whatever its edition, or when
// its headline is nearly that of a sent item from another outlet (as mergeNearDuplicates merges). It is a
// candidate again only when one of its items that went out has been edited since: its content hash
// (title, URL, source and summary: what a reader sees of it) differs from every hash it was sent with.
// A new item from another outlet about a story that went out is not a change to that story.
import { createHash } from 'node:crypto';
import type { NewsItem } from '../content/model.ts';
import { normaliseUrl } from '../content/url.ts';
import { HeadlineIndex } from './duplicates.ts';
import type { Story } from './stories.ts';

/** One news item as an issue carried it. `id` and `hash` are empty for an issue stored before they were kept. */
export interface SentItem {
  id: string;
  key: string;
  hash: string;
  /** Absent for an other outlet's item in an issue stored before they were kept. */
  title?: string;
  source?: string;
}

/** An issue that started going out, as far as later issues need to know it. */
export interface EarlierIssue {
  id: string;
  scheduledAt: number;
  items: SentItem[];
}

export function itemHash(item: Pick<NewsItem, 'title' | 'url' | 'source' | 'summary'>): string {
  const seen = [item.title, item.url, item.source, item.summary].map(asRead);
  return createHash('sha256').update(JSON.stringify(seen)).digest('hex').slice(0, 32);
}

/**
 * Text as a reader sees it: re-wrapping a paragraph or trailing spaces change nothing on the page, so
 * they do not make a sent story new again. Paragraph breaks do show, and are kept.
 */
function asRead(text: string): string {
  return text
    .split(/\n[ \t]*\n\s*/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');
}

/** Every item of the stories (each lead and the other outlets' items), for the stored issue. */
export function itemsOf(stories: readonly Story[]): SentItem[] {
  return stories.flatMap((s) => [s.lead, ...s.others]).map((i) => ({ id: i.id, key: i.storyKey, hash: itemHash(i), title: i.title, source: i.source }));
}

/** A stored issue's items; for one stored before they were kept, the story keys of its links. */
export function sentItemsOf(issue: {
  items?: SentItem[];
  top: Told;
  groups: { stories: Told[] }[];
}): SentItem[] {
  if (issue.items) return issue.items;
  return [issue.top, ...issue.groups.flatMap((g) => g.stories)].flatMap((s) => [
    { id: '', key: normaliseUrl(s.url), hash: '', title: s.title, source: s.source },
    ...s.also.flatMap((a) => (a.url ? [{ id: '', key: normaliseUrl(a.url), hash: '' }] : [])),
  ]);
}

interface Told {
  title: string;
  url: string;
  source: string;
  also: { url?: string }[];
}

/** The stories that did not go out in an issue scheduled before `before`, or whose sent items were edited since. */
export function withoutRepeats(stories: readonly Story[], earlier: readonly EarlierIssue[], before: number): { fresh: Story[]; repeats: number } {
  const keys = new Set<string>();
  const sentHashes = new Map<string, Set<string>>();
  const headlines = new HeadlineIndex<string>();
  for (const issue of earlier) {
    if (issue.scheduledAt >= before) continue;
    for (const item of issue.items) {
      keys.add(item.key);
      if (item.title !== undefined) headlines.add(item.title, item.source ?? '');
      if (!item.id) continue;
      let hashes = sentHashes.get(item.id);
      if (!hashes) sentHashes.set(item.id, (hashes = new Set()));
      hashes.add(item.hash);
    }
  }
  if (keys.size === 0) return { fresh: [...stories], repeats: 0 };
  const fresh = stories.filter((story) => {
    const items = [story.lead, ...story.others];
    const told = items.some((i) => keys.has(i.storyKey) || headlines.sameStory(i.title, (source) => source !== i.source) !== undefined);
    if (!told) return true;
    return items.some((i) => {
      const hashes = sentHashes.get(i.id);
      return hashes !== undefined && !hashes.has(itemHash(i));
    });
  });
  return { fresh, repeats: stories.length - fresh.length };
}
