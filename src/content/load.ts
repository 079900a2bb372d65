// The load stage: configuration, guides and news, validated together so that one run reports every problem.
// With the cache, what is unchanged since the last build is neither read again nor parsed, and the
// parsing libraries are not even loaded when nothing changed.
import path from 'node:path';
import { FileCache, type ShareChecks } from '../cache/file-cache.ts';
import { loadConfig } from './config.ts';
import { loadGuides } from './guides.ts';
import { loadNews } from './news.ts';
import { ProblemList } from './problems.ts';
import type { Guide, NewsItem, Site } from './model.ts';

export interface LoadOptions {
  /**
   * Keep what was parsed from each file in .almanac/cache/ and reuse it while the file is unchanged.
   * Given an open content cache (see openContentCache), the caller saves it, once it has added to what
   * was loaded (rendered Markdown, say).
   */
  cache?: boolean | FileCache;
  /** Told of each news item and guide as it is parsed afresh (not reused from the cache). */
  onParsed?: { news(item: NewsItem): void; guide(guide: Guide): void };
}

/** The cache of what was parsed from each content file (see LoadOptions.cache); see FileCache.open for `shareChecks`. */
export function openContentCache(rootDir: string, shareChecks?: ShareChecks): FileCache {
  return FileCache.open(path.resolve(rootDir), 'content', shareChecks);
}

export async function loadSite(rootDir: string, options: LoadOptions = {}): Promise<Site> {
  const root = path.resolve(rootDir);
  const problems = new ProblemList();
  const cache = options.cache instanceof FileCache ? options.cache : options.cache ? openContentCache(root) : FileCache.disabled();
  const { config, problems: configProblems } = await loadConfig(root, cache);
  problems.addAll(configProblems);
  const { onParsed } = options;
  const [guides, news] = await Promise.all([
    loadGuides(root, cache, onParsed && ((guide) => onParsed.guide(guide))),
    loadNews(root, config.timezone, cache, onParsed && ((item) => onParsed.news(item))),
  ]);
  if (!(options.cache instanceof FileCache)) cache.save();
  problems.addAll(guides.problems);
  problems.addAll(news.problems);
  problems.throwIfAny();
  return { root, config, guides: guides.guides, news: news.news };
}
