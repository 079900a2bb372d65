// Every guide of the site. A guide is a folder: its working copy, its manifest and its frozen
// versions; guide-files.ts reads one, and is loaded only for guides that are not in the build cache.
import path from 'node:path';
import { FileCache } from '../cache/file-cache.ts';
import type { Guide } from './model.ts';
import { GUIDES_DIR } from './paths.ts';
import type { Problem } from './problems.ts';
import type { RenderQueue } from './render-queue.ts';
import { walkTree } from '../files/walk.ts';

export async function listGuideSlugs(root: string): Promise<string[]> {
  // One level is enough; a linked guide folder counts when it stays inside the site (see walk.ts).
  return shallow(path.join(root, GUIDES_DIR), root)
    .filter((e) => e.isDirectory && !e.rel.startsWith('.'))
    .map((e) => e.rel)
    .sort();
}

function shallow(dir: string, root: string) {
  return walkTree(dir, { root, depth: 1 });
}

export async function loadGuides(
  root: string,
  cache = FileCache.disabled(),
  markdown?: RenderQueue,
): Promise<{ guides: Guide[]; problems: Problem[] }> {
  const slugs = await listGuideSlugs(root);
  // A guide is reused while none of the files and folders it was read from has changed.
  const keyOf = (slug: string) => path.join(root, GUIDES_DIR, slug);
  const reads = await cache.reuseOrRead(slugs, keyOf, async () => {
    const { readGuideFiles } = await import('./guide-files.ts');
    return (slug: string) => {
      const read = readGuideFiles(root, slug);
      // Published versions only: the working copy is shown by the preview alone.
      for (const v of read.value.guide?.versions ?? []) markdown?.guide(v.doc);
      return read;
    };
  }, markdown && (() => markdown.settled()));
  const guides: Guide[] = [];
  const problems: Problem[] = [];
  for (const read of reads) {
    problems.push(...read.problems);
    if (read.guide) guides.push(read.guide);
  }
  return { guides, problems };
}
