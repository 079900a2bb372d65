// Feed HTML → what an item may hold: a title as plain text, and a summary in the Markdown the site
// renders for news (paragraphs, emphasis, links, lists, quotes, code). sanitize-html keeps only those
// elements and https/mailto links; turndown writes the rest as Markdown, escaping any text that
// would read as Markdown. Scripts, styles, images, frames and forms are dropped with their content.
import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';
import sanitizeHtml from 'sanitize-html';
import TurndownService from 'turndown';
import { isAllowedAddress, literalAddress, PUBLIC_ONLY } from './address-guard.ts';

const SUMMARY_TAGS = ['p', 'br', 'strong', 'b', 'em', 'i', 'a', 'ul', 'ol', 'li', 'code', 'pre', 'blockquote'];
/** Elements whose content is not text a reader should see. */
const DROPPED_WITH_CONTENT = ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'frame', 'object', 'embed', 'template', 'svg', 'math', 'head', 'title', 'select', 'button'];
// Emails link only to https and mailto (the checks refuse anything else): an http link in
// a summary keeps its text and loses its target, so that a fetched item never stops an issue.
const LINK_SCHEMES = /^(https:|mailto:)/i;

/**
 * The most of an entry's HTML (summary or title) that is read. The HTML parser's work grows with the
 * square of the nesting depth, so a feed of a megabyte of nested tags held a run for minutes; no
 * summary needs more markup than this, and a title far less.
 */
const MAX_HTML_CHARS = 100_000;

/** `html` cut to MAX_HTML_CHARS, before any tag the cut would split. */
function boundedHtml(html: string): string {
  if (html.length <= MAX_HTML_CHARS) return html;
  const cut = html.slice(0, MAX_HTML_CHARS);
  const open = cut.lastIndexOf('<');
  return open > cut.lastIndexOf('>') ? cut.slice(0, open) : cut;
}

/** Removes what no text field should carry: control characters, unpaired surrogates, non-characters. */
export function cleanText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
}

/** One line of text: whitespace runs become one space. */
export function oneLine(text: string): string {
  return cleanText(text).replace(/\s+/g, ' ').trim();
}

/** Cut to at most `max` characters at a word boundary, with an ellipsis when cut. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  const kept = (space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\uD800-\uDBFF]$/, '');
  return `${kept.trimEnd()}…`;
}

const TEXT_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' };

/** HTML → one line of plain text: tags removed, entities decoded, the content of scripts and styles gone. */
export function htmlToText(html: string): string {
  // Block ends become spaces, so that "<p>a</p><p>b</p>" reads "a b".
  const spaced = boundedHtml(html).replace(/<(br|hr|\/p|\/div|\/li|\/h[1-6]|\/td|\/tr|\/blockquote)\b[^>]*>/gi, ' $&');
  const escaped = sanitizeHtml(spaced, { allowedTags: [], allowedAttributes: {}, nonTextTags: DROPPED_WITH_CONTENT });
  return oneLine(escaped.replace(/&(amp|lt|gt|quot);/g, (m) => TEXT_ENTITIES[m]!));
}

let turndown: TurndownService | undefined;

function markdownWriter(): TurndownService {
  if (turndown) return turndown;
  turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-', emDelimiter: '_', strongDelimiter: '**' });
  const escape = turndown.escape.bind(turndown);
  turndown.escape = (text: string) => escapeMore(escape(text));
  return turndown;
}

/**
 * What turndown's escaping leaves that the site's Markdown would still read as markup: a "#", "1."
 * or "+" at the start of a text whose following space was collapsed away (an empty heading or list),
 * a leading ":" or any "|" (a table), and "~" (strikethrough).
 */
