// The images a site build makes: every figure of the guides' published versions in its sizes, and
// a social card for each guide without a figure. Made before pages are composed, since a page's
// markup needs each figure's size.
import type { Site } from '../content/model.ts';
import { ContentError } from '../content/problems.ts';
import type { DebugLog } from '../log/debug.ts';
import { guideKicker } from '../words/labels.ts';
import { FigureError, makeFigures, type FigureSizes } from './figures.ts';
import { cardFile, makeCards, type CardText } from './social-card.ts';

export interface SiteImages {
  /** Each figure's sizes, by the hash of its source. */
  figures: ReadonlyMap<string, FigureSizes>;
  /** Each guide's social card file below dist/, by slug, for guides whose latest version has no figure. */
  cards: ReadonlyMap<string, string>;
  /** The figures' files below dist/. */
  files: ReadonlyMap<string, Buffer>;
  /**
   * The cards' files below dist/, still being drawn: their names are known from their text, so pages
   * are composed and rendered meanwhile.
   */
  cardFiles: Promise<ReadonlyMap<string, Buffer>>;
}

export const NO_IMAGES: SiteImages = { figures: new Map(), cards: new Map(), files: new Map(), cardFiles: Promise.resolve(new Map()) };

/** With `write` false (check), nothing is written, encoded or drawn: figures are only measured. */
export async function makeSiteImages(site: Site, log?: DebugLog, write = true): Promise<SiteImages> {
  const published = site.guides.filter((g) => g.versions.length > 0);
  const figures = published.flatMap((g) => g.versions.flatMap((v) => v.doc.figures ?? []));
  const cardTexts = new Map<string, CardText>();
  for (const g of published) {
    const front = g.versions.at(-1)!.doc;
    if (front.figures?.length) continue;
    cardTexts.set(g.slug, { siteTitle: site.config.title, title: front.front.title, kicker: guideKicker(front.front.level) });
  }
  let made;
  try {
    made = await makeFigures(site.root, figures, log, write);
  } catch (err) {
    throw asContentError(err);
  }
  const drawing = makeCards(site.root, [...cardTexts.values()], log, write).then((cards) => cards.files);
  // Awaited by the build before it commits; a failure until then is held, not thrown as unhandled.
  drawing.catch(() => undefined);
  const cardNames = new Map([...cardTexts].map(([slug, text]) => [slug, cardFile(text)]));
  return { figures: made.sizes, cards: cardNames, files: made.files, cardFiles: drawing };
}

function asContentError(err: unknown): unknown {
  if (err instanceof FigureError) return new ContentError([err.problem()]);
  return err;
}
