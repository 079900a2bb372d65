// The load stage: configuration, guides and news, validated together so that one run reports every problem.
// With the cache, what is unchanged since the last build is neither read again nor parsed, and the
// parsing libraries are not even loaded when nothing changed.
import path from 'node:path';
import { FileCache, type CacheOptions } from '../cache/file-cache.ts';
import { loadConfig } from './config.ts';
import { loadGuides } from './guides.ts';
import { loadNews } from './news.ts';
import { ProblemList } from './problems.ts';
import { RenderQueue, type MarkdownRenderer } from './render-queue.ts';
import type { Site } from './model.ts';

/**
 * How to load. Published guide documents and news summaries parsed afresh are rendered with
 * `markdown` as they are parsed; a cache keeps them rendered, so it needs `markdown` too.
 */
export type LoadOptions =
  | { cache?: false; markdown?: MarkdownRenderer }
  | {
      /**
       * Keep what was parsed from each file in .almanac/cache/ and reuse it while the file is unchanged.
       * Given an open content cache (see openContentCache), the caller saves it.
       */
      cache: true | FileCache;
      markdown: MarkdownRenderer;
    };

/** The cache of what was parsed from each content file (see LoadOptions.cache). */
export function openContentCache(rootDir: string, options?: CacheOptions): FileCache {
  return FileCache.open(path.resolve(rootDir), 'content', options);
}

export async function loadSite(rootDir: string, options: LoadOptions = {}): Promise<Site> {
  const root = path.resolve(rootDir);
  const problems = new ProblemList();
  const cache = options.cache instanceof FileCache ? options.cache : options.cache ? openContentCache(root) : FileCache.disabled();
  const { config, problems: configProblems } = await loadConfig(root, cache);
  problems.addAll(configProblems);
  const markdown = options.markdown && new RenderQueue(options.markdown);
  const [guides, news] = await Promise.all([loadGuides(root, cache, markdown), loadNews(root, config.timezone, cache, markdown)]);
  if (!(options.cache instanceof FileCache)) cache.save();
  problems.addAll(guides.problems);
  problems.addAll(news.problems);
  problems.throwIfAny();
  return { root, config, guides: guides.guides, news: news.news };
}
