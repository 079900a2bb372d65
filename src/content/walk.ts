// Listing a folder tree. A walk of one readdir per folder: Node 20's `readdir({ recursive: true })`
// costs several times more on large trees (about 70 ms against 8 ms for ten thousand news items).
import { readdirSync } from 'node:fs';
import path from 'node:path';

export interface Entry {
  /** Path below the walked folder, with "/" separators. */
  rel: string;
  isDirectory: boolean;
  /** A symbolic link (never followed: its target's files are not listed). */
  isSymbolicLink: boolean;
}

/** Every file and folder below `dir`, parents before children; empty when `dir` does not exist. */
export function walkTree(dir: string, options: { skipHidden?: boolean } = {}): Entry[] {
  const out: Entry[] = [];
  const visit = (abs: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      if (prefix === '' && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      if (options.skipHidden && e.name.startsWith('.')) continue;
      const rel = prefix + e.name;
      const isDirectory = e.isDirectory();
      out.push({ rel, isDirectory, isSymbolicLink: e.isSymbolicLink() });
      if (isDirectory) visit(path.join(abs, e.name), `${rel}/`);
    }
  };
  visit(dir, '');
  return out;
}

/** The files below `dir` (no hidden files or folders), sorted, relative with "/" separators. */
export function listFiles(dir: string): string[] {
  return walkTree(dir, { skipHidden: true })
    .filter((e) => !e.isDirectory)
    .map((e) => e.rel)
    .sort();
}
