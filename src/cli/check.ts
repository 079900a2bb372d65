import type { Command } from 'commander';
import { loadSite } from '../content/load.ts';
import { differsFromLatest } from '../content/publish.ts';
import { renderSite } from '../site/build.ts';
import { globals, resolveNow } from './options.ts';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate content, configuration and templates and render everything in memory; writes nothing')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const site = await loadSite(g.root);
      const { files, pages } = await renderSite(site, resolveNow(g.now));
      const published = site.guides.filter((guide) => guide.versions.length > 0);
      process.stdout.write(
        `No problems: ${published.length} published guides, ${site.news.length} news items, ` +
          `${pages} pages (${files.size} files) rendered.\n`,
      );
      for (const guide of site.guides) {
        if (guide.versions.length === 0) process.stdout.write(`  note: ${guide.file} is not published yet\n`);
        else if (differsFromLatest(guide)) process.stdout.write(`  note: ${guide.file} has changes not yet published\n`);
      }
    });
}
