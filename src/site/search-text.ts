// Rendered HTML as the text a search record holds: parsed (sanitize-html) where the HTML may be a
// guide's own, read off directly where only a renderer wrote it.
import { createRequire } from 'node:module';
import type sanitize from 'sanitize-html';

// sanitize-html is loaded when a page's text is first indexed, not with the pages that link to search.
const loadPackage = createRequire(import.meta.url);
let sanitizer: typeof sanitize | undefined;
const sanitizeHtml = (): typeof sanitize => (sanitizer ??= loadPackage('sanitize-html') as typeof sanitize);

/** Elements whose content a reader never sees as text (a guide may hold raw HTML). */
const NOT_TEXT = ['script', 'style', 'template', 'noscript', 'iframe', 'object', 'embed', 'svg', 'math', 'textarea', 'select', 'button', 'head', 'title'];
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const ENTITY = /&(amp|lt|gt|quot|#39);/g;
/** The tags after which the text reads on a new line. */
const BLOCK_END = /<(br|hr|\/p|\/div|\/li|\/h[1-6]|\/td|\/th|\/tr|\/blockquote|\/pre|\/figcaption)\b[^>]*>/gi;

/** Rendered HTML as the text a reader sees: tags gone, block ends as line breaks, entities decoded. */
export function textOf(html: string): string {
  if (!/[<&]/.test(html)) return html.trim();
  const spaced = html.replace(BLOCK_END, '$&\n');
  return tidy(sanitizeHtml()(spaced, { allowedTags: [], allowedAttributes: {}, nonTextTags: NOT_TEXT }));
}

/**
 * The text of HTML that markdown-it wrote with raw HTML turned off (news summaries), or of a guide
 * with no HTML of its own (RenderedBody.rawHtml false; its figures are written escaped): there every
 * `<` that is text is written `&lt;` and no attribute holds a `>`, so each tag is exactly a `<…>`
 * run and removing them leaves the text. Far cheaper than parsing, for thousands of summaries.
 */
export function renderedText(html: string): string {
  return tidy(html.replace(BLOCK_END, '$&\n').replace(/<[^>]*>/g, ''));
}

/** Text with its tags gone as a reader sees it: entities decoded, runs of spaces and blank lines as one. */
function tidy(text: string): string {
  return text
    .replace(ENTITY, (m) => ENTITIES[m]!)
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}
