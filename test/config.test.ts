// almanac.config.json: every key optional, an edition's keys included.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readConfig } from '../src/content/config-file.ts';
import { DEFAULT_MAX_ITEMS, EDITION_DEFAULTS, labelOf } from '../src/content/schema.ts';
import { GOOD_GUIDE, NOW, almanac, tempSite, writeFiles } from './helpers/cli.ts';

const CRONS = ['0 7 * * 3', '30 6 * * 3', '0 8 * * 0', '15 9 1 * *', '*/30 * * * *'];

/** An edition with any subset of its keys; `needsCron` for a name that has no default. */
const edition = (needsCron: boolean) =>
  fc.record(
    {
      // Labels are trimmed on loading: these are as a writer would leave them.
      label: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s.length > 0),
      cron: fc.constantFrom(...CRONS),
      maxItems: fc.integer({ min: 1, max: 100 }),
    },
    { requiredKeys: needsCron ? ['cron'] : [] },
  );

const editions = fc.record(
  {
    midweek: edition(false),
    sunday: edition(false),
    extra: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/).filter((n) => !Object.hasOwn(EDITION_DEFAULTS, n)), edition(true), { maxKeys: 3 }),
  },
  { requiredKeys: ['extra'] },
);

describe('configuration: editions', () => {
  it('loads any partial edition, each missing key falling back to its default', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    await fc.assert(
      fc.asyncProperty(editions, async ({ midweek, sunday, extra }) => {
        const given: Record<string, object> = { ...extra };
        if (midweek) given.midweek = midweek;
        if (sunday) given.sunday = sunday;
        await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: given }));
        const { config, problems } = await readConfig(root);
        assert.deepEqual(problems, []);
        for (const name of Object.keys(EDITION_DEFAULTS) as (keyof typeof EDITION_DEFAULTS)[]) {
          const own = (given[name] ?? {}) as Partial<Record<string, unknown>>;
          assert.deepEqual(config.editions[name], { ...EDITION_DEFAULTS[name], ...own });
        }
        for (const [name, own] of Object.entries(extra)) {
          assert.deepEqual(config.editions[name], { label: labelOf(name), maxItems: DEFAULT_MAX_ITEMS, ...own });
        }
        assert.deepEqual(Object.keys(config.editions).sort(), [...new Set(['midweek', 'sunday', ...Object.keys(extra)])].sort());
      }),
      { numRuns: 200 },
    );
  });

  it('builds a site whose edition sets only a cron, as the README allows', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/guides/good/guide.md': GOOD_GUIDE,
      'almanac.config.json': JSON.stringify({ editions: { midweek: { cron: '30 6 * * 3' }, monthly: { cron: '0 9 1 * *' } } }),
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    const list = await almanac(['schedule', '--list', '--root', root, '--now', NOW]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Midweek/);
  });

  it('takes an edition named like a property every object has ("constructor") as any other new name', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { constructor: { cron: '0 9 1 * *' } } }));
    const loaded = await readConfig(root);
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(loaded.config.editions.constructor, { label: 'Constructor', cron: '0 9 1 * *', maxItems: DEFAULT_MAX_ITEMS });
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { constructor: {} } }));
    const { problems } = await readConfig(root);
    assert.deepEqual(problems.map((p) => p.field), ['editions.constructor.cron']);
  });

  it('refuses a cron with a field too many or too few, which the parser would read with seconds first', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    for (const cron of ['0 7 * * 3 *', '0 0 7 * * 3', '7 * * 3', '0 7 * * 3 2026']) {
      await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { midweek: { cron } } }));
      const { problems } = await readConfig(root);
      assert.deepEqual(problems.map((p) => [p.field, p.found]), [['editions.midweek.cron', JSON.stringify(cron)]], cron);
    }
    for (const cron of ['0 7 * * 3', ' 30 6 * * 1-5 ', '@weekly']) {
      await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { midweek: { cron } } }));
      assert.deepEqual((await readConfig(root)).problems, [], cron);
    }
  });

  it('names a new edition from its name', () => {
    assert.equal(labelOf('monthly'), 'Monthly');
    assert.equal(labelOf('tech-digest'), 'Tech digest');
  });
});
