// What every page builder shares: the page shape, the site's metadata, the clock and the cards a
// story or a guide makes wherever it is listed, each built once.
import type { Site } from '../content/model.ts';
import { addressOf } from '../content/address.ts';
import { slugify } from '../content/slug.ts';
import { buildCatalog, type Catalog, type LiveGuide, type NewsIndex, type Topic } from '../compose/catalog.ts';
import { alsoCovered, type Story } from '../compose/stories.ts';
import { renderSummary, renderSummaryText } from '../render/markdown.ts';
import { stamp, type Stamp } from '../words/dates.ts';
import { editionNames } from '../compose/slots.ts';
import { TAGLINE, allEditions, editionLabel, guideKicker, levelLabel } from '../words/labels.ts';
import { NO_IMAGES, type SiteImages } from './images.ts';

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
  /** The picture a shared link shows (og:image), absolute. */
  image?: PageImage;
  /** Last change, for the sitemap; absent for pages that should not be listed. */
  lastmod?: number;
  noindex?: boolean;
  /** Sent for any missing path (the 404 page): its links are absolute from the site's root. */
  anyPath?: boolean;
  /** The site's styles, inline, for a page that no one stylesheet address can reach from everywhere. */
  style?: string;
}

export interface PageImage {
  url: string;
  alt: string;
  width: number;
  height: number;
  type: string;
}

export interface SiteMeta {
  title: string;
  baseUrl: string;
  language: string;
  editions: string;
  /** Each edition's label by name (`editionLabels.midweek`), for templates written for the two editions. */
  editionLabels: Record<string, string>;
  /** Every edition in the config's order, for the subscribe form's choices. */
  editionList: { id: string; label: string }[];
  tagline: string;
  /**
   * Where the "Stay current" form posts: `url` when the site names one; otherwise the page says how
   * to subscribe by mail to `address`, and `serve` puts its own form there (see server/served-page.ts).
   */
  subscribe: { url?: string; address: string };
}

export interface PageData {
  site: SiteMeta;
  page: PageMeta;
  [key: string]: unknown;
}

/** What composing takes from the build besides the site and the clock; each is made afresh when not given. */
export interface ComposeInputs {
  /** The site's news index, when the caller has it already. */
  news?: NewsIndex;
  /** The figures' sizes and the social cards made for this build. */
  images?: SiteImages;
  /** Keeps pure results between builds (the content cache does). */
  results?: PureResults;
}

export interface PureResults {
  /** The value `compute` gives for `input`, of which it is a pure function of kind `kind`; kept when known. */
  remember<T extends NonNullable<unknown>>(kind: string, input: string, compute: () => T): T;
}

const SUMMARY = 'summary';

/** The context every page builder shares: catalog, clock, and memoised cards. */
export class PageContext {
  readonly catalog: Catalog;
  readonly siteMeta: SiteMeta;
  /** The figures' sizes and the social cards made for this build. */
  readonly images: SiteImages;
  private readonly results: PureResults | undefined;
  private readonly cards = new Map<Story, NewsCard>();
  private readonly guideCards = new Map<LiveGuide, GuideCard>();
  // The same instants (a guide's publication, a story's) appear on many pages.
  private readonly stamps = new Map<number, Stamp>();

  constructor(
    readonly site: Site,
    readonly now: number,
    { news, images = NO_IMAGES, results }: ComposeInputs = {},
  ) {
    this.catalog = buildCatalog(site, news);
    this.images = images;
    this.results = results;
    const { config } = site;
    this.siteMeta = {
      title: config.title,
      baseUrl: config.baseUrl,
      language: config.language,
      editions: allEditions(config),
      editionLabels: Object.fromEntries(editionNames(config).map((e) => [e, editionLabel(config, e)])),
      editionList: editionNames(config).map((id) => ({ id, label: editionLabel(config, id) })),
      tagline: TAGLINE,
      subscribe: { url: config.subscribeUrl, address: addressOf(config.from) },
    };
  }

  stamp(ms: number): Stamp {
    let known = this.stamps.get(ms);
    if (!known) this.stamps.set(ms, (known = stamp(ms, this.site.config.timezone)));
    return known;
  }

  meta(path: string, fields: Omit<PageMeta, 'root' | 'canonical' | 'jsonLd'> & { jsonLd?: object[] }): PageMeta {
    return { jsonLd: [], ...fields, root: rootFor(path), canonical: `${this.site.config.baseUrl}/${path}` };
  }

  page(path: string, template: string, meta: PageMeta, data: Record<string, unknown>): Page {
    return { file: `${path}index.html`, template, data: { site: this.siteMeta, page: meta, ...data } };
  }

  /**
   * An untrusted summary that belongs to no news item (a stored issue's), as HTML. Kept between builds:
   * the issues' summaries are the only Markdown a rebuild would otherwise render, and loading the
   * parser costs more than rendering them.
   */
  summaryHtml(text: string): string {
    return this.results ? this.results.remember(SUMMARY, text, () => renderSummaryText(text)) : renderSummaryText(text);
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

  /** A topic by name, with a link only when it has a page (see `hasPage`). */
  topicLink(name: string): TopicLink {
    const slug = slugify(name);
    const topic = this.catalog.topics.get(slug);
    return { name: topic?.name ?? name, href: topic && hasPage(topic) ? `topics/${slug}/` : undefined };
  }
}

export interface NewsCard {
  title: string;
  url: string;
  source: string;
  score: number;
  published: Stamp;
  summaryHtml: string;
  also: { source: string; url?: string }[];
}

export interface GuideCard {
  href: string;
  title: string;
  tldr: string;
  /** "Guide · Beginner". */
  kicker: string;
  level: string;
  topic: TopicLink;
  version: number;
  updated: Stamp;
}

export interface TopicLink {
  name: string;
  /** Absent for a topic without a page: it is named, not linked. */
  href?: string;
}

/**
 * Whether a topic gets a page (and so links and a sitemap entry): only with an active guide or a
 * story on it. A topic named only as a related topic or by archived guides would be an empty page.
 */
export function hasPage(topic: Topic): boolean {
  return topic.guides.length > 0 || topic.stories.length > 0;
}

function newsCard(story: Story, ctx: PageContext): NewsCard {
  const item = story.lead;
  return cardOf(item, renderSummary(item), alsoCovered(story), ctx);
}

/** A card from any news item-like record: a story on the site, or a story in an issue. */
export function cardOf(
  item: { title: string; url: string; source: string; score: number; published: number },
  summaryHtml: string,
  also: { source: string; url?: string }[],
  ctx: PageContext,
): NewsCard {
  return {
    title: item.title,
    url: item.url,
    source: item.source,
    score: item.score,
    published: ctx.stamp(item.published),
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
    kicker: guideKicker(front.level),
    level: levelLabel(front.level),
    topic: ctx.topicLink(front.topics[0]!),
    version: g.latest.version,
    updated: ctx.stamp(g.latest.published),
  };
}

function rootFor(path: string): string {
  return '../'.repeat(path.split('/').filter(Boolean).length);
}
