// Every page of the website as a (path, template, view model) triple. Pure: the same site and clock
// give the same pages. Markdown is rendered here, once per document, and shared between pages.
import type { GuideVersion, Site } from '../content/model.ts';
import type { Level } from '../content/schema.ts';
import { slugify } from '../content/slug.ts';
import { buildCatalog, relatedGuides, type Catalog, type LiveGuide, type NewsIndex, type Topic } from '../compose/catalog.ts';
import { byImportance, type Story } from '../compose/stories.ts';
import { stamp, timelineLabel, type Stamp } from '../compose/time.ts';
import { plainText, renderGuideBody, renderSummary } from '../render/markdown.ts';
import type { StoredIssue } from '../store/issues.ts';
import { issuePages } from './issue-pages.ts';

/** One document: rendered once, written once at `file`, and linked at each of `also`. */
export interface Page {
  /** Output path below dist/, e.g. "guides/meta/index.html". */
  file: string;
  /** Other paths of the same document (a guide's latest version page); kept out of the sitemap. */
  also?: readonly string[];
  template: string;
  data: PageData;
}

/** Every output path of a page, its own first. */
export function pathsOf(page: Page): string[] {
  return [page.file, ...(page.also ?? [])];
}

export interface PageMeta {
  title: string;
  description: string;
  /** Relative prefix from this page back to the site root, e.g. "../../". */
  root: string;
  /** Canonical absolute URL. */
  canonical: string;
  section: 'home' | 'guides' | 'topics' | 'news' | 'issues' | 'none';
  jsonLd: object[];
  /** Last change, for the sitemap; absent for pages that should not be listed. */
  lastmod?: number;
  noindex?: boolean;
}

export interface SiteMeta {
  title: string;
  baseUrl: string;
  language: string;
  editions: string;
  editionLabels: { midweek: string; sunday: string };
  tagline: string;
  generated: string;
}

export interface PageData {
  site: SiteMeta;
  page: PageMeta;
  [key: string]: unknown;
}

export const NEWS_PER_PAGE = 50;
const MORE_ON_LIMIT = 6;
const RELATED_LIMIT = 4;
const TOPIC_NEWS_LIMIT = 30;

const LEVEL_LABEL: Record<Level, string> = { beginner: 'Beginner', intermediate: 'Intermediate', advanced: 'Advanced' };

export interface SiteInput {
  site: Site;
  now: number;
}

/** The context every page builder shares: catalog, clock, and memoised cards. */
export class PageContext {
  readonly catalog: Catalog;
  readonly siteMeta: SiteMeta;
  private readonly cards = new Map<Story, NewsCard>();
  private readonly guideCards = new Map<LiveGuide, GuideCard>();
  // The same instants (a guide's publication, a story's) appear on many pages.
  private readonly stamps = new Map<number, Stamp>();

  constructor(readonly site: Site, readonly now: number, news?: NewsIndex) {
    this.catalog = buildCatalog(site, news);
    const { config } = site;
    this.siteMeta = {
      title: config.title,
      baseUrl: config.baseUrl,
      language: config.language,
      editions: `${config.editions.midweek.label} & ${config.editions.sunday.label}`,
      editionLabels: { midweek: config.editions.midweek.label, sunday: config.editions.sunday.label },
      tagline: 'The week in AI, paired with guides that explain it.',
      generated: new Date(now).toISOString(),
    };
  }

  stamp(ms: number): Stamp {
    let known = this.stamps.get(ms);
    if (!known) this.stamps.set(ms, (known = stamp(ms, this.now, this.site.config.timezone)));
    return known;
  }

  meta(path: string, fields: Omit<PageMeta, 'root' | 'canonical' | 'jsonLd'> & { jsonLd?: object[] }): PageMeta {
    return { jsonLd: [], ...fields, root: rootFor(path), canonical: `${this.site.config.baseUrl}/${path}` };
  }

