// The site's news index in the build cache, kept as positions in the site's list of news items:
// while no news item was read afresh and the same files are there, the same items give the same
// index, rebuilt from the positions without grouping or sorting the news again.
import type { NewsIndex } from '../compose/catalog.ts';
import type { Story } from '../compose/stories.ts';
import type { NewsItem } from '../content/model.ts';
import type { FileCache } from './file-cache.ts';

const KIND = 'news-index';

/** A news index as positions in the list of news items it was made from. */
interface Positions {
  /** The items of every story, newest story first, each story's lead first. */
  items: Uint32Array;
  /** Where each story starts in `items` (and, last, where the last one ends). */
  starts: Uint32Array;
  /** Each topic's stories as positions in the list of stories. */
  topics: { slug: string; name: string; stories: Uint32Array }[];
}

/**
 * The index of `news` (in the time zone `timezone`), from `cache` when it was made from the same items;
 * `fresh` says that some news item was read afresh, so that a kept index may no longer fit.
 */
export function cachedNewsIndex(cache: FileCache, news: readonly NewsItem[], timezone: string, fresh: boolean, compute: () => NewsIndex): NewsIndex {
  const key = [timezone, ...news.map((n) => n.id)].join('\n');
  let computed: NewsIndex | undefined;
  const positions = () => positionsOf((computed = compute()), news);
  if (fresh) {
    cache.learn(KIND, key, positions());
    return computed!;
  }
  const kept = cache.remember(KIND, key, positions);
  return computed ?? indexAt(kept, news) ?? compute();
}

function positionsOf(index: NewsIndex, news: readonly NewsItem[]): Positions {
  const itemAt = new Map(news.map((item, i) => [item, i]));
  const storyAt = new Map(index.stories.map((story, i) => [story, i]));
  const items: number[] = [];
  const starts = new Uint32Array(index.stories.length + 1);
  index.stories.forEach((story, i) => {
    items.push(itemAt.get(story.lead)!, ...story.others.map((o) => itemAt.get(o)!));
    starts[i + 1] = items.length;
  });
  const topics = [...index.byTopic].map(([slug, { name, stories }]) => ({ slug, name, stories: Uint32Array.from(stories, (s) => storyAt.get(s)!) }));
  return { items: Uint32Array.from(items), starts, topics };
}

/** The index `positions` describe, over the same items; undefined when they do not fit the items. */
function indexAt(positions: Positions, news: readonly NewsItem[]): NewsIndex | undefined {
  const { items, starts, topics } = positions;
  if (!(items instanceof Uint32Array) || !(starts instanceof Uint32Array) || !Array.isArray(topics)) return undefined;
  if (items.length !== news.length || starts.length === 0) return undefined;
  const stories: Story[] = new Array(starts.length - 1);
  for (let s = 0; s < stories.length; s++) {
    const others: NewsItem[] = [];
    for (let i = starts[s]! + 1; i < starts[s + 1]!; i++) others.push(news[items[i]!]!);
    stories[s] = { lead: news[items[starts[s]!]!]!, others };
  }
  const byTopic = new Map<string, { name: string; stories: Story[] }>();
  for (const t of topics) byTopic.set(t.slug, { name: t.name, stories: Array.from(t.stories, (p) => stories[p]!) });
  return { stories, byTopic };
}
