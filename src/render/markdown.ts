// Markdown to HTML. Two renderers because the text has two kinds of author:
// guides come from the site's editors (trusted, HTML allowed); news summaries are pasted from
// elsewhere (untrusted: raw HTML is escaped and only http(s)/mailto links survive).
import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';
import type anchor from 'markdown-it-anchor';
import type Token from 'markdown-it/lib/token.mjs';
import { slugify } from '../content/slug.ts';
import { headingEnv } from './heading-ids.ts';
import { countWords } from '../words/reading-time.ts';
import type { GuideDoc, NewsItem, RenderedBody, Section } from '../content/model.ts';
import { guideText, type GuideText, type MarkdownRenderer, type MarkdownWork, type RenderedMarkdown } from '../content/render-queue.ts';


// markdown-it is loaded on first use, not with this module: a rebuild from the cache renders no
// Markdown at all, and loading it is a large part of the build command's start-up.
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
    // A link to each section after its heading, not inside it: the heading's own text stays its
    // name, and the link is named for the section it points to ("Link to section: …").
    permalink: anchors.permalink.linkAfterHeader({
      style: 'aria-label',
      assistiveText: (title: string) => `Link to section: ${title}`,
      symbol: '#',
      class: 'heading-anchor',
      wrapper: HEADING_WRAPPER,
    }),
  });
  guide.core.ruler.push('figures', markFigures);
  // A table wider than the screen scrolls sideways inside itself (assets/style.css): a reader on the
  // keyboard must be able to focus it to scroll it.
  guide.renderer.rules.table_open = (tokens, idx, options, _env, self) => {
    tokens[idx]!.attrSet('tabindex', '0');
    return self.renderToken(tokens, idx, options);
  };
  // No linkify here: summaries are short, their source link is a field of its own, and linkify's
  // URL scanning is the most expensive part of rendering ten thousand of them.
  const untrusted = new Markdown({ html: false, linkify: false, typographer: true });
  untrusted.validateLink = (url: string) => SAFE_LINK.test(url.trim());
  return (renderers = { guide, untrusted });
}

const SAFE_LINK = /^(https?:|mailto:)/i;

/**
 * Marks where each figure goes (an image alone in its paragraph; see content/figures.ts): the site
 * puts in its <figure>, with the sizes made from the image, once they are known (site/figures.ts).
 */
export const FIGURE_MARK = '<!--almanac:figure-->';

function markFigures(state: { tokens: Token[]; Token: new (type: string, tag: string, nesting: 0 | 1 | -1) => Token }): void {
  const { tokens } = state;
  // The mark written in the guide's own HTML would take the place of the first figure: it is dropped.
  for (const token of tokens) {
    for (const html of [token, ...(token.children ?? [])]) {
      if ((html.type === 'html_block' || html.type === 'html_inline') && html.content.includes(FIGURE_MARK)) html.content = html.content.split(FIGURE_MARK).join('');
    }
  }
  for (let i = tokens.length - 3; i >= 0; i--) {
    const [open, inline, close] = [tokens[i]!, tokens[i + 1]!, tokens[i + 2]!];
    if (open.type !== 'paragraph_open' || open.level !== 0 || inline.type !== 'inline' || close.type !== 'paragraph_close') continue;
    const meaningful = (inline.children ?? []).filter((c) => !(c.type === 'text' && c.content.trim() === '') && c.type !== 'softbreak');
    if (meaningful.length !== 1 || meaningful[0]!.type !== 'image') continue;
    const mark = new state.Token('html_block', '', 0);
    mark.content = `${FIGURE_MARK}\n`;
    tokens.splice(i, 3, mark);
  }
}

// Guide documents and news summaries are rendered when they are parsed and kept with them (see
// content/render-queue.ts), and so in the build cache. Short texts that belong to no document (the
// stories of stored issues) are rendered when used.

/** Renders parsed documents' Markdown on the calling thread. */
export const markdownHere: MarkdownRenderer = {
  render: async (work) => renderMarkdown(work),
};

