import type { Command } from 'commander';
import { loadConfig } from '../content/config.ts';
import { UsageError } from '../content/problems.ts';
import type { GuideDoc } from '../content/model.ts';
import { freezeMissingCards, guideVersions, newGuide, publishGuides } from '../content/publish.ts';
import { undecodedFigures } from '../site/figures.ts';
import { numericTime } from '../words/dates.ts';
import { printJson, withJson } from './json.ts';
import { startsSite } from './site-root.ts';
import { globals, resolveNow } from './options.ts';

/** What `guide versions --json` prints; versions oldest first, the last one live. */
export interface GuideVersionsReport {
  slug: string;
  title: string;
  versions: { version: number; published: string; note: string; live: boolean }[];
  unpublishedChanges: boolean;
}

export function registerGuide(program: Command): void {
  const guide = program.command('guide').description('start, publish and list guide versions');

  startsSite(guide.command('new <slug>'))
    .description('start a guide: creates content/guides/<slug>/guide.md')
    .action(async (slug: string, _opts: unknown, cmd: Command) => {
      const file = await newGuide(globals(cmd).root, slug);
      process.stdout.write(`Created ${file}\nEdit it, preview it, then run: almanac guide publish ${slug} --note "First edition"\n`);
    });

  guide
    .command('publish [slugs...]')
    .description('freeze the working copy of each guide as its next version')
    .option('--all', 'every guide whose working copy differs from its latest version')
    .requiredOption('--note <text>', 'what changed, shown in the version list')
    .action(async (slugs: string[], opts: { all?: boolean; note: string }, cmd: Command) => {
      if (opts.all && slugs.length > 0) throw new UsageError('give guide slugs or --all, not both');
      const g = globals(cmd);
      const selection = opts.all ? { all: true as const } : { slugs };
      const { published, unchanged } = await publishGuides(g.root, selection, opts.note, resolveNow(g.now), drawVersionCard, (figures) => undecodedFigures(g.root, figures));
      for (const p of published) process.stdout.write(`Published ${p.slug} v${p.version} → ${p.file}\n`);
      if (unchanged.length) process.stdout.write(`Unchanged since their latest version: ${unchanged.join(', ')}\n`);
      if (published.length === 0) process.stdout.write('Nothing to publish.\n');
    });

  guide
    .command('cards [slugs...]')
    .description('draw and freeze the social card of each published version that has neither a figure nor a card (all guides when none is named); makes no new version')
    .action(async (slugs: string[], _opts: unknown, cmd: Command) => {
      const done = await freezeMissingCards(globals(cmd).root, slugs.length > 0 ? slugs : 'all', drawVersionCard);
      for (const d of done) process.stdout.write(`Froze the card of ${d.slug} ${d.versions.map((v) => `v${v}`).join(', ')}\n`);
      if (done.length === 0) process.stdout.write('Every published version has its card (or a figure).\n');
    });

  withJson(guide.command('versions <slug>').description('list the published versions of a guide'))
    .action(async (slug: string, opts: { json?: boolean }, cmd: Command) => {
      const root = globals(cmd).root;
      const { config } = await loadConfig(root);
      const { guide: g, hasUnpublishedChanges } = await guideVersions(root, slug);
      if (opts.json) {
        const last = g.versions.at(-1);
        return printJson({
          slug: g.slug,
          title: g.working.front.title,
          versions: g.versions.map((v) => ({ version: v.version, published: new Date(v.published).toISOString(), note: v.note, live: v === last })),
          unpublishedChanges: hasUnpublishedChanges,
        } satisfies GuideVersionsReport);
      }
      process.stdout.write(`${g.working.front.title} (${g.slug})\n`);
      if (g.versions.length === 0) process.stdout.write('  not published yet\n');
      for (const v of [...g.versions].reverse()) {
        const when = numericTime(v.published, config.timezone);
        const live = v === g.versions.at(-1) ? '  live' : '';
        process.stdout.write(`  v${v.version}  ${when}${live}  ${v.note}\n`);
      }
      if (hasUnpublishedChanges && g.versions.length > 0) {
        process.stdout.write(`  guide.md has changes not yet published (almanac guide publish ${slug} --note "…")\n`);
      }
    });
}

/** A version's card as `guide publish` and `guide cards` freeze it; the drawing loads sharp, so only when asked. */
async function drawVersionCard(doc: GuideDoc): Promise<Buffer> {
  const { cardText, drawCard } = await import('../site/social-card.ts');
  return drawCard(cardText(doc.front));
}
