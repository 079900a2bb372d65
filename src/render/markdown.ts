// Markdown to HTML. Two renderers because the text has two kinds of author:
// guides come from the site's editors (trusted, HTML allowed); news summaries are pasted from
// elsewhere (untrusted: raw HTML is escaped and only http(s)/mailto links survive).
import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';
import type anchor from 'markdown-it-anchor';
import { FileCache } from '../content/cache.ts';
import { slugify } from '../content/slug.ts';

export interface Section {
  id: string;
  title: string;
}

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

// Rendering is a pure function of the text, so a build may keep its results between runs: the site
// build lends this module its cache for the length of one render (see site/build.ts).
let memo = FileCache.disabled();

/** Keep rendered guide bodies and summaries in `cache` until called again with undefined. */
export function rememberMarkdownIn(cache: FileCache | undefined): void {
  memo = cache ?? FileCache.disabled();
}

const GUIDE = 'guide';
const INLINE = 'inline';
const SUMMARY = 'summary';

/** Markdown rendered on one thread for another: kind, text, result. */
export type Rendered = [kind: string, text: string, result: NonNullable<unknown>];

/** Renders guide bodies and news summaries ahead, on a thread that has time, for the one that composes pages. */
export function renderAhead(guideBodies: readonly string[], summaries: readonly string[]): Rendered[] {
  return [
    ...guideBodies.map((body): Rendered => [GUIDE, body, parseGuideBody(body)]),
    ...summaries.map((text): Rendered => [SUMMARY, text, markdownIt().untrusted.render(text)]),
  ];
}

/** Takes what another thread rendered ahead into the cache lent by rememberMarkdownIn. */
export function adoptRendered(rendered: readonly Rendered[]): void {
  for (const [kind, text, result] of rendered) memo.learn(kind, text, result);
}

/** A guide body, with the `##` sections it contains for the table of contents. */
export function renderGuideBody(body: string): { html: string; sections: Section[] } {
  return memo.remember(GUIDE, body, () => parseGuideBody(body));
}

function parseGuideBody(body: string): { html: string; sections: Section[] } {
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

/** One line of trusted inline Markdown (FAQ answers, takeaways): emphasis and links, no paragraphs. */
export function renderInline(text: string): string {
  return memo.remember(INLINE, text, () => markdownIt().guide.renderInline(text));
}

/** An untrusted news summary. */
export function renderSummary(text: string): string {
  return memo.remember(SUMMARY, text, () => markdownIt().untrusted.render(text));
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
    .replace(/<[^>]*>/g, '')
    .replace(/(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1/g, '$2')
    .replace(/^#+\s*/gm, '')
    // A single line break inside a paragraph is a soft break in Markdown: the text part rewraps it.
    .replace(/([^\n])\n(?!\n)/g, '$1 ')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
