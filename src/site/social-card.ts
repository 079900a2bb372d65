// The picture a link to a guide shows when it is shared, for a guide without a figure of its own:
// 1200 × 630 px with the guide's level and title, drawn as SVG and rasterised by sharp (no browser).
// `guide publish` draws it once and freezes it with the version it shows, so a build only copies it;
// a build draws (and caches) only the card of a version published without one. It shows nothing but
// what the version freezes: the site's name belongs to the configuration, which a frozen file could
// not follow. The title is text from content: it is escaped for XML and wrapped by words into at
// most four lines, the last cut with an ellipsis.
import { createHash } from 'node:crypto';
import { FigureStore } from '../cache/figure-store.ts';
import type { GuideFrontMatter } from '../content/guide-schema.ts';
import type { DebugLog } from '../log/debug.ts';
import { guideKicker } from '../words/labels.ts';

export const CARD_WIDTH = 1200;
export const CARD_HEIGHT = 630;
export const CARDS_DIR = 'social';
/** Bumped whenever the drawing changes, so that cards kept in the store are drawn again. */
const RECIPE = 2;

export interface CardText {
  title: string;
  /** "Guide · Beginner". */
  kicker: string;
}

const TITLE_SIZE = 64;
const MAX_LINES = 4;
/** Characters of the title per line: a bold serif averages up to about 0.62 em a character. */
const LINE_CHARS = Math.floor((CARD_WIDTH - 160) / (TITLE_SIZE * 0.62));

/** The card as an SVG document. */
export function cardSvg(text: CardText): string {
  const lines = wrapTitle(text.title, LINE_CHARS, MAX_LINES);
  const top = 250;
  const tspans = lines.map((line, i) => `<tspan x="80" y="${top + i * TITLE_SIZE * 1.2}">${escapeXml(line)}</tspan>`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CARD_WIDTH}" height="${CARD_HEIGHT}" viewBox="0 0 ${CARD_WIDTH} ${CARD_HEIGHT}">` +
    `<rect width="100%" height="100%" fill="#f7f5f0"/>` +
    `<rect x="0" y="0" width="24" height="${CARD_HEIGHT}" fill="#b4452c"/>` +
    `<text x="80" y="130" font-family="sans-serif" font-size="34" font-weight="bold" fill="#b4452c">${escapeXml(text.kicker)}</text>` +
    `<text font-family="serif" font-size="${TITLE_SIZE}" font-weight="bold" fill="#1d1b18">${tspans}</text>` +
    `</svg>`
  );
}

/** The title in lines of at most `width` characters (a longer word is cut), at most `max` lines. */
export function wrapTitle(title: string, width: number, max: number): string[] {
  const words = title.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const chars = [...word];
    const piece = chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : word;
    if (line && [...`${line} ${piece}`].length > width) {
      lines.push(line);
      line = piece;
    } else {
      line = line ? `${line} ${piece}` : piece;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= max) return lines;
  const kept = lines.slice(0, max);
  kept[max - 1] = `${cut(kept[max - 1]!, width - 1)}…`;
  return kept;
}

function cut(text: string, chars: number): string {
  const all = [...text];
  return all.length <= chars ? text : `${all.slice(0, chars - 1).join('')}…`;
}

/**
 * Text as XML character data and attribute values: the five markup characters escaped, and what XML
 * 1.0 cannot hold at all (most control characters, lone surrogates, U+FFFE/U+FFFF) left out.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** What a version's card shows: its level and its title. */
export function cardText(front: Pick<GuideFrontMatter, 'title' | 'level'>): CardText {
  return { title: front.title, kicker: guideKicker(front.level) };
}

type Sharp = typeof import('sharp').default;
let loaded: Promise<Sharp> | undefined;
function loadSharp(): Promise<Sharp> {
  return (loaded ??= import('sharp').then((m) => m.default));
}

/** The card as PNG bytes: what `guide publish` freezes, and what a build draws for a version without one. */
export async function drawCard(text: CardText): Promise<Buffer> {
  const sharp = await loadSharp();
  // Zlib level 6: level 9 or a palette costs five to ten times the time for a smaller file.
  return sharp(Buffer.from(cardSvg(text))).png({ compressionLevel: 6 }).toBuffer();
}

/** The card's file below dist/ for a card drawn at build: named after what it shows, so that a changed title is a new file. */
export function cardFile(text: CardText): string {
  const hash = cardHash(text);
  return `${CARDS_DIR}/${hash.slice(0, 16)}.png`;
}

/** A frozen card's file below dist/: named after its bytes' SHA-256, as versions.json records it. */
export function frozenCardFile(sha256: string): string {
  return `${CARDS_DIR}/${sha256.slice(0, 16)}.png`;
}

function cardHash(text: CardText): string {
  return createHash('sha256').update(JSON.stringify([RECIPE, text.title, text.kicker])).digest('hex');
}

/** Draws (or finds in the store) every card; returns the files below dist/ and how many were drawn. */
export async function makeCards(root: string, cards: readonly CardText[], log?: DebugLog, write = true): Promise<{ files: Map<string, Buffer>; drawn: number }> {
  const files = new Map<string, Buffer>();
  let drawn = 0;
  // A command that writes nothing needs only the cards' names, which come from their text.
  if (!write) return { files, drawn };
  if (cards.length === 0) {
    log?.('0 of 0 social cards drawn, 0 reused');
    return { files, drawn };
  }
  const sharp = await loadSharp();
  const store = new FigureStore(root, `card:${RECIPE}:${sharp.versions.sharp}:${sharp.versions.vips}`);
  const todo: { file: string; key: string; text: CardText }[] = [];
  for (const text of cards) {
    const file = cardFile(text);
    if (files.has(file) || todo.some((t) => t.file === file)) continue;
    const key = `card-${cardHash(text)}`;
    const kept = store.get<null>(key)?.files.get('card.png');
    if (kept) files.set(file, kept);
    else todo.push({ file, key, text });
  }
  // All handed to sharp at once: it draws them on libuv's threads, so they go on being drawn while
  // this thread is busy rendering pages (see site/build.ts).
  const drawOne = async ({ file, key, text }: (typeof todo)[number]) => {
    const png = await drawCard(text);
    store.put(key, null, new Map([['card.png', png]]));
    return [file, png] as const;
  };
  for (const [file, png] of await Promise.all(todo.map(drawOne))) files.set(file, png);
  drawn = todo.length;
  // In the order of the guides, whatever order they were drawn in.
  const ordered = new Map([...cards].map((text) => cardFile(text)).filter((f, i, all) => all.indexOf(f) === i).map((f) => [f, files.get(f)!]));
  log?.(`${drawn} of ${ordered.size} social cards drawn, ${ordered.size - drawn} reused`);
  return { files: ordered, drawn };
}
