import path from 'node:path';
import { Option, type Command } from 'commander';
import { debugLog } from '../log/debug.ts';
import { buildSite, type BuildSummary } from '../site/build.ts';
import { printJson, withJson } from './json.ts';
import { globals, resolveNow } from './options.ts';
import { tuneForShortRun } from './tuning.ts';

/** What `build --json` prints: the counts, the output folder (absolute) and the wall time. */
export type BuildReport = BuildSummary & { seconds: number };

export function registerBuild(program: Command): void {
  withJson(
    program
      .command('build')
      .description('render the whole site into dist/')
      .option('--out <dir>', 'output folder, relative to the root', 'dist')
      .option('--verbose', 'say why cached results were not reused')
      .option('--force', 'build even when nothing changed since the last build')
      .addOption(new Option('--threads <n>', 'render on 1 or 2 threads (default: 2 for sites of 200 guides or more)').choices(['1', '2'])),
  ).action(async (opts: { out: string; threads?: string; json?: boolean; verbose?: boolean; force?: boolean }, cmd: Command) => {
    tuneForShortRun();
    const g = globals(cmd);
    const started = performance.now();
    const threads = opts.threads === undefined ? undefined : Number(opts.threads);
    const log = debugLog('cache', opts.verbose);
    const summary = await buildSite({ root: g.root, outDir: opts.out, now: resolveNow(g.now), threads, cache: { log }, force: opts.force });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    if (opts.json) return printJson({ ...summary, seconds: Number(seconds) } satisfies BuildReport);
    const shown = path.relative(process.cwd(), summary.outDir) || '.';
    const counts = `${summary.pages} pages (${summary.files} files) from ${summary.guides} guides (${summary.versions} versions) and ${summary.news} news items`;
    process.stdout.write(
      summary.upToDate
        ? `Up to date: nothing changed since the last build, ${shown}/ holds its ${counts} as written (checked in ${seconds} s)\n`
        : `Built ${counts} in ${seconds} s → ${shown}/\n`,
    );
    const { search } = summary;
    if (search) {
      const shards = `${search.shards} ${search.shards === 1 ? 'shard' : 'shards'}`;
      const count = (n: number) => n.toLocaleString('en-US');
      process.stdout.write(
        search.reused
          ? `Search index of ${count(search.records)} guides and stories unchanged (${shards}), reused → ${shown}/pagefind/\n`
          : search.indexed.length === 0
            ? `Search index of ${count(search.records)} guides and stories: no shard changed, the words index of ${shards} made again ` +
              `in ${search.seconds.toFixed(1)} s → ${shown}/pagefind/\n`
            : `Indexed ${count(search.indexedRecords)} records in ${search.indexed.length} of ${shards} (${search.indexed.join(', ')}) ` +
              `in ${search.seconds.toFixed(1)} s → ${shown}/pagefind/\n`,
      );
    }
  });
}
