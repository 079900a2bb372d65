import type { Page } from './page-context.ts';
import { xmlText } from './xml.ts';

export function renderSitemap(pages: readonly Page[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${sitemapEntries(pages).join('\n')}\n</urlset>\n`;
}

/** One line for each page that may be indexed. */
function sitemapEntries(pages: readonly Page[]): string[] {
  return pages
    .filter((p) => !p.data.page.noindex)
    .map((p) => {
      const lastmod = p.data.page.lastmod ? `<lastmod>${new Date(p.data.page.lastmod).toISOString()}</lastmod>` : '';
      return `  <url><loc>${xmlText(p.data.page.canonical)}</loc>${lastmod}</url>`;
    });
}

/**
 * A sitemap this build wrote (`sitemap`), with its entries below `prefix` (a canonical address, e.g.
 * "https://example.org/issues/") replaced by those of `pages`: the same text renderSitemap gives for
 * all pages, when the entries below `prefix` are one run, as the pages are listed. Undefined when the
 * sitemap is not of that form.
 */
export function replaceSitemapEntries(sitemap: string, prefix: string, pages: readonly Page[]): string | undefined {
  const lines = sitemap.split('\n');
  const start = `  <url><loc>${xmlText(prefix)}`;
  const first = lines.findIndex((line) => line.startsWith(start));
  let end = first;
  while (end >= 0 && end < lines.length && lines[end]!.startsWith(start)) end++;
  if (first < 0 || lines.slice(end).some((line) => line.startsWith(start))) return undefined;
  return [...lines.slice(0, first), ...sitemapEntries(pages), ...lines.slice(end)].join('\n');
}
