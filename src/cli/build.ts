import path from 'node:path';
import type { Command } from 'commander';
import { buildSite } from '../site/build.ts';
import { globals, resolveNow } from './options.ts';

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('render the whole site into dist/')
    .option('--out <dir>', 'output folder, relative to the root', 'dist')
    .action(async (opts: { out: string }, cmd: Command) => {
      const g = globals(cmd);
      const started = performance.now();
      const summary = await buildSite({ root: g.root, outDir: opts.out, now: resolveNow(g.now) });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const shown = path.relative(process.cwd(), summary.outDir) || '.';
      process.stdout.write(
        `Built ${summary.pages} pages (${summary.files} files) from ${summary.guides} guides ` +
          `(${summary.versions} versions) and ${summary.news} news items in ${seconds} s → ${shown}/\n`,
      );
    });
}
