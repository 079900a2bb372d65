// The load stage: configuration, guides and news, validated together so that one run reports every problem.
import path from 'node:path';
import { loadConfig } from './config.ts';
import { loadGuides } from './guides.ts';
import { loadNews } from './news.ts';
import { ProblemList } from './problems.ts';
import type { Site } from './model.ts';

export async function loadSite(rootDir: string): Promise<Site> {
  const root = path.resolve(rootDir);
  const problems = new ProblemList();
  const { config, problems: configProblems } = await loadConfig(root);
  problems.addAll(configProblems);
  const [guides, news] = await Promise.all([loadGuides(root), loadNews(root, config.timezone)]);
  problems.addAll(guides.problems);
  problems.addAll(news.problems);
  problems.throwIfAny();
  return { root, config, guides: guides.guides, news: news.news };
}