/** The HTML of guide documents and news summaries, in the order given. */
export function renderMarkdown(work: MarkdownWork): RenderedMarkdown {
  return { guides: work.guides.map(renderGuideText), summaries: work.summaries.map(untrustedHtml) };
}

/** A guide document's HTML, rendered at most once per document (a working copy is rendered when first shown). */
export function renderGuideBody(doc: GuideDoc): RenderedBody {
  return (doc.rendered ??= renderGuideText(guideText(doc)));
}

function renderGuideText(text: GuideText): RenderedBody {
  const env = headingEnv();
  const { guide } = markdownIt();
  const tokens = guide.parse(text.body, env);
  const sections: Section[] = [];
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open' && token.tag === 'h2') {
      sections.push({ id: String(token.attrGet('id') ?? ''), title: headingText(tokens[i + 1]) });
    }
  });
  const html = guide.renderer.render(tokens, guide.options, env);
  const takeaways = text.takeaways.map(renderInline);
  const faq = text.faq.map(renderInline);
  const words = countWords([...takeaways, html, ...faq].join(' '));
  // A takeaway or an answer without a "<" holds no tag of its own.
  const rawHtml = tokens.some(holdsRawHtml) || [...text.takeaways, ...text.faq].some((t) => t.includes('<'));
  return { html, sections, takeaways, timeline: text.timeline.map(renderInline), faq, words, rawHtml };
}

/** What wraps each heading and its link (markdown-it-anchor writes them as HTML tokens). */
const HEADING_WRAPPER: [string, string] = ['<div class="heading">', '</div>'];
/** HTML tokens of the renderer's own: the figure mark, and the heading links' wrapper and symbol. */
const RENDERERS_HTML = new Set([FIGURE_MARK, ...HEADING_WRAPPER]);

/**
 * A token of the guide's own HTML. The renderer's own (each section heading has some) are not: a
 * guide with headings would never count as plain. The same tags written by hand are only tags too.
 */
function holdsRawHtml(token: Token): boolean {
  if (token.type === 'html_block' || token.type === 'html_inline') {
    const mine = RENDERERS_HTML.has(token.content.trim()) || (token.meta as { isPermalinkSymbol?: boolean } | null)?.isPermalinkSymbol === true;
    if (!mine) return true;
  }
  return token.children?.some(holdsRawHtml) ?? false;
}

/**
 * A heading as the contents list names it: its words, code and image descriptions as the page shows
 * them, not the Markdown or HTML they were written in ("Using `npm` with **care**" is "Using npm with care").
 */
function headingText(inline: Token | undefined): string {
  let text = '';
  for (const child of inline?.children ?? []) {
    if (child.type === 'text' || child.type === 'code_inline' || child.type === 'image') text += child.content;
    else if (child.type === 'softbreak' || child.type === 'hardbreak') text += ' ';
  }
  return text.replace(/\s+/g, ' ').trim();
}

/** A news item's untrusted summary, rendered at most once per item. */
export function renderSummary(item: NewsItem): string {
  return (item.summaryHtml ??= untrustedHtml(item.summary));
}

/** An untrusted summary that belongs to no news item (a story of a stored issue). */
export function renderSummaryText(text: string): string {
  return untrustedHtml(text);
}

function untrustedHtml(text: string): string {
  return markdownIt().untrusted.render(text);
}

/** One line of trusted inline Markdown (FAQ answers, takeaways): emphasis and links, no paragraphs. */
function renderInline(text: string): string {
  return markdownIt().guide.renderInline(text);
}

/** What an untrusted text holds that the email cannot carry as written, by line (1-based). */
export interface UntrustedFault {
  line: number;
  kind: 'raw-html' | 'image' | 'link';
  /** The tag, or the image's or link's URL. */
  found: string;
}

// What markdownToText takes for a tag: the same is shown as text in the HTML.
const TAG = /<\/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?\/?>|<!--[^]*?-->/g;

