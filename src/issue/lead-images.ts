// A featured guide's lead image (its first figure) in the email's guide card: the fallback format
// (JPEG or PNG, which every mail client shows), at twice the width it is shown at where that size
// exists, from the site's https address. Mail clients refuse images over plain http, so with any
// other baseUrl the card has no image.
import type { Catalog } from '../compose/catalog.ts';
import type { IssueGuide } from '../compose/issue.ts';
import type { Site } from '../content/model.ts';
import { ContentError } from '../content/problems.ts';
import { fallbackFile, FigureError, makeFigures } from '../site/figures.ts';

/** The width of the email's text column: 600 px less the card's padding. */
export const EMAIL_IMAGE_WIDTH = 544;

export interface EmailImage {
  src: string;
  alt: string;
  width: number;
  height: number;
}

/** Each featured guide's lead image by slug (for the guides that have one at the version featured). */
export async function leadImages(site: Site, catalog: Catalog, guides: readonly IssueGuide[]): Promise<Map<string, EmailImage>> {
  const out = new Map<string, EmailImage>();
  const base = site.config.baseUrl;
  if (!base.startsWith('https://')) return out;
  const leads = new Map<string, NonNullable<ReturnType<typeof leadFigure>>>();
  for (const g of guides) {
    const lead = leadFigure(catalog, g);
    if (lead) leads.set(g.slug, lead);
  }
  if (leads.size === 0) return out;
  let made;
  try {
    made = await makeFigures(site.root, leads.values());
  } catch (err) {
    // A version frozen with an image that cannot be decoded is bad content, named like the site build names it.
    if (err instanceof FigureError) throw new ContentError([err.problem()]);
    throw err;
  }
  for (const [slug, figure] of leads) {
    const sizes = made.sizes.get(figure.sha256);
    if (!sizes) continue;
    const file = fallbackFile(figure.sha256, sizes, EMAIL_IMAGE_WIDTH * 2);
    const width = Math.min(EMAIL_IMAGE_WIDTH, file.width);
    out.set(slug, { src: `${base}/${file.file}`, alt: figure.alt, width, height: Math.round((sizes.height * width) / sizes.width) });
  }
  return out;
}

function leadFigure(catalog: Catalog, g: IssueGuide) {
  const live = catalog.guides.find((x) => x.guide.slug === g.slug);
  const version = live?.guide.versions.find((v) => v.version === g.version);
  return version?.doc.figures?.[0];
}
