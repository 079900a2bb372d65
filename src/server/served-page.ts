// A page as `serve` sends it. A build without `subscribeUrl` cannot know whether its pages will be
// hosted by `serve`, so its "Stay current" box says how to subscribe by mail and carries the form
// inert in a <template>; `serve`, whose /subscribe takes the address, shows the form in their place.
// A page with the site's styles inline (the 404 page) has them allowed by their hash, and nothing else inline.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

const SERVED_FORM = /<template class="subscribe-served">([\s\S]*?)<\/template>\s*<div class="subscribe-how">[\s\S]*?<\/div>/g;
const INLINE_STYLE = /<style>([\s\S]*?)<\/style>/g;

/** The page with the subscribe form in place of the words on how to subscribe (unchanged when it has none). */
export function servedPage(html: string): string {
  return html.includes('<template class="subscribe-served">') ? html.replace(SERVED_FORM, '$1') : html;
}

/** The CSP sources that allow exactly the page's own <style> elements. */
export function styleSources(html: string): string[] {
  return [...html.matchAll(INLINE_STYLE)].map((m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
}

/** `servedPage`, with the response's CSP widened to the page's own inline styles. */
export function servePage(res: ServerResponse): (html: string) => string {
  return (html) => {
    const sources = styleSources(html);
    const csp = res.getHeader('content-security-policy');
    if (sources.length && typeof csp === 'string') res.setHeader('content-security-policy', csp.replace("style-src 'self'", `style-src 'self' ${sources.join(' ')}`));
    return servedPage(html);
  };
}
