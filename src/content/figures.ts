// A guide's figures: image files in the guide's folder, each referenced from its Markdown as an image
// alone in its paragraph, `![alt text](file.png "optional caption")`. Found with the same Markdown
// parser that renders the guide, so what counts as an image here is exactly what becomes one on the
// page. Every reference is checked: alt text present, a path that stays inside the guide's folder
// (no "..", no absolute path, no link out), a file that exists and is a raster image.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type MarkdownIt from 'markdown-it';
import { ContentError, type Problem } from './problems.ts';
import { VERSIONS_DIR } from './paths.ts';
import { MAX_ASSET_BYTES, readInsideRoot } from '../files/walk.ts';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'avif';

export interface Figure {
  /** The path as written in the Markdown, relative to the document's folder, e.g. "lineage.png". */
  src: string;
  /** The file read, relative to the site root. */
  file: string;
  alt: string;
  /** The image's title, shown as its caption. */
  caption?: string;
  /** SHA-256 of the file's bytes: what versions record and what processed sizes are named after. */
  sha256: string;
  format: ImageFormat;
}

/** An image reference as written: where it is and what it says. */
export interface ImageRef {
  line: number;
  src: string;
  alt: string;
  caption?: string;
  /** Whether it stands alone in its paragraph (only those are figures). */
  alone: boolean;
  /** False for an address the renderer refuses to link (javascript:, file:, data:), which it leaves as text. */
  rendered: boolean;
}

const loadPackage = createRequire(import.meta.url);
let parser: MarkdownIt | undefined;
let rendersLink: (url: string) => boolean = () => true;

/** The images of a Markdown body, in order; `lineOffset` is the number of lines before the body in its file. */
export function findImages(body: string, lineOffset: number): ImageRef[] {
  // Most guides have no image: they are not parsed twice.
  if (!body.includes('![')) return [];
  // The guide renderer's settings (render/markdown.ts), so that both see the same images.
  if (!parser) {
    parser = new (loadPackage('markdown-it') as typeof MarkdownIt)({ html: true, linkify: true, typographer: true });
    // The renderer leaves an image of a javascript:, file: or data: address as text; here it is an
    // image, so that it is reported (as a link) instead of left on the page unnoticed.
    rendersLink = parser.validateLink.bind(parser);
    parser.validateLink = () => true;
  }
  const tokens = parser.parse(body, {});
  const lines = body.split('\n');
  const refs: ImageRef[] = [];
  tokens.forEach((token, i) => {
    if (token.type !== 'inline' || !token.children) return;
    const images = token.children.filter((c) => c.type === 'image');
    if (images.length === 0) return;
    const meaningful = token.children.filter((c) => !(c.type === 'text' && c.content.trim() === '') && c.type !== 'softbreak');
    const inParagraph = tokens[i - 1]?.type === 'paragraph_open' && tokens[i - 1]?.level === 0;
    const alone = inParagraph && meaningful.length === 1;
    const [start, end] = token.map ?? [0, 0];
    let searchFrom = start;
    for (const image of images) {
      // The line of the n-th "![" of the block: markdown-it maps blocks, not inline tokens.
      let line = searchFrom;
      while (line < Math.max(end, start + 1) - 1 && !(lines[line] ?? '').includes('![')) line++;
      searchFrom = line + 1;
      const title = image.attrGet('title');
      refs.push({
        line: lineOffset + line + 1,
        src: decodeSrc(image.attrGet('src') ?? ''),
        // A line break in the alt text is a space between its words, as the page's alt attribute reads it.
        alt: image.children?.map((c) => (c.type === 'softbreak' || c.type === 'hardbreak' ? ' ' : c.content)).join('') ?? image.content,
        // A blank title would be an empty <figcaption>: no caption.
        caption: title?.trim() ? title : undefined,
        alone,
        rendered: rendersLink(image.attrGet('src') ?? ''),
      });
    }
  });
  return refs;
}

function decodeSrc(src: string): string {
  try {
    return decodeURI(src);
  } catch {
    return src;
  }
}

/** The number of lines before `body` in `source` (the front matter's). */
export function linesBefore(source: string, body: string): number {
  if (!source.endsWith(body)) return 0;
  const head = source.slice(0, source.length - body.length);
  return head.split('\n').length - 1;
}

/**
 * Checks a document's images and reads each file. `docFile` is the Markdown file (for messages),
 * `guideDir` the guide's folder and `baseDir` the folder its paths are relative to (the guide's
 * folder for the working copy, `versions/vN/` for a frozen version), both relative to `root`.
 * `read` notes every file and folder looked at, for the build cache.
 */
