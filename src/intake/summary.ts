// Feed HTML → what an item may hold: a title as plain text, and a summary in the Markdown the site
// renders for news (paragraphs, emphasis, links, lists, quotes, code). sanitize-html keeps only those
// elements and http(s)/mailto links; turndown writes the rest as Markdown, escaping any text that
// would read as Markdown. Scripts, styles, images, frames and forms are dropped with their content.
import sanitizeHtml from 'sanitize-html';
import TurndownService from 'turndown';

const SUMMARY_TAGS = ['p', 'br', 'strong', 'b', 'em', 'i', 'a', 'ul', 'ol', 'li', 'code', 'pre', 'blockquote'];
/** Elements whose content is not text a reader should see. */
const DROPPED_WITH_CONTENT = ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'frame', 'object', 'embed', 'template', 'svg', 'math', 'head', 'title', 'select', 'button'];
const LINK_SCHEMES = /^(https?:|mailto:)/i;

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
  const spaced = html.replace(/<(br|hr|\/p|\/div|\/li|\/h[1-6]|\/td|\/tr|\/blockquote)\b[^>]*>/gi, ' $&');
  const escaped = sanitizeHtml(spaced, { allowedTags: [], allowedAttributes: {}, nonTextTags: DROPPED_WITH_CONTENT });
  return oneLine(escaped.replace(/&(amp|lt|gt|quot);/g, (m) => TEXT_ENTITIES[m]!));
}

let turndown: TurndownService | undefined;

function markdownWriter(): TurndownService {
  if (turndown) return turndown;
  turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-', emDelimiter: '_', strongDelimiter: '**' });
  return turndown;
}

/**
 * A summary in Markdown from an entry's HTML, at most `max` characters: whole paragraphs while they
 * fit, else the text of the first cut at a word. Relative links are made absolute against `base`
 * (the entry's own URL); a link that is not http(s) or mailto keeps its text and loses its target.
 */
export function htmlToMarkdown(html: string, max: number, base?: string): string {
  const clean = sanitizeHtml(cleanText(html), {
    allowedTags: SUMMARY_TAGS,
    allowedAttributes: { a: ['href'] },
    allowedSchemes: ['http', 'https', 'mailto'],
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
  const markdown = markdownWriter()
    .turndown(clean)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (markdown.length <= max) return markdown;
  const blocks = markdown.split(/\n{2,}/);
  let kept = '';
  for (const block of blocks) {
    const next = kept ? `${kept}\n\n${block}` : block;
    if (next.length > max) break;
    kept = next;
  }
  if (kept) return kept;
  return markdownWriter().escape(shorten(htmlToText(clean), max));
}

function absoluteLink(href: string | undefined, base: string | undefined): string | undefined {
  if (!href) return undefined;
  try {
    const url = base ? new URL(href, base) : new URL(href);
    return LINK_SCHEMES.test(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}
