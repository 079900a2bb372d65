// Figures on the site: each source image made into a few widths (never wider than the source) in
// AVIF and WebP with a JPEG or PNG fallback, with sharp; named after the hash of the source bytes, so
// the same image in several versions is one set of files, and a changed image is a new set. What is
// made is kept in the figure store (cache/figure-store.ts): a rebuild with unchanged images makes none.
import { createHash } from 'node:crypto';
import type { Figure } from '../content/figures.ts';
import type { Problem } from '../content/problems.ts';
import { MAX_ASSET_BYTES, readInsideRoot } from '../files/walk.ts';
import { FigureStore } from '../cache/figure-store.ts';
import type { DebugLog } from '../log/debug.ts';
import { FIGURE_MARK } from '../render/markdown.ts';

/** The widths a figure is made in, narrowest first; a source narrower than one is made at its own width. */
export const FIGURE_WIDTHS = [480, 960, 1440] as const;
/** Bumped whenever what is made from an image changes, so that older entries of the store are made again. */
const RECIPE = 2;
export const FIGURES_DIR = 'figures';

/** What was made from one source image. */
export interface FigureSizes {
  /** The source's size, upright (after its orientation tag is applied). */
  width: number;
  height: number;
  /** The widths made, narrowest first. */
  widths: number[];
  fallback: 'png' | 'jpeg';
}

export interface MadeFigures {
  /** By source hash. */
  sizes: Map<string, FigureSizes>;
  /** Output files below dist/ made in memory (by check, or when the store cannot be written). */
  files: Map<string, Buffer>;
  /** Output files below dist/ kept in the store: each with the absolute path of the stored file, copied only when it changed. */
  copies: Map<string, string>;
  /** How many sources were processed with sharp in this run (0 when every one came from the store). */
  processed: number;
}

/**
 * Makes (or finds in the store) the sizes of every distinct image among `figures`. With `write`
 * false nothing is written or encoded: an image not in the store is only measured (check reads the
 * site and writes nothing).
 */
export async function makeFigures(root: string, figures: Iterable<Figure>, log?: DebugLog, write = true): Promise<MadeFigures> {
  const distinct = new Map<string, Figure>();
  for (const f of figures) if (!distinct.has(f.sha256)) distinct.set(f.sha256, f);
  const made: MadeFigures = { sizes: new Map(), files: new Map(), copies: new Map(), processed: 0 };
  if (distinct.size === 0) return made;
  const { default: sharp } = await import('sharp');
  const store = new FigureStore(root, `${RECIPE}:${sharp.versions.sharp}:${sharp.versions.vips}`, write);
  for (const [hash, figure] of [...distinct].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // A build copies what the store keeps without reading it; check (write false) writes nothing.
    const kept = write ? store.paths<FigureSizes>(hash) : undefined;
    if (kept) {
      made.sizes.set(hash, kept.facts);
      for (const [name, file] of kept.files) made.copies.set(`${FIGURES_DIR}/${name}`, file);
      continue;
    }
    let entry = store.get<FigureSizes>(hash);
    if (!entry) {
      const bytes = readInsideRoot(root, figure.file, MAX_ASSET_BYTES);
      // The loader hashed these bytes: a file changed since is read at the next build.
      if (!bytes || createHash('sha256').update(bytes).digest('hex') !== hash) continue;
      try {
        entry = write ? await processImage(sharp, bytes, figure.format, hash) : { facts: await measure(sharp, bytes, figure.format), files: new Map() };
      } catch (err) {
        throw new FigureError(figure.file, `an image that cannot be decoded (${err instanceof Error ? err.message : String(err)})`);
      }
      made.processed++;
      store.put(hash, entry.facts, entry.files);
    }
    made.sizes.set(hash, entry.facts);
    const stored = write ? store.paths<FigureSizes>(hash) : undefined;
    if (stored) for (const [name, file] of stored.files) made.copies.set(`${FIGURES_DIR}/${name}`, file);
    else for (const [name, data] of entry.files) made.files.set(`${FIGURES_DIR}/${name}`, data);
  }
  log?.(`${made.processed} of ${distinct.size} images ${write ? 'processed' : 'measured'}, ${distinct.size - made.processed} reused`);
  return made;
}

/** The images among `figures` that cannot be decoded, as problems; nothing is written or encoded. */
export async function undecodedFigures(root: string, figures: readonly Figure[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const figure of new Map(figures.map((f) => [f.sha256, f])).values()) {
    try {
      await makeFigures(root, [figure], undefined, false);
    } catch (err) {
      if (!(err instanceof FigureError)) throw err;
      problems.push(err.problem());
    }
  }
  return problems;
}

/** An image that passed the loader's checks but could not be decoded. */
export class FigureError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }

  problem(): Problem {
    return { file: this.file, expected: 'an image file sharp can read', found: this.message };
  }
}

type Sharp = typeof import('sharp').default;

/**
 * What will be made from an image, without making it. Every pixel is decoded, so that a damaged file
 * is found, but through a resize, as the build decodes it: a small file that declares a huge image
 * is read row by row instead of held whole in memory.
 */
async function measure(sharp: Sharp, bytes: Buffer, format: Figure['format']): Promise<FigureSizes> {
  const meta = await sharp(bytes).metadata();
  await sharp(bytes).resize({ width: FIGURE_WIDTHS[0], withoutEnlargement: true }).raw().toBuffer();
  return factsOf(meta, format);
}

function factsOf(meta: import('sharp').Metadata, format: Figure['format']): FigureSizes {
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  const fallback = format === 'jpeg' || (format !== 'png' && format !== 'gif' && !meta.hasAlpha) ? 'jpeg' : 'png';
  return { width, height, widths: widthsFor(width), fallback };
}

