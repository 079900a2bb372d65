// News items grouped into stories: two items with the same normalised URL are one story,
// shown once with the other outlets listed.
import type { NewsItem } from '../content/model.ts';

export interface Story {
  /** The item shown: highest score, then earliest, then by file. */
  lead: NewsItem;
  /** Other items with the same story key. */
  others: NewsItem[];
}

export function groupStories(items: readonly NewsItem[]): Story[] {
  const byKey = new Map<string, NewsItem[]>();
  for (const item of items) {
    const group = byKey.get(item.storyKey);
    if (group) group.push(item);
    else byKey.set(item.storyKey, [item]);
  }
  const stories: Story[] = [];
  for (const group of byKey.values()) {
    group.sort((a, b) => b.score - a.score || a.published - b.published || compareText(a.id, b.id));
    const [lead, ...others] = group as [NewsItem, ...NewsItem[]];
    stories.push({ lead, others });
  }
  return stories;
}

/** Newest first; ties by score, then id, so the order never depends on the file system. */
export function byRecency(a: Story, b: Story): number {
  return b.lead.published - a.lead.published || b.lead.score - a.lead.score || compareText(a.lead.id, b.lead.id);
}

/** Most important first; ties newest first. */
export function byImportance(a: Story, b: Story): number {
  return b.lead.score - a.lead.score || byRecency(a, b);
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The other outlets that covered a story, one entry each, linked to that outlet's own article. An item
 * whose URL is the lead's in another form (tracking parameters, scheme, trailing slash) would only send
 * the reader back to the lead's article, so an outlet known only by such an item has no link.
 */
export function alsoCovered(story: Story): { source: string; url?: string }[] {
  const { lead } = story;
  const bySource = new Map<string, { source: string; url?: string }>();
  for (const o of story.others) {
    if (o.source === lead.source) continue;
    const own = o.storyKey === lead.storyKey ? undefined : o.url;
    const known = bySource.get(o.source);
    if (!known) bySource.set(o.source, own === undefined ? { source: o.source } : { source: o.source, url: own });
    else if (known.url === undefined && own !== undefined) known.url = own;
  }
  return [...bySource.values()];
}

/** The topics of a story: the union over its items. */
export function storyTopics(story: Story): string[] {
  if (story.others.length === 0) return story.lead.topics;
  return [...new Set([story.lead, ...story.others].flatMap((i) => i.topics))];
}
