// The build cache as a property: after any few edits (news items edited, removed, renamed, a
// template, the configuration, a guide's working copy), a rebuild from the cache writes the same
// dist/ as a cold build of the same files, whether the edits are settled or still within the
// cache's settle window when it rebuilds, and built once more with nothing changed (then up to date).
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildSite, type BuildSummary } from '../src/site/build.ts';
import { NOW, snapshot, tempSite } from './helpers/cli.ts';

type Kind = 'score' | 'topics' | 'title' | 'remove' | 'rename' | 'template' | 'config' | 'guide';

interface Edit {
  kind: Kind;
  /** Which news item, as a position in the sorted list. */
  pick: number;
  value: number;
  /** Whether the rebuild's cache sees the edit as recent (read afresh, not kept) or settled. */
  recent: boolean;
}

const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom<Kind>('score', 'topics', 'title', 'remove', 'rename', 'template', 'config', 'guide'),
  pick: fc.nat({ max: 1000 }),
  value: fc.nat({ max: 8 }),
  recent: fc.boolean(),
});

async function newsFiles(root: string): Promise<string[]> {
  const dir = path.join(root, 'content/news');
  return (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.md')).sort().map((f) => path.join(dir, f));
}

async function replaceIn(file: string, pattern: RegExp, by: string): Promise<void> {
  await writeFile(file, (await readFile(file, 'utf8')).replace(pattern, by));
}

async function apply(root: string, e: Edit): Promise<void> {
  const files = await newsFiles(root);
  const item = files[e.pick % files.length]!;
  switch (e.kind) {
    case 'score':
      return replaceIn(item, /^score: \d+$/m, `score: ${1 + e.value}`);
    case 'topics':
      return replaceIn(item, /^topics: \[([^\]]*)\]$/m, `topics: [$1, Topic ${e.value % 3}]`);
    case 'title':
      // Items that share a title may become one story.
      return replaceIn(item, /^title: .*$/m, `title: "One story told ${e.value % 2} times"`);
    case 'remove':
      return files.length > 1 ? rm(item) : undefined;
    case 'rename':
      return rename(item, item.replace(/\.md$/, `-${e.value}.md`));
    case 'template':
      await mkdir(path.join(root, 'templates/site/partials'), { recursive: true });
      return writeFile(path.join(root, 'templates/site/partials/news-card.hbs'), `<p class="card-${e.value}">{{title}}</p>\n`);
    case 'config':
      return writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ title: `Site ${e.value}`, timezone: ['UTC', 'Asia/Kathmandu', 'America/New_York'][e.value % 3] }));
    case 'guide':
      return replaceIn(path.join(root, 'content/guides/llama-4/guide.md'), /^title: .*$/m, `title: "Llama, take ${e.value}"`);
  }
}

async function build(root: string, cache?: { clock: () => number; settleMs: number }): Promise<BuildSummary> {
  return buildSite({ root, outDir: 'dist', now: Date.parse(NOW), threads: 1, cache });
}

/** Every file that differs between two outputs. */
function differences(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => !a.get(k)?.equals(b.get(k) ?? Buffer.alloc(0)));
}

describe('build cache, as a property', () => {
  it('a rebuild after any edits writes the same dist/ as a cold build of the same files', async () => {
    const base = await tempSite({ sample: true });
    await build(base, { clock: () => Date.now() + 60_000, settleMs: 2_000 });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-cached-'));
        // The cache holds absolute paths: a copy starts with none of its entries, so each run builds once first.
        await cp(path.join(base, 'content'), path.join(root, 'content'), { recursive: true });
        await build(root, { clock: () => Date.now() + 60_000, settleMs: 2_000 });
        for (const e of edits) {
          await apply(root, e);
          // Recent: every file modified in the last minute is within the window, so the edit is read but not kept.
          await build(root, e.recent ? { clock: Date.now, settleMs: 60_000 } : { clock: () => Date.now() + 60_000, settleMs: 2_000 });
        }
        // And once more unchanged: the pages the output holds already are not written again; and once
        // more: the output, made from the same inputs and as that build left it, is up to date.
        await build(root, { clock: () => Date.now() + 60_000, settleMs: 2_000 });
        assert.equal((await build(root, { clock: () => Date.now() + 60_000, settleMs: 2_000 })).upToDate, true, `up to date after ${JSON.stringify(edits)}`);
        const cold = await mkdtemp(path.join(os.tmpdir(), 'almanac-cold-'));
        for (const part of ['content', 'templates', 'almanac.config.json']) {
          await cp(path.join(root, part), path.join(cold, part), { recursive: true }).catch(() => undefined);
        }
        await build(cold);
        const diff = differences(await snapshot(path.join(root, 'dist')), await snapshot(path.join(cold, 'dist')));
        assert.deepEqual(diff, [], `after ${JSON.stringify(edits)}`);
        await rm(root, { recursive: true });
        await rm(cold, { recursive: true });
      }),
      {
        numRuns: Number(process.env.PROPS_RUNS ?? 12),
        seed: 20261207,
        endOnFailure: true,
        // A news item's topics edited within the window: its stories and topic pages once came from the old item.
        examples: [[[{ kind: 'topics', pick: 755, value: 5, recent: true }]]],
      },
    );
  });
});
