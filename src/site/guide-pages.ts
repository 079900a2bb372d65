// A guide's pages: one per published version, the latest also at the guide's own URL, and the page
// the working copy will have once published (the preview).
import type { GuideVersion, Site } from '../content/model.ts';
import { slugify } from '../content/slug.ts';
import { relatedGuides, type LiveGuide, type NewsIndex } from '../compose/catalog.ts';
import { plainText, renderGuideBody } from '../render/markdown.ts';
import { timelineLabel } from '../words/dates.ts';
import { countWords, readingTime } from '../words/reading-time.ts';
import { guideKicker, levelLabel } from '../words/labels.ts';
import { PageContext, type Page, type PageImage } from './page-context.ts';
import { whatChangedView } from './version-diff.ts';
import { fallbackFile, placeFigures } from './figures.ts';
import { CARD_HEIGHT, CARD_WIDTH } from './social-card.ts';

const MORE_ON_LIMIT = 6;
const RELATED_LIMIT = 4;

/**
 * The guide's URL and one page per version (`v1.html`, `v2.html` … beside it, so a version costs a
 * file and not a folder). The latest version's own page is the same document as the guide's URL: one
 * page with both paths, so that it cannot be rendered or written twice, whoever writes it.
 */
export function guidePages(ctx: PageContext, g: LiveGuide): Page[] {
  const dir = `guides/${g.guide.slug}/`;
  const latest = guidePage(ctx, g, g.latest);
  const pages: Page[] = [{ ...latest, file: `${dir}index.html`, also: [latest.file] }];
  for (const v of g.guide.versions) {
    if (v !== g.latest) pages.push(guidePage(ctx, g, v));
  }
  return pages;
}

function versionFile(slug: string, version: number): string {
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
  meta.image = socialImage(ctx, g, v);
  meta.jsonLd = guideJsonLd(ctx, g, v, meta.canonical, meta.image);

  const page = ctx.page(dir, 'guide', meta, {
    guide: {
      slug,
      href: isLatest ? dir : versionFile(slug, v.version),
      kicker: guideKicker(front.level),
      title: front.title,
      level: levelLabel(front.level),
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
      // What a reader reads: the TL;DR, the takeaways, the body and the FAQ.
      readingTime: readingTime(body.words + countWords([front.tldr, ...front.faq.map((f) => f.q)].join(' '))),
      takeaways: body.takeaways,
      bodyHtml: placeFigures(body.html, v.doc.figures, ctx.images.figures, meta.root),
      rawHtml: body.rawHtml,
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
        changesHref: other.version > 1 ? `${versionFile(slug, other.version)}#what_changed` : undefined,
      })),
      changes: whatChangedView(g.guide, v, (n) => versionFile(slug, n)),
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

/** What a shared link to this version shows: its lead figure, or else the guide's card. */
function socialImage(ctx: PageContext, g: LiveGuide, v: GuideVersion): PageImage | undefined {
  const base = ctx.site.config.baseUrl;
  const lead = v.doc.figures?.[0];
  const sizes = lead && ctx.images.figures.get(lead.sha256);
  if (lead && sizes) {
    const file = fallbackFile(lead.sha256, sizes, 1440);
    return { url: `${base}/${file.file}`, alt: lead.alt, width: file.width, height: file.height, type: sizes.fallback === 'jpeg' ? 'image/jpeg' : 'image/png' };
  }
  const card = ctx.images.cards.get(g.guide.slug);
  if (!card) return undefined;
  const front = g.latest.doc.front;
  return { url: `${base}/${card}`, alt: `${front.title} (${guideKicker(front.level)})`, width: CARD_WIDTH, height: CARD_HEIGHT, type: 'image/png' };
}

function guideJsonLd(ctx: PageContext, g: LiveGuide, v: GuideVersion, url: string, image?: PageImage): object[] {
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
    ...(image && { image: { '@type': 'ImageObject', url: image.url, width: image.width, height: image.height } }),
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
  const ctx = new PageContext(previewSite, now, { news });
  const live = ctx.catalog.guides.find((g) => g.guide.slug === slug)!;
  return guidePage(ctx, live, live.latest);
}