export function resolveFigures(
  root: string,
  refs: readonly ImageRef[],
  where: { docFile: string; guideDir: string; baseDir: string; frozen: boolean },
  read: (abs: string) => void,
): { figures: Figure[]; problems: Problem[] } {
  const figures: Figure[] = [];
  const problems: Problem[] = [];
  for (const ref of refs) {
    // A version frozen before such images were reported shows them as the text they were.
    if (where.frozen && !ref.rendered) continue;
    const at = `${where.docFile}:${ref.line}`;
    const field = `image ${JSON.stringify(ref.src)}`;
    if (ref.alt.trim() === '') {
      problems.push({ file: at, field, expected: 'alt text saying what the image shows, as in ![A diagram of …](file.png)', found: 'no alt text' });
      continue;
    }
    if (!ref.alone) {
      problems.push({ file: at, field, expected: 'an image alone in its own paragraph (a figure), with blank lines around it', found: 'an image inside other text' });
      continue;
    }
    const rel = insidePath(ref.src);
    if (typeof rel !== 'string') {
      problems.push({ file: at, field, expected: 'the name of an image file in the guide\'s folder, e.g. "diagram.png"', found: rel.found });
      continue;
    }
    if (!where.frozen && (rel === VERSIONS_DIR || rel.startsWith(`${VERSIONS_DIR}/`))) {
      problems.push({ file: at, field, expected: `an image outside ${VERSIONS_DIR}/ (frozen copies are kept there)`, found: ref.src });
      continue;
    }
    const file = `${where.baseDir}/${rel}`;
    const abs = path.join(root, file);
    read(path.dirname(abs));
    read(abs);
    const loaded = readImage(root, file, where.guideDir);
    if ('found' in loaded) {
      problems.push({ file: at, field, expected: 'an image file (PNG, JPEG, WebP, GIF or AVIF) in the guide\'s folder', found: loaded.found });
      continue;
    }
    figures.push({ src: rel, file, alt: ref.alt, caption: ref.caption, sha256: loaded.sha256, format: loaded.format });
  }
  return { figures, problems };
}

/** `src` as a path below the document's folder, or what is wrong with it. */
export function insidePath(src: string): string | { found: string } {
  if (src.trim() === '') return { found: 'an empty path' };
  if (/^[a-z][a-z0-9+.-]*:/i.test(src) || src.startsWith('//')) return { found: `a link, ${JSON.stringify(src)}` };
  if (src.startsWith('/') || src.includes('\\') || /^[a-z]:/i.test(src)) return { found: `an absolute path, ${JSON.stringify(src)}` };
  if (/[?#]/.test(src) || src.includes('\0')) return { found: `a path with "?" or "#", ${JSON.stringify(src)}` };
  const parts = src.split('/');
  if (parts.includes('..')) return { found: `a path that leaves the guide's folder, ${JSON.stringify(src)}` };
  const normal = path.posix.normalize(src);
  if (normal === '.' || normal.endsWith('/')) return { found: `a folder, ${JSON.stringify(src)}` };
  return normal.replace(/^\.\//, '');
}

function readImage(root: string, file: string, guideDir: string): { sha256: string; format: ImageFormat } | { found: string } {
  let bytes: Buffer | undefined;
  try {
    bytes = readInsideRoot(root, file, MAX_ASSET_BYTES);
  } catch (err) {
    if (err instanceof ContentError) return { found: err.problems.map((p) => `${p.file}: ${p.found}`).join('; ') };
    throw err;
  }
  if (bytes === undefined) return { found: `no such file ${file}` };
  // A link inside the site but out of the guide's folder would not be frozen with its versions.
  const real = realpathSync(path.join(root, file));
  const realDir = realpathSync(path.join(root, guideDir));
  if (!real.startsWith(realDir + path.sep)) return { found: `${file}, a link to a file outside the guide's folder` };
  const format = imageFormat(bytes);
  if (!format) return { found: `${file}, which is not a PNG, JPEG, WebP, GIF or AVIF image` };
  return { sha256: createHash('sha256').update(bytes).digest('hex'), format };
}

/** The format a file's first bytes announce; SVG (which can hold scripts) is not accepted. */
export function imageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(1, 4) === 'PNG' && bytes[4] === 0x0d && bytes[5] === 0x0a) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(8, 12))) return 'avif';
  return undefined;
}

/** Each figure's path and hash, as versions.json records them, to compare a working copy's images with a version's. */
export function figureHashes(figures: readonly Figure[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of figures ?? []) out[f.src] = f.sha256;
  return out;
}
