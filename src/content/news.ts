import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DateTime } from 'luxon';
import { parseFrontMatter } from './frontmatter.ts';
import { newsSchema, validate } from './schema.ts';
import { normaliseUrl } from './url.ts';
import type { NewsItem } from './model.ts';
import type { Problem } from './problems.ts';

export const NEWS_DIR = 'content/news';

export async function loadNews(root: string, timezone: string): Promise<{ news: NewsItem[]; problems: Problem[] }> {
  const files = await listMarkdown(path.join(root, NEWS_DIR));
  const sources = await Promise.all(files.map((rel) => readFile(path.join(root, NEWS_DIR, rel), 'utf8')));
  const news: NewsItem[] = [];
  const problems: Problem[] = [];
  files.forEach((rel, i) => {
    const result = parseNewsItem(sources[i]!, rel, timezone);
    problems.push(...result.problems);
    if (result.item) news.push(result.item);
  });
  return { news, problems };
}

export function parseNewsItem(source: string, rel: string, timezone: string): { item?: NewsItem; problems: Problem[] } {
  const file = `${NEWS_DIR}/${rel}`;
  const parsed = parseFrontMatter(source, file);
  if ('problems' in parsed) return { problems: parsed.problems };
  const result = validate(newsSchema, parsed.data, file);
  if (!result.value) return { problems: result.problems };
  const front = result.value;
  const published = parsePublished(front.published, timezone);
  if (published === undefined) {
    return { problems: [{ file, field: 'published', expected: 'a real calendar date or date-time', found: JSON.stringify(front.published) }] };
  }
  const summary = parsed.body.trim();
  if (!summary) {
    return { problems: [{ file, field: '(body)', expected: 'a summary of a few sentences below the front matter', found: 'an empty body' }] };
  }
  return {
    item: {
      ...front,
      id: rel.replace(/\.md$/, '').split(path.sep).join('/'),
      file,
      published,
      storyKey: normaliseUrl(front.url),
      summary,
    },
    problems: [],
  };
}

/** A date alone means midnight in the site's time zone; a date-time without offset is read there too. */
export function parsePublished(value: string, timezone: string): number | undefined {
  const dt = DateTime.fromISO(value.replace(' ', 'T'), { zone: timezone });
  return dt.isValid ? dt.toMillis() : undefined;
}

async function listMarkdown(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir, { recursive: true });
    return names.filter((n) => n.endsWith('.md') && !n.split(path.sep).some((part) => part.startsWith('.'))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
