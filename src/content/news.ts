// Every news item of the site, one Markdown file each below content/news. news-item.ts reads one, and
// is loaded only for files that are not in the build cache.
import path from 'node:path';
import { FileCache } from '../cache/file-cache.ts';
import { listFiles } from '../files/walk.ts';
import type { NewsItem } from './model.ts';
import { NEWS_DIR } from './paths.ts';
import type { Problem } from './problems.ts';
import type { RenderQueue } from './render-queue.ts';

export async function loadNews(
  root: string,
  timezone: string,
  cache = FileCache.disabled(),
  markdown?: RenderQueue,
): Promise<{ news: NewsItem[]; problems: Problem[] }> {
  const dir = path.join(root, NEWS_DIR);
  const rels = listMarkdown(dir, root);
  // Joined by hand: listFiles gives clean relative paths, and path.join would normalise ten thousand again.
  const absolute = (rel: string) => `${dir}/${rel}`;
  const prefix = newsCachePrefix(root, timezone);
  const keyOf = (rel: string) => `${prefix}${rel}`;
  const reads = await cache.reuseOrRead(rels, keyOf, async () => {
    const { readNewsItem } = await import('./news-item.ts');
    return (rel: string) => {
      const read = readNewsItem(root, rel, timezone);
      if (read.item) markdown?.summary(read.item);
      return { value: read, inputs: [absolute(rel)] };
    };
  }, markdown && (() => markdown.settled()));
  const news: NewsItem[] = [];
  const problems: Problem[] = [];
  for (const read of reads) {
    if (read.item) news.push(read.item);
    else problems.push(...read.problems);
  }
  return { news, problems };
}

/**
 * What the build cache's key of every news item starts with. A news item's publication instant
 * depends on the time zone: the zone is part of its key.
 */
export function newsCachePrefix(root: string, timezone: string): string {
  return `${timezone}|${path.join(root, NEWS_DIR)}/`;
}

function listMarkdown(dir: string, root: string): string[] {
  return listFiles(dir, root).filter((n) => n.endsWith('.md'));
}
