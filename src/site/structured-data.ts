// JSON-LD for the listing pages (schema.org CollectionPage with its items, and BreadcrumbList), so
// that search engines read what a page lists and where it sits. Titles here are content: they go
// out through the layout's `json` helper, which escapes "<" and the rest of what could end a script.
import type { PageContext } from './page-context.ts';

export interface Crumb {
  name: string;
  /** Path below the site root, "" for the home page. */
  path: string;
}

/** A listing page and its items (at most `ITEMS_LISTED`), with its trail from the home page. */
export function collectionJsonLd(
  ctx: PageContext,
  page: { path: string; name: string; description: string },
  items: readonly { name: string; url: string }[],
  trail: readonly Crumb[],
): object[] {
  const base = ctx.site.config.baseUrl;
  const collection = {
    '@context': 'https://schema.org',
    '@type': 'CollectionPage',
    name: page.name,
    description: page.description,
    url: `${base}/${page.path}`,
    inLanguage: ctx.site.config.language,
    isPartOf: { '@type': 'WebSite', name: ctx.site.config.title, url: `${base}/` },
    mainEntity: {
      '@type': 'ItemList',
      numberOfItems: items.length,
      itemListElement: items.slice(0, ITEMS_LISTED).map((item, i) => ({ '@type': 'ListItem', position: i + 1, name: item.name, url: item.url })),
    },
  };
  return [collection, breadcrumbJsonLd(ctx, trail)];
}

/** Items named in a listing's JSON-LD: enough to describe it, not a second copy of a long page. */
const ITEMS_LISTED = 50;

export function breadcrumbJsonLd(ctx: PageContext, trail: readonly Crumb[]): object {
  const base = ctx.site.config.baseUrl;
  const crumbs = [{ name: ctx.site.config.title, path: '' }, ...trail];
  return {
    '@context': 'https://schema.org',
    '@type': 'BreadcrumbList',
    itemListElement: crumbs.map((c, i) => ({ '@type': 'ListItem', position: i + 1, name: c.name, item: `${base}/${c.path}` })),
  };
}
