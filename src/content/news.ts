// Every news item of the site, one Markdown file each below content/news. news-item.ts reads one, and
// is loaded only for files that are not in the build cache.
import path from 'node:path';
import { FileCache } from '../cache/file-cache.ts';
import { listFiles } from '../files/walk.ts';
import type { NewsItem } from './model.ts';
import type { Problem } from './problems.ts';

export const NEWS_DIR = 'content/news';

export async function loadNews(
  root: string,
  timezone: string,
  cache = FileCache.disabled(),
  onParsed?: (item: NewsItem) => void,
): Promise<{ news: NewsItem[]; problems: Problem[] }> {
  const dir = path.join(root, NEWS_DIR);
  const rels = listMarkdown(dir, root);
  // Joined by hand: listFiles gives clean relative paths, and path.join would normalise ten thousand again.
  const absolute = (rel: string) => `${dir}/${rel}`;
  // A news item's publication instant depends on the time zone: the zone is part of its key.
  const keyOf = (rel: string) => `${timezone}|${absolute(rel)}`;
  const reads = await cache.reuseOrRead(rels, keyOf, async () => {
    const { readNewsItem } = await import('./news-item.ts');
    return (rel: string) => {
      const read = readNewsItem(root, rel, timezone);
      if (read.item) onParsed?.(read.item);
      return { value: read, inputs: [absolute(rel)] };
    };
  });
  const news: NewsItem[] = [];
  const problems: Problem[] = [];
  for (const read of reads) {
    if (read.item) news.push(read.item);
    else problems.push(...read.problems);
  }
  return { news, problems };
}

function listMarkdown(dir: string, root: string): string[] {
  return listFiles(dir, root).filter((n) => n.endsWith('.md'));
}
