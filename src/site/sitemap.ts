import type { Page } from './page-context.ts';
import { xmlText } from './xml.ts';

export function renderSitemap(pages: readonly Page[]): string {
  const urls = pages
    .filter((p) => !p.data.page.noindex)
    .map((p) => {
      const lastmod = p.data.page.lastmod ? `<lastmod>${new Date(p.data.page.lastmod).toISOString()}</lastmod>` : '';
      return `  <url><loc>${xmlText(p.data.page.canonical)}</loc>${lastmod}</url>`;
    });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
}