  page(path: string, template: string, meta: PageMeta, data: Record<string, unknown>): Page {
    return { file: `${path}index.html`, template, data: { site: this.siteMeta, page: meta, ...data } };
  }

  newsCard(story: Story): NewsCard {
    let card = this.cards.get(story);
    if (!card) this.cards.set(story, (card = newsCard(story, this)));
    return card;
  }

  guideCard(g: LiveGuide): GuideCard {
    let card = this.guideCards.get(g);
    if (!card) this.guideCards.set(g, (card = guideCard(g, this)));
    return card;
  }

  topicLink(name: string): TopicLink {
    const slug = slugify(name);
    return { name: this.catalog.topics.get(slug)?.name ?? name, href: `topics/${slug}/` };
  }
}

export interface NewsCard {
  title: string;
  url: string;
  source: string;
  score: number;
  age: Stamp;
  summaryHtml: string;
  also: { source: string; url: string }[];
}

export interface GuideCard {
  href: string;
  title: string;
  tldr: string;
  level: string;
  topic: TopicLink;
  version: number;
  updated: Stamp;
}

interface TopicLink {
  name: string;
  href: string;
}

function newsCard(story: Story, ctx: PageContext): NewsCard {
  const item = story.lead;
  const also = story.others.filter((o) => o.source !== item.source).map((o) => ({ source: o.source, url: o.url }));
  return cardOf(item, renderSummary(item), also, ctx);
}

/** A card from any news item-like record: a story on the site, or a story in an issue. */
export function cardOf(
  item: { title: string; url: string; source: string; score: number; published: number },
  summaryHtml: string,
  also: { source: string; url: string }[],
  ctx: PageContext,
): NewsCard {
  return {
    title: item.title,
    url: item.url,
    source: item.source,
    score: item.score,
    age: ctx.stamp(item.published),
    summaryHtml,
    also,
  };
}

function guideCard(g: LiveGuide, ctx: PageContext): GuideCard {
  const front = g.latest.doc.front;
  return {
    href: `guides/${g.guide.slug}/`,
    title: front.title,
    tldr: front.tldr,
    level: LEVEL_LABEL[front.level],
    topic: ctx.topicLink(front.topics[0]!),
    version: g.latest.version,
    updated: ctx.stamp(g.latest.published),
  };
}

export function rootFor(path: string): string {
  return '../'.repeat(path.split('/').filter(Boolean).length);
}

// ---------------------------------------------------------------------------------------------
// Guide pages

/**
 * The guide's URL and one page per version (`v1.html`, `v2.html` … beside it, so a version costs a
 * file and not a folder). The latest version's own page is the same document as the guide's URL: one
 * page with both paths, so that it cannot be rendered or written twice, whoever writes it.
 */
function guidePages(ctx: PageContext, g: LiveGuide): Page[] {
  const dir = `guides/${g.guide.slug}/`;
  const latest = guidePage(ctx, g, g.latest);
  const pages: Page[] = [{ ...latest, file: `${dir}index.html`, also: [latest.file] }];
  for (const v of g.guide.versions) {
    if (v !== g.latest) pages.push(guidePage(ctx, g, v));
  }
  return pages;
}

export function versionFile(slug: string, version: number): string {
  return `guides/${slug}/v${version}.html`;
}

