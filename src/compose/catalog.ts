// The published side of the content: which guides are live, their topics, and the news per topic.
// Built once per build and shared by every page (and by the issue composer).
import type { Guide, GuideVersion, Site } from '../content/model.ts';
import { ContentError } from '../content/problems.ts';
import { slugify } from '../content/slug.ts';
import { topicCollisions } from './topic-collisions.ts';
import { byRecency, compareText, groupStories, storyTopics, type Story } from './stories.ts';

export interface LiveGuide {
  guide: Guide;
  latest: GuideVersion;
  /** First publication (v1). */
  first: GuideVersion;
  archived: boolean;
  /** Topic slugs of the latest version, primary first. */
  topicSlugs: string[];
}

export interface Topic {
  slug: string;
  name: string;
  /** Active guides carrying the topic, most recently updated first. */
  guides: LiveGuide[];
  /** Stories carrying the topic, newest first. */
  stories: Story[];
}

export interface Catalog {
  /** Every guide with at least one published version, most recently updated first. */
  guides: LiveGuide[];
  /** Active ones only: what listings show. */
  active: LiveGuide[];
  topics: Map<string, Topic>;
  /** All stories, newest first. */
  stories: Story[];
}

/** The stories of the site, newest first, and per topic: the expensive part of a catalog, reusable while the news is unchanged. */
export interface NewsIndex {
  stories: Story[];
  byTopic: Map<string, { name: string; stories: Story[] }>;
}

export function indexNews(site: Site): NewsIndex {
  const stories = groupStories(site.news).sort(byRecency);
  const byTopic = new Map<string, { name: string; stories: Story[] }>();
  for (const story of stories) {
    for (const name of storyTopics(story)) {
      const slug = slugify(name);
      let entry = byTopic.get(slug);
      if (!entry) byTopic.set(slug, (entry = { name, stories: [] }));
      if (entry.stories.at(-1) !== story) entry.stories.push(story);
    }
  }
  return { stories, byTopic };
}

/** Throws ContentError when two different topics would share one page. */
export function buildCatalog(site: Site, news: NewsIndex = indexNews(site)): Catalog {
  const collisions = topicCollisions(site);
  if (collisions.length) throw new ContentError(collisions);
  const { stories } = news;
  const guides: LiveGuide[] = [];
  for (const guide of site.guides) {
    const latest = guide.versions.at(-1);
    const first = guide.versions[0];
    if (!latest || !first) continue;
    guides.push({
      guide,
      latest,
      first,
      archived: latest.doc.front.status === 'archived',
      topicSlugs: unique(latest.doc.front.topics.map(slugify)),
    });
  }
  guides.sort(byUpdated);
  const active = guides.filter((g) => !g.archived);

  const topics = new Map<string, Topic>();
  const topic = (name: string): Topic => {
    const slug = slugify(name);
    let t = topics.get(slug);
    if (!t) topics.set(slug, (t = { slug, name, guides: [], stories: [] }));
    return t;
  };
  for (const g of guides) {
    for (const name of [...g.latest.doc.front.topics, ...g.latest.doc.front.related]) topic(name);
  }
  for (const g of active) for (const name of unique(g.latest.doc.front.topics)) topic(name).guides.push(g);
  for (const [slug, entry] of news.byTopic) {
    const t = topics.get(slug);
    if (t) t.stories = entry.stories;
    else topics.set(slug, { slug, name: entry.name, guides: [], stories: entry.stories });
  }
  topics.delete('');
  return { guides, active, topics, stories };
}

function byUpdated(a: LiveGuide, b: LiveGuide): number {
  return b.latest.published - a.latest.published || compareText(a.guide.slug, b.guide.slug);
}

/**
 * Guides that share topics with `subject`, most shared first, then most recently updated. Counts in
 * an array indexed by each guide's place among the active ones (a topic lists its guides in that
 * order), so a site with thousands of guides costs no hashing and no sorting.
 */
export function relatedGuides(catalog: Catalog, subject: LiveGuide, limit: number): LiveGuide[] {
  const { rank, counts } = rankingOf(catalog);
  let most = 0;
  const touched: number[] = [];
  for (const slug of subject.topicSlugs) {
    for (const other of catalog.topics.get(slug)?.guides ?? []) {
      if (other === subject) continue;
      const r = rank.get(other)!;
      if (counts[r] === 0) touched.push(r);
      most = Math.max(most, ++counts[r]!);
    }
  }
  touched.sort((a, b) => a - b);
  const best: LiveGuide[] = [];
  for (let shared = most; shared > 0 && best.length < limit; shared--) {
    for (const r of touched) {
      if (counts[r] !== shared) continue;
      best.push(catalog.active[r]!);
      if (best.length === limit) break;
    }
  }
  for (const r of touched) counts[r] = 0;
  return best;
}

const rankings = new WeakMap<Catalog, { rank: Map<LiveGuide, number>; counts: Uint16Array }>();

/** Each active guide's place in `catalog.active` (most recently updated first), and a zeroed count per place. */
function rankingOf(catalog: Catalog): { rank: Map<LiveGuide, number>; counts: Uint16Array } {
  let ranking = rankings.get(catalog);
  if (!ranking) {
    ranking = { rank: new Map(catalog.active.map((g, i) => [g, i])), counts: new Uint16Array(catalog.active.length) };
    rankings.set(catalog, ranking);
  }
  return ranking;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
