// The scheduler's news fetch before it builds an issue (fetchBeforeIssue, on by default). It never
// stops an issue: a failure is logged and the issue is built from the news already there.
import { loadConfig } from '../content/config.ts';
import type { IntakeStore } from '../store/intake.ts';

export interface BeforeIssueDeps {
  root: string;
  store: IntakeStore;
  clock: () => number;
  log: (line: string) => void;
}

export function fetchBeforeIssue(d: BeforeIssueDeps): (signal?: AbortSignal) => Promise<void> {
  return async (signal) => {
    try {
      const { config, problems } = await loadConfig(d.root);
      if (problems.length > 0 || !config.fetchBeforeIssue || config.sources.length === 0) return;
      // Loaded only when there is something to fetch: the feed libraries are not needed otherwise.
      const { fetchNews } = await import('./run.ts');
      const report = await fetchNews({ root: d.root, config, now: d.clock(), store: d.store, signal });
      const failed = report.sources.filter((s) => s.status === 'failed');
      d.log(`news fetch: ${report.added.length} added, ${report.skipped.length} skipped; ${report.sources.length - failed.length} of ${report.sources.length} sources answered`);
      for (const f of failed) d.log(`news fetch: ${f.name} failed: ${f.error}`);
    } catch (err) {
      d.log(`news fetch failed (${err instanceof Error ? err.message : String(err)}); the issue is built from the news already there`);
    }
  };
}
