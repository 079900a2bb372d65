// The images a site build makes: every figure of the guides' published versions in its sizes, and
// a social card for each guide without a figure: the one frozen with its latest version, copied, or
// for a version published without one, drawn. Made before pages are composed, since a page's markup
// needs each figure's size.
import path from 'node:path';
import type { Site } from '../content/model.ts';
import { ContentError } from '../content/problems.ts';
import type { DebugLog } from '../log/debug.ts';
import { FigureError, makeFigures, type FigureSizes } from './figures.ts';
import { cardFile, cardText, frozenCardFile, makeCards, type CardText } from './social-card.ts';

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
  /**
   * Files below dist/ that are copies of files never written in place (frozen cards, figures in the
   * store), each with the absolute path of its original: a rebuild copies only what changed.
   */
  copies: ReadonlyMap<string, string>;
}

export const NO_IMAGES: SiteImages = { figures: new Map(), cards: new Map(), files: new Map(), cardFiles: Promise.resolve(new Map()), copies: new Map() };

/** With `write` false (check), nothing is written, encoded or drawn: figures are only measured. */
export async function makeSiteImages(site: Site, log?: DebugLog, write = true): Promise<SiteImages> {
  const published = site.guides.filter((g) => g.versions.length > 0);
  const figures = published.flatMap((g) => g.versions.flatMap((v) => v.doc.figures ?? []));
  const cardTexts = new Map<string, CardText>();
  const frozenNames = new Map<string, string>();
  const frozenCards = new Map<string, string>();
  for (const g of published) {
    const latest = g.versions.at(-1)!;
    if (latest.doc.figures?.length) continue;
    if (latest.card) {
      const file = frozenCardFile(latest.card.sha256);
      frozenNames.set(g.slug, file);
      frozenCards.set(file, path.join(site.root, latest.card.file));
    } else {
      cardTexts.set(g.slug, cardText(latest.doc.front));
    }
  }
  if (cardTexts.size > 0) log?.(`cards to draw, their versions published without one (run "almanac guide cards"): ${[...cardTexts.keys()].join(', ')}`);
  log?.(`${frozenCards.size} social cards frozen with their versions, copied without drawing`);
  let made;
  try {
    made = await makeFigures(site.root, figures, log, write);
  } catch (err) {
    throw asContentError(err);
  }
  const drawing = makeCards(site.root, [...cardTexts.values()], log, write).then((cards) => cards.files);
  // Awaited by the build before it commits; a failure until then is held, not thrown as unhandled.
  drawing.catch(() => undefined);
  const cardNames = new Map([...frozenNames, ...[...cardTexts].map(([slug, text]) => [slug, cardFile(text)] as const)]);
  return { figures: made.sizes, cards: cardNames, files: made.files, cardFiles: drawing, copies: new Map([...made.copies, ...frozenCards]) };
}

function asContentError(err: unknown): unknown {
  if (err instanceof FigureError) return new ContentError([err.problem()]);
  return err;
}
