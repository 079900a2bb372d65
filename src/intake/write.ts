// Writing a new item file: never over an existing file (the editor's edits are theirs), never
// half-written (the text goes to a temporary file that is then linked under its name, which fails
// if the name is taken), and never outside the site folder.
import { linkSync, mkdirSync, realpathSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ContentError } from '../content/problems.ts';

/** Picks a free name in `dir` (slug.md, slug-2.md, …), skipping names in `taken`. */
export function freeName(root: string, dir: string, slug: string, taken: Set<string>): string {
  for (let n = 1; ; n++) {
    const rel = `${dir}/${n === 1 ? slug : `${slug}-${n}`}.md`;
    if (!taken.has(rel) && !existsSync(path.join(root, rel))) return rel;
  }
}

/**
 * Writes `text` as the new file `rel`; false if a file of that name appeared meanwhile. `checked`
 * holds the folders already made and found inside the root during this run.
 */
export function writeNewFile(root: string, rel: string, text: string, checked = new Set<string>()): boolean {
  const file = path.join(root, rel);
  const dir = path.dirname(file);
  if (!checked.has(dir)) {
    mkdirSync(dir, { recursive: true });
    const real = realpathSync(dir);
    const realRoot = realpathSync(root);
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
      throw new ContentError([{ file: path.dirname(rel), expected: 'a folder inside the site folder', found: `a link to ${real}` }]);
    }
    checked.add(dir);
  }
  const temporary = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  writeFileSync(temporary, text, { flag: 'w' });
  try {
    linkSync(temporary, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create still never overwrites.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
      try {
        writeFileSync(file, text, { flag: 'wx' });
        return true;
      } catch (again) {
        if ((again as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw again;
      }
    }
    throw err;
  } finally {
    unlinkSync(temporary);
  }
}