function escapeMore(escaped: string): string {
  return escaped
    .replace(/(?<!\\)~/g, '\\~')
    .replace(/\|/g, '\\|')
    .replace(/^(\s*)(#{1,6})(?=\s|$)/, '$1\\$2')
    .replace(/^(\s*)(\d+)([.)])(?=\s|$)/, '$1$2\\$3')
    .replace(/^(\s*)([+:])/, '$1\\$2');
}

/**
 * A summary in Markdown from an entry's HTML, at most `max` characters: whole paragraphs while they
 * fit, else the text of the first cut at a word. Relative links are made absolute against `base`
 * (the entry's own URL); a link that is not https or mailto keeps its text and loses its target.
 */
export function htmlToMarkdown(html: string, max: number, base?: string): string {
  const clean = sanitizeSummary(html, base);
  if (tooDeep(clean)) return plainSummary(clean, max);
  return finish(markdownWriter().turndown(clean), clean, max);
}

/**
 * Deeper than any summary needs: turndown walks the tree recursively, and a feed nesting a few
 * thousand elements would overflow the stack and end the whole run. Such a summary is kept as text.
 */
const MAX_DEPTH = 100;

/** Whether sanitised summary markup (only SUMMARY_TAGS, balanced, "<" in text escaped) nests past MAX_DEPTH. */
function tooDeep(clean: string): boolean {
  let depth = 0;
  for (const [, closing, tag] of clean.matchAll(/<(\/?)([a-z]+)\b[^>]*>/g)) {
    if (tag === 'br') continue;
    depth += closing ? -1 : 1;
    if (depth > MAX_DEPTH) return true;
  }
  return false;
}

/** Separates summaries converted together: control characters never survive cleanText. */
const MARK = '\u0001\u0002';

/**
 * The summaries of many entries, as htmlToMarkdown gives them one by one, converted in one document:
 * turndown builds a DOM for each call, which costs more than converting the text itself.
 */
export function htmlToMarkdownMany(entries: readonly { html: string; base?: string }[], max: number): string[] {
  if (entries.length === 0) return [];
  const cleans = entries.map((e) => sanitizeSummary(e.html, e.base));
  const deep = cleans.map(tooDeep);
  // Each summary is balanced markup of its own (sanitize-html closes what it opens), in a block of
  // its own, followed by a paragraph holding only the mark.
  const parts = markdownWriter()
    .turndown(cleans.map((c, i) => `<div>${deep[i] ? '' : c}</div><p>${MARK}</p>`).join(''))
    .split(MARK);
  if (parts.length !== cleans.length + 1) return entries.map((e) => htmlToMarkdown(e.html, max, e.base));
  return cleans.map((clean, i) => (deep[i] ? plainSummary(clean, max) : finish(parts[i]!, clean, max)));
}

function sanitizeSummary(html: string, base: string | undefined): string {
  // Unicode spaces and line separators become plain spaces: a trim (the content reader's too) would
  // drop one at the start of a line, and "\u2028---" would turn into "---", a rule, after escaping.
  const clean = sanitizeHtml(cleanText(boundedHtml(html)).replace(/[^\S \t\r\n]/g, ' '), {
    allowedTags: SUMMARY_TAGS,
    allowedAttributes: { a: ['href'] },
    allowedSchemes: ['https', 'mailto'],
    allowedSchemesAppliedToAttributes: ['href'],
    allowProtocolRelative: false,
    nonTextTags: DROPPED_WITH_CONTENT,
    transformTags: {
      a: (tagName, attribs) => {
        const href = absoluteLink(attribs.href, base);
        const kept: Record<string, string> = href ? { href } : {};
        return { tagName, attribs: kept };
      },
    },
  });
  // turndown writes only <pre><code> as a code block; a bare <pre>'s text would go out unescaped.
  return clean.replace(/<pre>(?!<code>)/g, '<pre><code>').replace(/(?<!<\/code>)<\/pre>/g, '</code></pre>');
}

/** turndown's Markdown of `clean`, cut to `max` and checked. */
function finish(converted: string, clean: string, max: number): string {
  const markdown = converted.replace(/\n{3,}/g, '\n\n').trim();
  let kept = markdown;
  if (markdown.length > max) {
    kept = '';
    for (const block of markdown.split(/\n{2,}/)) {
      const next = kept ? `${kept}\n\n${block}` : block;
      if (next.length > max) break;
      kept = next;
    }
  }
  // Markup nested in ways Markdown cannot say (a block inside bold, an empty nested list item) can
  // come out as a heading or a rule: such a summary is kept as its plain text instead.
  if (kept && onlySummaryMarkup(kept)) return kept;
  return plainSummary(clean, max);
}

/** The text of `clean` as one escaped Markdown paragraph, cut to `max`. */
function plainSummary(clean: string, max: number): string {
  const text = markdownWriter().escape(shorten(htmlToText(clean), max));
  return onlySummaryMarkup(text) ? text : '';
}

/** What a news summary may be made of, as markdown-it's tokens (see render/markdown.ts). */
const SUMMARY_TOKENS = new Set([
  'paragraph_open', 'paragraph_close', 'inline', 'text', 'softbreak', 'hardbreak', 'strong_open', 'strong_close', 'em_open', 'em_close',
  'link_open', 'link_close', 'bullet_list_open', 'bullet_list_close', 'ordered_list_open', 'ordered_list_close', 'list_item_open',
  'list_item_close', 'code_inline', 'code_block', 'fence', 'blockquote_open', 'blockquote_close',
]);

const loadPackage = createRequire(import.meta.url);
let summaryParser: MarkdownIt | undefined;

/** Whether Markdown, parsed as the site parses summaries, holds only what a summary may hold. */
export function onlySummaryMarkup(markdown: string): boolean {
  summaryParser ??= new (loadPackage('markdown-it') as typeof MarkdownIt)({ html: false, linkify: false });
  const ok = (tokens: readonly Token[] | null): boolean =>
    (tokens ?? []).every((t) => SUMMARY_TOKENS.has(t.type) && (t.type !== 'fence' || t.info === '') && ok(t.children));
  return ok(summaryParser.parse(markdown, {}));
}

function absoluteLink(href: string | undefined, base: string | undefined): string | undefined {
  if (!href) return undefined;
  try {
    const url = base ? new URL(href, base) : new URL(href);
    return readerLink(url) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an email may link to `url`: https or mailto, and not to a local host (see localHost). */
export function readerLink(url: URL): boolean {
  return LINK_SCHEMES.test(url.protocol) && !localHost(url);
}

/**
 * A link to the reader's own machine or network (localhost, a loopback or private address) leads a
 * reader nowhere, and the link check refuses it.
 */
function localHost(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const literal = literalAddress(url);
  return literal !== undefined && !isAllowedAddress(literal, PUBLIC_ONLY);
}