/**
 * Raw HTML (escaped, so shown as text), and images and links the renderer keeps but an email may not
 * have (http:), as the untrusted renderer reads the text: code spans and blocks are text already.
 */
export function untrustedFaults(markdown: string): UntrustedFault[] {
  const faults: UntrustedFault[] = [];
  for (const block of markdownIt().untrusted.parse(markdown, {})) {
    if (block.type !== 'inline' || !block.children) continue;
    const start = (block.map?.[0] ?? 0) + 1;
    const raw = block.content.split('\n');
    // Where `needle` is next in the block's source, from where the last one was found (so two alike
    // tags get their own lines); the block's first line when the source does not have it as written.
    let cursor = { line: 0, column: 0 };
    const find = (needle: string) => {
      for (let i = cursor.line; i < raw.length; i++) {
        const column = raw[i]!.indexOf(needle, i === cursor.line ? cursor.column : 0);
        if (column >= 0) return (cursor = { line: i, column: column + needle.length });
      }
      return undefined;
    };
    for (const token of block.children) {
      if (token.type === 'text') {
        for (const tag of token.content.matchAll(TAG)) {
          const at = find(/^<\/?[A-Za-z0-9-]+|^<!--/.exec(tag[0])![0]);
          // As typed: the text token has the typographer's quotes.
          const line = at ? raw[at.line]! : '';
          const typed = new RegExp(TAG.source, 'y');
          typed.lastIndex = at ? line.lastIndexOf('<', at.column) : 0;
          faults.push({ line: start + (at?.line ?? 0), kind: 'raw-html', found: (at && typed.exec(line)?.[0]) || tag[0] });
        }
      } else if (token.type === 'image' || token.type === 'link_open') {
        const url = token.attrGet(token.type === 'image' ? 'src' : 'href') ?? '';
        const allowed = token.type === 'image' ? /^https:\/\//i : /^(https:\/\/|mailto:)/i;
        if (!allowed.test(url)) faults.push({ line: start + (find(url)?.line ?? 0), kind: token.type === 'image' ? 'image' : 'link', found: url });
      }
    }
  }
  return faults;
}

/**
 * An untrusted summary reduced to plain text, e.g. for feeds and meta tags: the Markdown's own marks
 * go (emphasis, code, link targets, quote and heading markers), the text stays as written, so "3 > 2",
 * "C#", "snake_case" and a tag shown as text on the page read the same here.
 */
export function plainText(markdown: string): string {
  return markdown
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^[ \t]*(?:>[ \t]?)+/gm, '')
    .replace(/^[ \t]*#{1,6}(?=[ \t]|$)/gm, '')
    .replace(/(\*\*|\*|`)(\S(?:.*?\S)??)\1/g, '$2')
    // Underscores mark emphasis only at the edges of words, never inside one.
    .replace(/(?<!\w)(__|_)(\S(?:.*?\S)??)\1(?!\w)/g, '$2')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Markdown as plain text for the text part of an email: emphasis dropped, every link written out. */
export function markdownToText(markdown: string): string {
  return markdown
    .replace(/\r\n?/g, '\n')
    .replace(/!\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g, '$1 ($2)')
    .replace(/\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g, (_m, label: string, url: string) => (label === url ? url : `${label} (${url})`))
    // Only what is a tag (or a comment): "3 < 5 and 7 > 2" or "<⟨the title⟩>" is text, and stays.
    .replace(/<\/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?\/?>|<!--[^]*?-->/g, '')
    .replace(/(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1/g, '$2')
    // A single line break inside a paragraph is a soft break in Markdown: the text part rewraps it.
    // A heading ends its line, and a list item or a quoted line starts one.
    .replace(/^(?!#)([^\n]*[^\n])\n(?![\n#]|[ \t]*>|[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t])/gm, (_m, line: string) => `${line} `)
    .replace(/^#+\s*/gm, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
