// Content files as text: UTF-8, with a leading byte order mark dropped (some Windows editors write
// one), and a file in any other encoding an error naming where it stops being UTF-8, not text that
// builds with garbled characters.
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { Problem } from './problems.ts';

export type Decoded = { text: string; problem?: undefined } | { text?: undefined; problem: Problem };

const BOM = [0xef, 0xbb, 0xbf];

/** The text of `bytes` read from `file` (as shown in messages), or the problem that it is not UTF-8. */
export function decodeText(bytes: Buffer, file: string): Decoded {
  if (!isUtf8(bytes)) return { problem: notUtf8(bytes, file) };
  const start = bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2] ? BOM.length : 0;
  return { text: bytes.toString('utf8', start) };
}

/** Reads a file below the root as text; undefined when there is no such file. */
export function readText(absolute: string, file: string): Decoded | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(absolute);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeText(bytes, file);
}

function notUtf8(bytes: Uint8Array, file: string): Problem {
  const offset = firstInvalidUtf8(bytes);
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  const shown = Array.from(bytes.subarray(offset, offset + 4), (b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
  return {
    file,
    expected: 'UTF-8 text (save the file as UTF-8)',
    found: `bytes that are not UTF-8 at byte offset ${offset} (line ${line}): ${shown}`,
  };
}

/**
 * The offset of the first byte of the first sequence that is not UTF-8, as the WHATWG decoder judges
 * it (no overlong forms, no surrogates, nothing above U+10FFFF, no sequence cut short); -1 if none.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lower = 0xa0;
      if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lower = 0x90;
      if (b === 0xf4) upper = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < lower || c > upper) return i;
      lower = 0x80;
      upper = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}