function guidePage(ctx: PageContext, g: LiveGuide, v: GuideVersion): Page {
  const front = v.doc.front;
  const slug = g.guide.slug;
  const isLatest = v === g.latest;
  const dir = `guides/${slug}/`;
  const body = renderGuideBody(v.doc);
  const primary = ctx.topicLink(front.topics[0]!);
  const primarySlug = slugify(front.topics[0]!);
  const topicStories = ctx.catalog.topics.get(primarySlug)?.stories ?? [];
  const meta = ctx.meta(dir, {
    title: isLatest ? front.title : `${front.title} (v${v.version})`,
    description: front.tldr,
    section: 'guides',
    lastmod: isLatest ? v.published : undefined,
    noindex: !isLatest,
  });
  // Older versions are their own documents; the latest one's canonical URL is the guide's.
  if (!isLatest) meta.canonical = `${ctx.site.config.baseUrl}/${versionFile(slug, v.version)}`;
  meta.jsonLd = guideJsonLd(ctx, g, v, meta.canonical);

  const page = ctx.page(dir, 'guide', meta, {
    guide: {
      slug,
      kicker: `Guide · ${LEVEL_LABEL[front.level]}`,
      title: front.title,
      level: LEVEL_LABEL[front.level],
      levelSlug: front.level,
      status: front.status,
      archived: front.status === 'archived',
      primaryTopic: primary,
      topics: front.topics.map((t) => ctx.topicLink(t)),
      version: v.version,
      isLatest,
      latest: { version: g.latest.version, href: dir, published: ctx.stamp(g.latest.published) },
      published: ctx.stamp(v.published),
      tldr: front.tldr,
      takeaways: body.takeaways,
      bodyHtml: body.html,
      toc: body.sections,
      timeline: front.timeline.map((e, i) => ({ datetime: e.date, label: timelineLabel(e.date), event: body.timeline[i]! })),
      related: front.related.map((t) => ctx.topicLink(t)),
      faq: front.faq.map((f, i) => ({ q: f.q, a: body.faq[i]! })),
      versions: [...g.guide.versions].reverse().map((other) => ({
        version: other.version,
        href: versionFile(slug, other.version),
        published: ctx.stamp(other.published),
        note: other.note,
        live: other === g.latest,
        current: other === v,
      })),
      relatedGuides: relatedGuides(ctx.catalog, g, RELATED_LIMIT).map((r) => ctx.guideCard(r)),
      moreOn: {
        topic: primary,
        total: topicStories.length,
        cards: topicStories.slice(0, MORE_ON_LIMIT).map((s) => ctx.newsCard(s)),
      },
    },
  });
  return { ...page, file: versionFile(slug, v.version) };
}

function guideJsonLd(ctx: PageContext, g: LiveGuide, v: GuideVersion, url: string): object[] {
  const front = v.doc.front;
  const publisher = { '@type': 'Organization', name: ctx.site.config.title, url: `${ctx.site.config.baseUrl}/` };
  const article = {
    '@context': 'https://schema.org',
    '@type': 'Article',
    headline: front.title,
    description: front.tldr,
    url,
    mainEntityOfPage: url,
    inLanguage: ctx.site.config.language,
    datePublished: new Date(g.first.published).toISOString(),
    dateModified: new Date(v.published).toISOString(),
    version: String(v.version),
    keywords: front.topics.join(', '),
    author: publisher,
    publisher,
  };
  if (front.faq.length === 0) return [article];
  const faq = {
    '@context': 'https://schema.org',
    '@type': 'FAQPage',
    mainEntity: front.faq.map((f) => ({
      '@type': 'Question',
      name: f.q,
      acceptedAnswer: { '@type': 'Answer', text: plainText(f.a) },
    })),
  };
  return [article, faq];
}

// ---------------------------------------------------------------------------------------------
// Listings

function homePage(ctx: PageContext): Page {
  const { catalog } = ctx;
  const latestStories = catalog.stories.slice(0, 24);
  const top = [...latestStories].sort(byImportance).slice(0, 6);
  const topics = [...catalog.topics.values()]
    .filter((t) => t.guides.length > 0 || t.stories.length > 0)
    .sort((a, b) => b.guides.length + b.stories.length - (a.guides.length + a.stories.length) || (a.name < b.name ? -1 : 1))
    .slice(0, 16)
    .map((t) => ({ ...ctx.topicLink(t.name), count: t.guides.length + t.stories.length }));
  const meta = ctx.meta('', {
    title: ctx.site.config.title,
    description: `${ctx.siteMeta.tagline} ${ctx.siteMeta.editions} in your inbox.`,
    section: 'home',
    lastmod: newest(catalog),
  });
  meta.jsonLd = [
    { '@context': 'https://schema.org', '@type': 'WebSite', name: ctx.site.config.title, url: `${ctx.site.config.baseUrl}/`, inLanguage: ctx.site.config.language },
  ];
  return ctx.page('', 'home', meta, {
    lead: catalog.active[0] ? ctx.guideCard(catalog.active[0]) : undefined,
    guides: catalog.active.slice(1, 7).map((g) => ctx.guideCard(g)),
    topStories: top.map((s) => ctx.newsCard(s)),
    topics,
  });
}

