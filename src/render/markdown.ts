// Markdown to HTML. Two renderers because the text has two kinds of author:
// guides come from the site's editors (trusted, HTML allowed); news summaries are pasted from
// elsewhere (untrusted: raw HTML is escaped and only http(s)/mailto links survive).
import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';
import type anchor from 'markdown-it-anchor';
import { FileCache } from '../cache/file-cache.ts';
import { slugify } from '../content/slug.ts';
import type { GuideDoc, NewsItem, RenderedBody, Section } from '../content/model.ts';

// markdown-it is loaded on first use, not with this module: a rebuild from the cache renders no
// Markdown at all, and loading it is a sixth of the build command's start-up.
const loadPackage = createRequire(import.meta.url);
let renderers: { guide: MarkdownIt; untrusted: MarkdownIt } | undefined;

function markdownIt(): { guide: MarkdownIt; untrusted: MarkdownIt } {
  if (renderers) return renderers;
  const Markdown = loadPackage('markdown-it') as typeof MarkdownIt;
  const anchors = loadPackage('markdown-it-anchor') as typeof anchor;
  const guide = new Markdown({ html: true, linkify: true, typographer: true }).use(anchors, {
    level: 2,
    slugify: (s: string) => slugify(s) || 'section',
    tabIndex: false,
  });
  // No linkify here: summaries are short, their source link is a field of its own, and linkify's
  // URL scanning is the most expensive part of rendering ten thousand of them.
  const untrusted = new Markdown({ html: false, linkify: false, typographer: true });
  untrusted.validateLink = (url: string) => SAFE_LINK.test(url.trim());
  return (renderers = { guide, untrusted });
}

const SAFE_LINK = /^(https?:|mailto:)/i;

// A rendered guide body or summary is kept on the document itself (see content/model.ts), and so in
// the build cache with it. Short inline texts and the summaries of stored issues have no document of
// their own: rendering them is a pure function of the text, so a build may keep those results between
// runs by lending this module a cache for the length of one render (see site/build.ts).
let memo = FileCache.disabled();

/** Keep rendered inline Markdown and issue summaries in `cache` until called again with undefined. */
export function rememberMarkdownIn(cache: FileCache | undefined): void {
  memo = cache ?? FileCache.disabled();
}

const INLINE = 'inline';
const SUMMARY = 'summary';

/** Guide bodies and news summaries rendered on one thread for another, in the order asked for. */
export interface RenderedAhead {
  guideBodies: RenderedBody[];
  summaries: string[];
}

/** Renders guide bodies and news summaries ahead, on a thread that has time, for the one that composes pages. */
export function renderAhead(guideBodies: readonly string[], summaries: readonly string[]): RenderedAhead {
  return { guideBodies: guideBodies.map(parseGuideBody), summaries: summaries.map(untrustedHtml) };
}

/** A guide body, with the `##` sections it contains for the table of contents; rendered once per document. */
export function renderGuideBody(doc: GuideDoc): RenderedBody {
  return (doc.rendered ??= parseGuideBody(doc.body));
}

function parseGuideBody(body: string): RenderedBody {
  const env = {};
  const { guide } = markdownIt();
  const tokens = guide.parse(body, env);
  const sections: Section[] = [];
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open' && token.tag === 'h2') {
      const inline = tokens[i + 1];
      sections.push({ id: String(token.attrGet('id') ?? ''), title: inline?.content ?? '' });
    }
  });
  return { html: guide.renderer.render(tokens, guide.options, env), sections };
}

/** A news item's untrusted summary; rendered once per item. */
export function renderSummary(item: NewsItem): string {
  return (item.summaryHtml ??= untrustedHtml(item.summary));
}

/** An untrusted summary that belongs to no news item (a story of a stored issue). */
export function renderSummaryText(text: string): string {
  return memo.remember(SUMMARY, text, () => untrustedHtml(text));
}

function untrustedHtml(text: string): string {
  return markdownIt().untrusted.render(text);
}

/** One line of trusted inline Markdown (FAQ answers, takeaways): emphasis and links, no paragraphs. */
export function renderInline(text: string): string {
  return memo.remember(INLINE, text, () => markdownIt().guide.renderInline(text));
}

/** An untrusted summary reduced to plain text, e.g. for feeds and meta tags. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`#>]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Markdown as plain text for the text part of an email: emphasis dropped, every link written out. */
export function markdownToText(markdown: string): string {
  return markdown
    .replace(/!\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g, '$1 ($2)')
    .replace(/\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g, (_m, label: string, url: string) => (label === url ? url : `${label} (${url})`))
    // Only what is a tag (or a comment): "3 < 5 and 7 > 2" or "<⟨the title⟩>" is text, and stays.
    .replace(/<\/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?\/?>|<!--[^]*?-->/g, '')
    .replace(/(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1/g, '$2')
    .replace(/^#+\s*/gm, '')
    // A single line break inside a paragraph is a soft break in Markdown: the text part rewraps it.
    .replace(/([^\n])\n(?!\n)/g, '$1 ')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
