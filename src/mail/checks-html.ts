// The email checks on the HTML document: CSS that Gmail keeps, language and direction, layout
// tables, images, links, nothing that runs, the preheader, and the links every issue must carry.
// The numbers are the rules', counted across both files.
import * as csstree from 'css-tree';
import type { HTMLElement } from 'node-html-parser';
import { PREHEADER_FILL, PREHEADER_WIDTH } from '../render/email.ts';
import { lowContrast } from './contrast.ts';
import { colourPlace, templatePlace, type TemplateSource } from './template-place.ts';

const STYLE_WARN_BYTES = 16_000;
const FILL = new Set(PREHEADER_FILL);

/** Records a finding; the same finding twice is kept once. */
type Add = (check: string, severity: 'error' | 'warning', expected: string, found: string) => void;

/**
 * The HTML document's rules; `links` are the sample recipient's unsubscribe link and the web version;
 * `templates`, the email templates it was rendered from, to say where a fault was written.
 */
export function checkHtml(doc: HTMLElement, links: { unsubscribe: string; webUrl: string }, add: Add, templates: readonly TemplateSource[] = []): void {
  // 4: CSS in <head> that Gmail will keep
  const head = doc.querySelector('head');
  const styles = doc.querySelectorAll('style');
  let styleBytes = 0;
  for (const style of styles) {
    if (!head || !isInside(style, head)) add('head-css', 'error', '<style> only inside <head>', '<style> in the body');
    const css = style.textContent;
    styleBytes += Buffer.byteLength(css);
    const errors: string[] = [];
    csstree.parse(css, { onParseError: (e) => errors.push(e.message) });
    if (errors.length) add('head-css', 'error', 'CSS that parses (Gmail drops a whole <style> block with an error)', errors[0]!);
  }
  if (styleBytes > STYLE_WARN_BYTES) add('head-css', 'warning', `at most ${fmt(STYLE_WARN_BYTES)} bytes of <style>`, `${fmt(styleBytes)} bytes`);

  // 5–6: language and direction, on <html> and on a wrapper inside <body> (webmails drop <html>)
  const root = doc.querySelector('html');
  const body = doc.querySelector('body');
  const wrapper = body?.querySelector('[lang]');
  const tag = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
  if (!root?.getAttribute('lang') || !tag.test(root.getAttribute('lang')!)) add('lang', 'error', '<html lang> with a language tag', root?.getAttribute('lang') ?? 'none');
  if (!wrapper || !tag.test(wrapper.getAttribute('lang') ?? '')) add('lang', 'error', 'a wrapper inside <body> with lang', 'none');
  if (!root?.getAttribute('dir') || !wrapper?.getAttribute('dir')) add('dir', 'warning', 'dir on <html> and on the body wrapper', 'missing');

  // 7: layout tables are announced as such to screen readers
  const layout = doc.querySelectorAll('table').filter((t) => !t.querySelector('th, caption') && !/^(presentation|none)$/.test(t.getAttribute('role') ?? ''));
  if (layout.length) add('layout-tables', 'error', 'role="presentation" on every layout table', `${layout.length} table${layout.length === 1 ? '' : 's'} without it`);

  // 8–9: images
  for (const img of doc.querySelectorAll('img')) {
    const src = img.getAttribute('src') ?? '';
    if (img.getAttribute('alt') === undefined) add('img-alt', 'error', 'alt on every image', `<img src="${src}"> without alt`);
    if (!/^https:\/\//.test(src) || /^https:\/\/(localhost|127\.)/.test(src)) add('img-src', 'error', 'images from absolute https URLs', src || 'no src');
    else if (/\.svg(\?|$)/i.test(src)) add('img-src', 'error', 'no SVG images (Gmail and Outlook do not show them)', src);
    if (!img.getAttribute('width')) add('img-src', 'warning', 'a width attribute on every image (Outlook)', `<img src="${src}">`);
  }

  // 11, 13: links
  for (const a of doc.querySelectorAll('a')) {
    const href = (a.getAttribute('href') ?? '').trim();
    if (!/^(https:\/\/[^/\s]+|mailto:)/.test(href) || /^https:\/\/(localhost|127\.|\[::1\])/.test(href)) {
      add('links', 'error', 'every link absolute https: or mailto:', href ? `href="${href}"` : 'an empty href');
    }
    if (!a.textContent.trim() && !a.querySelector('img[alt]')) add('link-text', 'warning', 'text on every link', `an empty link to ${href}`);
  }

  // 14: nothing that runs
  if (doc.querySelector('script')) add('no-script', 'error', 'no <script>', '<script>');
  if (doc.querySelector('form')) add('no-script', 'error', 'no <form>', '<form>');
  for (const el of doc.querySelectorAll('*')) {
    for (const [name, value] of Object.entries(el.attributes)) {
      if (/^on/i.test(name)) add('no-script', 'error', 'no event handler attributes', `${name}= on <${el.tagName.toLowerCase()}>`);
      if (/^\s*javascript:/i.test(value)) add('no-script', 'error', 'no javascript: URLs', `${name}="${value}"`);
    }
  }

  // 16: the preheader: first thing in the body, hidden, padded so body text does not leak into the preview
  const first = body?.childNodes.find((n) => n.nodeType === 1) as HTMLElement | undefined;
  const hidden = first && /display:\s*none/i.test(first.getAttribute('style') ?? '') ? first : undefined;
  if (!hidden) add('preheader', 'error', 'a hidden preheader right after <body>', 'none');
  else {
    // Characters as the reader's client counts them: entities decoded, one per code point.
    const full = [...hidden.textContent];
    let end = full.length;
    while (end > 0 && (FILL.has(full[end - 1]!) || /\s/.test(full[end - 1]!))) end--;
    const visible = full.slice(0, end).join('').trim();
    const visibleLength = [...visible].length;
    if (full.length < PREHEADER_WIDTH) add('preheader', 'error', `the preheader padded to ${PREHEADER_WIDTH} characters`, `${full.length}`);
    if (visibleLength < 40 || visibleLength > 140) add('preheader', 'warning', 'preheader text of 40 to 140 characters', `${visibleLength} characters`);
  }

  // 19: a visible unsubscribe link in the body
  if (!doc.querySelectorAll('a').some((a) => a.getAttribute('href') === links.unsubscribe && a.textContent.trim())) {
    add('unsubscribe-link', 'error', 'a visible unsubscribe link in the body', 'none');
  }
  // 20: dark mode declared, and text that reads in both schemes
  if (!doc.querySelector('meta[name="color-scheme"]')) add('dark-mode', 'warning', '<meta name="color-scheme" content="light dark">', 'none');
  checkContrast(doc, add, templates);
  // 25: the web version is linked
  if (!doc.querySelectorAll('a').some((a) => a.getAttribute('href') === links.webUrl)) add('web-version', 'warning', `a "view in browser" link to ${links.webUrl}`, 'none');
}

/** One finding per element kind and pair of colours: twenty story titles in one colour are one fix. */
function checkContrast(doc: HTMLElement, add: Add, templates: readonly TemplateSource[]): void {
  const groups = new Map<string, { pair: ReturnType<typeof lowContrast>[number]; count: number }>();
  for (const pair of lowContrast(doc)) {
    const key = `${pair.scheme} ${pair.element} ${pair.colour} ${pair.background}`;
    const held = groups.get(key);
    if (held) held.count++;
    else groups.set(key, { pair, count: 1 });
  }
  for (const { pair, count } of groups.values()) {
    const more = count > 1 ? ` (and ${count - 1} more like it)` : '';
    const place = templatePlace(templates, pair);
    const [colourAt, backgroundAt] = [colourPlace(templates, pair.colour), colourPlace(templates, pair.background)];
    const where = [place && `written at ${place}`, colourAt && `${pair.colour} at ${colourAt}`, backgroundAt && `${pair.background} at ${backgroundAt}`].filter(Boolean);
    add(
      'contrast',
      'error',
      `text contrast of at least ${pair.required}:1 in the ${pair.scheme} scheme (WCAG 1.4.3${pair.required === 3 ? ', large text' : ''})`,
      `${JSON.stringify(pair.text)} in ${pair.element}: ${pair.colour} on ${pair.background}, ${(Math.floor(pair.ratio * 100) / 100).toFixed(2)}:1${more}${where.length ? ` (${where.join('; ')})` : ''}`,
    );
  }
}

function isInside(el: HTMLElement, ancestor: HTMLElement): boolean {
  for (let cur: HTMLElement | null = el.parentNode; cur; cur = cur.parentNode) if (cur === ancestor) return true;
  return false;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
