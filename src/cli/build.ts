import path from 'node:path';
import { Option, type Command } from 'commander';
import { debugLog } from '../log/debug.ts';
import { buildSite } from '../site/build.ts';
import { globals, resolveNow } from './options.ts';
import { tuneForShortRun } from './tuning.ts';

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('render the whole site into dist/')
    .option('--out <dir>', 'output folder, relative to the root', 'dist')
    .option('--verbose', 'say why cached results were not reused')
    .addOption(new Option('--threads <n>', 'render on 1 or 2 threads (default: 2 for sites of 200 guides or more)').choices(['1', '2']))
    .action(async (opts: { out: string; threads?: string; verbose?: boolean }, cmd: Command) => {
      tuneForShortRun();
      const g = globals(cmd);
      const started = performance.now();
      const threads = opts.threads === undefined ? undefined : Number(opts.threads);
      const log = debugLog('cache', opts.verbose);
      const summary = await buildSite({ root: g.root, outDir: opts.out, now: resolveNow(g.now), threads, cache: { log } });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const shown = path.relative(process.cwd(), summary.outDir) || '.';
      process.stdout.write(
        `Built ${summary.pages} pages (${summary.files} files) from ${summary.guides} guides ` +
          `(${summary.versions} versions) and ${summary.news} news items in ${seconds} s → ${shown}/\n`,
      );
    });
}
