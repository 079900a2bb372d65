// The listings: home, the guides by level, topics, the news in pages, and the page for a missing path.
import { LEVELS } from '../content/levels.ts';
import type { Catalog, Topic } from '../compose/catalog.ts';
import { byImportance } from '../compose/stories.ts';
import { levelLabel } from '../words/labels.ts';
import { hasPage, type Page, type PageContext } from './page-context.ts';
import { collectionJsonLd } from './structured-data.ts';

const NEWS_PER_PAGE = 50;
const TOPIC_NEWS_LIMIT = 30;

export function homePage(ctx: PageContext): Page {
  const { catalog } = ctx;
  const latestStories = catalog.stories.slice(0, 24);
  const top = [...latestStories].sort(byImportance).slice(0, 6);
  const topics = [...catalog.topics.values()]
    .filter(hasPage)
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

export function guidesIndexPages(ctx: PageContext): Page[] {
  const { catalog } = ctx;
  const levels = LEVELS.map((level) => ({
    slug: level,
    label: levelLabel(level),
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

export function topicPages(ctx: PageContext): Page[] {
  const topics = [...ctx.catalog.topics.values()].filter(hasPage).sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  const indexMeta = ctx.meta('topics/', {
    title: 'Topics',
    description: `Every topic covered by ${ctx.site.config.title}'s guides and news.`,
    section: 'topics',
    lastmod: newest(ctx.catalog),
  });
  const base = ctx.site.config.baseUrl;
  indexMeta.jsonLd = collectionJsonLd(
    ctx,
    { path: 'topics/', name: indexMeta.title, description: indexMeta.description },
    topics.map((t) => ({ name: t.name, url: `${base}/topics/${t.slug}/` })),
    [{ name: 'Topics', path: 'topics/' }],
  );
  const index = ctx.page('topics/', 'topics', indexMeta, {
    topics: topics.map((t) => ({ ...ctx.topicLink(t.name), guides: t.guides.length, stories: t.stories.length })),
  });
  return [index, ...topics.map((t) => topicPage(ctx, t))];
}

function topicPage(ctx: PageContext, t: Topic): Page {
  const path = `topics/${t.slug}/`;
  const meta = ctx.meta(path, {
    title: t.name,
    description: `Guides and news on ${t.name} from ${ctx.site.config.title}.`,
    section: 'topics',
    lastmod: Math.max(t.guides[0]?.latest.published ?? 0, t.stories[0]?.lead.published ?? 0) || undefined,
  });
  const base = ctx.site.config.baseUrl;
  meta.jsonLd = collectionJsonLd(
    ctx,
    { path, name: t.name, description: meta.description },
    [
      ...t.guides.map((g) => ({ name: g.latest.doc.front.title, url: `${base}/guides/${g.guide.slug}/` })),
      ...t.stories.slice(0, TOPIC_NEWS_LIMIT).map((s) => ({ name: s.lead.title, url: s.lead.url })),
    ],
    [{ name: 'Topics', path: 'topics/' }, { name: t.name, path }],
  );
  return ctx.page(path, 'topic', meta, {
    topic: {
      name: t.name,
      guides: t.guides.map((g) => ctx.guideCard(g)),
      stories: t.stories.slice(0, TOPIC_NEWS_LIMIT).map((s) => ctx.newsCard(s)),
      totalStories: t.stories.length,
    },
  });
}

export function newsPages(ctx: PageContext): Page[] {
  const { stories } = ctx.catalog;
  const count = Math.max(1, Math.ceil(stories.length / NEWS_PER_PAGE));
  const pathOf = (n: number) => (n === 1 ? 'news/' : `news/page/${n}/`);
  const pages: Page[] = [];
  for (let n = 1; n <= count; n++) {
    const slice = stories.slice((n - 1) * NEWS_PER_PAGE, n * NEWS_PER_PAGE);
    const meta = ctx.meta(pathOf(n), {
      title: n === 1 ? 'News' : `News, page ${n}`,
      description: `The AI news ${ctx.site.config.title} tracks, newest first, with an importance score for each story.`,
      section: 'news',
      lastmod: slice[0]?.lead.published,
    });
    const trail = [{ name: 'News', path: 'news/' }, ...(n === 1 ? [] : [{ name: meta.title, path: pathOf(n) }])];
    meta.jsonLd = collectionJsonLd(ctx, { path: pathOf(n), name: meta.title, description: meta.description }, slice.map((s) => ({ name: s.lead.title, url: s.lead.url })), trail);
    pages.push(ctx.page(pathOf(n), 'news', meta, {
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

export function notFoundPage(ctx: PageContext): Page {
  // Served for any missing path, so its links must work from anywhere: they are absolute.
  const meta = ctx.meta('', { title: 'Page not found', description: 'This page does not exist.', section: 'none', noindex: true });
  const page = ctx.page('', 'not-found', { ...meta, root: '/', anyPath: true }, {
    guides: ctx.catalog.active.slice(0, 4).map((g) => ctx.guideCard(g)),
  });
  return { ...page, file: '404.html' };
}

function newest(catalog: Catalog): number | undefined {
  return Math.max(catalog.active[0]?.latest.published ?? 0, catalog.stories[0]?.lead.published ?? 0) || undefined;
}