function guidesIndexPages(ctx: PageContext): Page[] {
  const { catalog } = ctx;
  const levels = (Object.keys(LEVEL_LABEL) as Level[]).map((level) => ({
    slug: level,
    label: LEVEL_LABEL[level],
    guides: catalog.active.filter((g) => g.latest.doc.front.level === level),
  }));
  const topicFilters = [...catalog.topics.values()]
    .filter((t) => t.guides.length > 0)
    .sort((a, b) => b.guides.length - a.guides.length || (a.name < b.name ? -1 : 1))
    .map((t) => ({ ...ctx.topicLink(t.name), count: t.guides.length }));
  const filterLevels = (current: string) =>
    [{ slug: '', label: 'All levels', href: 'guides/', count: catalog.active.length }, ...levels.map((l) => ({ slug: l.slug, label: l.label, href: `guides/level/${l.slug}/`, count: l.guides.length }))].map(
      (l) => ({ ...l, current: l.slug === current }),
    );
  const index = ctx.page('guides/', 'guides', ctx.meta('guides/', {
    title: 'All guides',
    description: `Every guide on ${ctx.site.config.title}, from beginner to advanced.`,
    section: 'guides',
    lastmod: newest(catalog),
  }), {
    heading: 'All guides',
    levels: filterLevels(''),
    topics: topicFilters,
    guides: catalog.active.map((g) => ctx.guideCard(g)),
  });
  const perLevel = levels.map((l) =>
    ctx.page(`guides/level/${l.slug}/`, 'guides', ctx.meta(`guides/level/${l.slug}/`, {
      title: `${l.label} guides`,
      description: `${l.label} guides on ${ctx.site.config.title}.`,
      section: 'guides',
      lastmod: l.guides[0]?.latest.published,
    }), {
      heading: `${l.label} guides`,
      levels: filterLevels(l.slug),
      topics: topicFilters,
      guides: l.guides.map((g) => ctx.guideCard(g)),
    }),
  );
  return [index, ...perLevel];
}

function topicPages(ctx: PageContext): Page[] {
  const topics = [...ctx.catalog.topics.values()].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  const index = ctx.page('topics/', 'topics', ctx.meta('topics/', {
    title: 'Topics',
    description: `Every topic covered by ${ctx.site.config.title}'s guides and news.`,
    section: 'topics',
    lastmod: newest(ctx.catalog),
  }), {
    topics: topics.map((t) => ({ ...ctx.topicLink(t.name), guides: t.guides.length, stories: t.stories.length })),
  });
  return [index, ...topics.map((t) => topicPage(ctx, t))];
}

function topicPage(ctx: PageContext, t: Topic): Page {
  const path = `topics/${t.slug}/`;
  return ctx.page(path, 'topic', ctx.meta(path, {
    title: t.name,
    description: `Guides and news on ${t.name} from ${ctx.site.config.title}.`,
    section: 'topics',
    lastmod: Math.max(t.guides[0]?.latest.published ?? 0, t.stories[0]?.lead.published ?? 0) || undefined,
  }), {
    topic: {
      name: t.name,
      guides: t.guides.map((g) => ctx.guideCard(g)),
      stories: t.stories.slice(0, TOPIC_NEWS_LIMIT).map((s) => ctx.newsCard(s)),
      totalStories: t.stories.length,
    },
  });
}

