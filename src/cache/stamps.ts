// A file's stamp: what tells, without reading it, that it is as it was when a value was derived from
// it. The change time cannot be set by hand, so a hand edit is always seen.
import { statSync, type Stats } from 'node:fs';

/** Four numbers per file: size, modification and change times, inode; a missing file is -1, 0, 0, 0. */
export type Stamp = ArrayLike<number>;

/**
 * Identifies the current contents of `files` by size, times and inode; a missing file counts as such.
 * Undefined when one cannot be examined (permissions): then nothing is cached.
 */
export function stampOf(files: readonly string[]): { stamp: number[]; newest: number } | undefined {
  const stamp: number[] = [];
  let newest = 0;
  for (const file of files) {
    let stats: Stats | undefined;
    try {
      stats = statSync(file, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!stats) {
      stamp.push(-1, 0, 0, 0);
      continue;
    }
    stamp.push(stats.size, stats.mtimeMs, stats.ctimeMs, stats.ino);
    newest = Math.max(newest, stats.mtimeMs, stats.ctimeMs);
  }
  return { stamp, newest };
}

/**
 * The first of `files` that is not as `stamp` recorded it, or undefined when all are (compared as
 * numbers: a build checks thousands).
 */
export function changedInput(stamp: Stamp, files: readonly string[]): string | undefined {
  if (stamp.length !== files.length * 4) return files[0] ?? '(no input)';
  for (let i = 0; i < files.length; i++) {
    let stats: Stats | undefined;
    try {
      stats = statSync(files[i]!, { throwIfNoEntry: false });
    } catch {
      return files[i];
    }
    const at = i * 4;
    if (!stats) {
      if (stamp[at] !== -1) return files[i];
    } else if (stamp[at] !== stats.size || stamp[at + 1] !== stats.mtimeMs || stamp[at + 2] !== stats.ctimeMs || stamp[at + 3] !== stats.ino) {
      return files[i];
    }
  }
  return undefined;
}