async function processImage(sharp: Sharp, bytes: Buffer, format: Figure['format'], hash: string): Promise<{ facts: FigureSizes; files: Map<string, Buffer> }> {
  const meta = await sharp(bytes).metadata();
  const facts = factsOf(meta, format);
  const { widths, fallback } = facts;
  const files = new Map<string, Buffer>();
  // One width at a time, its three formats at once: every pipeline decodes the source, and all of
  // them decoding a large PNG together held several times the memory for no gain on two cores.
  for (const w of widths) {
    const jobs: Promise<void>[] = [];
    // autoOrient: a photo's orientation tag is applied, as browsers show it.
    const resized = () => sharp(bytes).autoOrient().resize({ width: w, withoutEnlargement: true });
    const encode = async (ext: string, make: () => Promise<Buffer>) => {
      files.set(figureFileName(hash, w, ext), await make());
    };
    jobs.push(encode('avif', () => resized().avif({ quality: 55, effort: 2 }).toBuffer()));
    jobs.push(encode('webp', () => resized().webp({ quality: 78 }).toBuffer()));
    jobs.push(encode(fallback === 'jpeg' ? 'jpg' : 'png', () => (fallback === 'jpeg' ? resized().jpeg({ quality: 82, mozjpeg: true }) : resized().png({ compressionLevel: 9, palette: meta.isPalette === true })).toBuffer()));
    await Promise.all(jobs);
  }
  // Names in a fixed order: the store lists them as made.
  const ordered = new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
  return { facts, files: ordered };
}

/** The widths made from a source `width` pixels wide: the standard ones below it, and its own when narrower than the widest. */
export function widthsFor(width: number): number[] {
  const below = FIGURE_WIDTHS.filter((w) => w < width);
  return width <= FIGURE_WIDTHS.at(-1)! ? [...below, width] : [...FIGURE_WIDTHS];
}

/** `<first 16 hex of the source hash>-<width>.<ext>`, below figures/. */
export function figureFileName(hash: string, width: number, ext: string): string {
  return `${hash.slice(0, 16)}-${width}.${ext}`;
}

/** The fallback file of a figure at most `maxWidth` wide (the widest that fits, else the narrowest), for email and social cards. */
export function fallbackFile(hash: string, sizes: FigureSizes, maxWidth: number): { file: string; width: number; height: number } {
  const fitting = sizes.widths.filter((w) => w <= maxWidth);
  const width = fitting.at(-1) ?? sizes.widths[0]!;
  return {
    file: `${FIGURES_DIR}/${figureFileName(hash, width, sizes.fallback === 'jpeg' ? 'jpg' : 'png')}`,
    width,
    height: Math.round((sizes.height * width) / sizes.width),
  };
}

/** What the `sizes` attribute says: the guide's text column, or the screen when narrower. */
const SIZES = '(min-width: 46rem) 42rem, 100vw';

/**
 * A guide body's HTML with each figure mark replaced by its <figure>: a <picture> of the sizes made,
 * width and height on the <img> so that nothing moves as it loads, lazy loading after the first.
 * `root` leads from the page back to the site root. A figure whose sizes are unknown (a working copy
 * in the preview) shows its alt text and caption in place.
 */
export function placeFigures(html: string, figures: readonly Figure[] | undefined, made: ReadonlyMap<string, FigureSizes>, root: string): string {
  if (!html.includes(FIGURE_MARK)) return html;
  const parts = html.split(`${FIGURE_MARK}\n`);
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i++) {
    const figure = figures?.[i - 1];
    out += figure ? figureHtml(figure, made.get(figure.sha256), root, i === 1) : '';
    out += parts[i];
  }
  return out;
}

function figureHtml(figure: Figure, sizes: FigureSizes | undefined, root: string, first: boolean): string {
  const caption = figure.caption ? `<figcaption>${escapeHtml(figure.caption)}</figcaption>\n` : '';
  if (!sizes) return `<figure class="figure figure-pending">\n<p class="figure-alt">${escapeHtml(figure.alt)}</p>\n${caption}</figure>\n`;
  const srcset = (ext: string) => sizes.widths.map((w) => `${root}${FIGURES_DIR}/${figureFileName(figure.sha256, w, ext)} ${w}w`).join(', ');
  const fallbackExt = sizes.fallback === 'jpeg' ? 'jpg' : 'png';
  const middle = sizes.widths.find((w) => w >= 960) ?? sizes.widths.at(-1)!;
  const loading = first ? 'fetchpriority="high"' : 'loading="lazy"';
  return (
    `<figure class="figure">\n<picture>\n` +
    `<source type="image/avif" srcset="${srcset('avif')}" sizes="${SIZES}">\n` +
    `<source type="image/webp" srcset="${srcset('webp')}" sizes="${SIZES}">\n` +
    `<img src="${root}${FIGURES_DIR}/${figureFileName(figure.sha256, middle, fallbackExt)}" srcset="${srcset(fallbackExt)}" sizes="${SIZES}" ` +
    `width="${sizes.width}" height="${sizes.height}" alt="${escapeHtml(figure.alt)}" ${loading} decoding="async">\n` +
    `</picture>\n${caption}</figure>\n`
  );
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Every figure of the versions the site shows. */
export function siteFigures(docs: Iterable<{ figures?: Figure[] }>): Figure[] {
  const out: Figure[] = [];
  for (const doc of docs) out.push(...(doc.figures ?? []));
  return out;
}