function newsPages(ctx: PageContext): Page[] {
  const { stories } = ctx.catalog;
  const count = Math.max(1, Math.ceil(stories.length / NEWS_PER_PAGE));
  const pathOf = (n: number) => (n === 1 ? 'news/' : `news/page/${n}/`);
  const pages: Page[] = [];
  for (let n = 1; n <= count; n++) {
    const slice = stories.slice((n - 1) * NEWS_PER_PAGE, n * NEWS_PER_PAGE);
    pages.push(ctx.page(pathOf(n), 'news', ctx.meta(pathOf(n), {
      title: n === 1 ? 'News' : `News, page ${n}`,
      description: `The AI news ${ctx.site.config.title} tracks, newest first, with an importance score for each story.`,
      section: 'news',
      lastmod: slice[0]?.lead.published,
    }), {
      stories: slice.map((s) => ctx.newsCard(s)),
      pagination: count > 1 ? {
        page: n,
        pages: count,
        prev: n > 1 ? pathOf(n - 1) : undefined,
        next: n < count ? pathOf(n + 1) : undefined,
      } : undefined,
    }));
  }
  return pages;
}

function notFoundPage(ctx: PageContext): Page {
  // Served for any missing path, so its links must work from anywhere: they are absolute.
  const meta = ctx.meta('', { title: 'Page not found', description: 'This page does not exist.', section: 'none', noindex: true });
  const page = ctx.page('', 'not-found', { ...meta, root: '/' }, {
    guides: ctx.catalog.active.slice(0, 4).map((g) => ctx.guideCard(g)),
  });
  return { ...page, file: '404.html' };
}

function newest(catalog: Catalog): number | undefined {
  return Math.max(catalog.active[0]?.latest.published ?? 0, catalog.stories[0]?.lead.published ?? 0) || undefined;
}

/**
 * All pages of the site, in a stable order, and of those the listings (every page that is not a
 * guide's own). `onGuidePage` sees each guide's page as soon as it is composed: they are most of the
 * site, and can be rendered while the listings are still being composed. `news` is the site's news
 * index when the caller has it already.
 */
export function sitePages(
  site: Site,
  now: number,
  issues: readonly StoredIssue[] = [],
  onGuidePage?: (page: Page) => void,
  news?: NewsIndex,
): { pages: Page[]; listings: Page[]; catalog: Catalog; siteMeta: SiteMeta } {
  const ctx = new PageContext(site, now, news);
  const guides: Page[] = [];
  for (const g of ctx.catalog.guides) {
    for (const page of guidePages(ctx, g)) {
      guides.push(page);
      onGuidePage?.(page);
    }
  }
  const lead = [homePage(ctx), ...guidesIndexPages(ctx)];
  const rest = [...topicPages(ctx), ...newsPages(ctx), ...issuePages(ctx, issues), notFoundPage(ctx)];
  return { pages: [...lead, ...guides, ...rest], listings: [...lead, ...rest], catalog: ctx.catalog, siteMeta: ctx.siteMeta };
}

/**
 * The page a guide's working copy will have once published (the preview): the working copy stands in
 * as the next version, everything else is the site as it is.
 */
export function workingCopyPage(site: Site, now: number, slug: string, news?: NewsIndex): Page | undefined {
  const guide = site.guides.find((g) => g.slug === slug);
  if (!guide) return undefined;
  const latest = guide.versions.at(-1);
  const next: GuideVersion = {
    version: (latest?.version ?? 0) + 1,
    published: now,
    note: 'Working copy (not published)',
    file: guide.file,
    doc: guide.working,
    entry: { version: (latest?.version ?? 0) + 1, published: new Date(now).toISOString(), note: 'Working copy', sha256: '' },
  };
  const previewSite: Site = { ...site, guides: site.guides.map((g) => (g === guide ? { ...g, versions: [...g.versions, next] } : g)) };
  const ctx = new PageContext(previewSite, now, news);
  const live = ctx.catalog.guides.find((g) => g.guide.slug === slug)!;
  return guidePage(ctx, live, live.latest);
}
