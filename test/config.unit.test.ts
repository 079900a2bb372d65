// almanac.config.json: every key optional, an edition's keys included.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readConfig } from '../src/content/config-file.ts';
import { EDITION_DEFAULTS, MAX_ITEMS_DEFAULT } from '../src/content/config-schema.ts';
import { GOOD_GUIDE, NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const CRONS = ['0 7 * * 3', '30 6 * * 3', '0 8 * * 0', '15 9 1 * *', '*/30 * * * *'];

/** An edition with any subset of its keys. */
const edition = fc.record(
  {
    // Labels are trimmed on loading: these are as a writer would leave them.
    label: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s.length > 0),
    cron: fc.constantFrom(...CRONS),
    maxItems: fc.integer({ min: 1, max: 100 }),
  },
  { requiredKeys: [] },
);

const editions = fc.record({ midweek: fc.oneof(edition, fc.constant(false as const)), sunday: fc.oneof(edition, fc.constant(false as const)) }, { requiredKeys: [] });

describe('configuration: editions', () => {
  it('loads any partial midweek or sunday, each missing key falling back to its default; both are there unless turned off', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    await fc.assert(
      fc.asyncProperty(editions, async ({ midweek, sunday }) => {
        const given: Record<string, object | false> = {};
        if (midweek !== undefined) given.midweek = midweek;
        if (sunday !== undefined) given.sunday = sunday;
        await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify(Object.keys(given).length > 0 ? { editions: given } : {}));
        const { config, problems } = await readConfig(root);
        const expected = ['midweek', 'sunday'].filter((name) => given[name] !== false);
        if (expected.length === 0) {
          assert.deepEqual(problems.map((p) => p.field), ['editions']);
          return;
        }
        assert.deepEqual(problems, []);
        assert.deepEqual(Object.keys(config.editions), expected);
        for (const name of expected as (keyof typeof EDITION_DEFAULTS)[]) {
          const own = (given[name] ?? {}) as Partial<Record<string, unknown>>;
          assert.deepEqual(config.editions[name], { ...EDITION_DEFAULTS[name], ...own });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('takes an edition of any slug name with its own cron, labelled with its name unless it says otherwise', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    await writeFile(
      path.join(root, 'almanac.config.json'),
      JSON.stringify({ editions: { midweek: {}, sunday: { maxItems: 9 }, monthly: { cron: '0 9 1 * *' }, 'ai-weekly-2': { cron: '0 6 * * 5', label: 'AI Weekly', maxItems: 5 } } }),
    );
    const { config, problems } = await readConfig(root);
    assert.deepEqual(problems, []);
    assert.deepEqual(config.editions, {
      midweek: EDITION_DEFAULTS.midweek,
      sunday: { ...EDITION_DEFAULTS.sunday, maxItems: 9 },
      monthly: { label: 'Monthly', cron: '0 9 1 * *', maxItems: MAX_ITEMS_DEFAULT },
      'ai-weekly-2': { label: 'AI Weekly', cron: '0 6 * * 5', maxItems: 5 },
    });
  });

  it('builds a site whose edition sets only a cron, as the README allows', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/guides/good/guide.md': GOOD_GUIDE,
      'almanac.config.json': JSON.stringify({ editions: { midweek: { cron: '30 6 * * 3' } } }),
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    const list = await almanac(['schedule', '--list', '--root', root, '--now', NOW]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Midweek/);
    assert.match(list.stdout, /06:30/, 'at the time the config gives');
  });

  it('refuses an edition name that is not a short lower-case slug (it goes into file names, ids and URLs), beside other problems', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    for (const name of ['toString', 'Big News', 'Monthly', '1st', 'a_b', 'x'.repeat(16), '-monthly', 'mónthly', '']) {
      await writeFile(path.join(root, 'almanac.config.json'), `{"editions": {${JSON.stringify(name)}: {"cron": "0 9 1 * *"}, "midweek": {"maxItems": 0}}}`);
      const { problems } = await readConfig(root);
      assert.deepEqual(problems.map((p) => p.field).sort(), [`editions.${name}`, 'editions.midweek.maxItems'].sort(), name);
      const bad = problems.find((p) => p.field === `editions.${name}`)!;
      assert.match(bad.expected, /lower-case letters, digits and hyphens/);
      assert.equal(bad.found, `the name ${JSON.stringify(name)}`);
    }
    // JSON's "__proto__" is dropped by the schema: never an edition.
    await writeFile(path.join(root, 'almanac.config.json'), '{"editions": {"__proto__": {"cron": "0 9 1 * *"}, "midweek": {}}}');
    assert.deepEqual(Object.keys((await readConfig(root)).config.editions), ['midweek', 'sunday']);
    for (const name of ['constructor', 'a', 'x'.repeat(15), 'weekly-2']) {
      await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { [name]: { cron: '0 9 1 * *' }, midweek: false, sunday: false } }));
      const { config, problems } = await readConfig(root);
      assert.deepEqual(problems, [], name);
      assert.deepEqual(Object.keys(config.editions), [name]);
    }
  });

  it('refuses an edition of a new name without a cron, naming the file and the field, and a site with every edition turned off', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { midweek: {}, monthly: { label: 'Monthly' } } }));
    const { problems } = await readConfig(root);
    assert.deepEqual(
      problems.map((p) => [p.file, p.field, p.found]),
      [['almanac.config.json', 'editions.monthly.cron', 'nothing']],
    );
    assert.match(problems[0]!.expected, /a cron expression for when monthly goes out/);
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: {} }));
    assert.deepEqual(Object.keys((await readConfig(root)).config.editions), ['midweek', 'sunday']);
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { midweek: false, sunday: false } }));
    assert.deepEqual((await readConfig(root)).problems.map((p) => [p.field, p.expected]), [['editions', 'at least one edition that is not turned off']]);
    // A config written for the two editions keeps both when it tunes one.
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { midweek: { cron: '30 6 * * 3' } } }));
    assert.deepEqual(Object.keys((await readConfig(root)).config.editions), ['midweek', 'sunday']);
  });

  it('refuses a leaseSeconds over a day, whose renewal timer Node would fire every millisecond', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    for (const [leaseSeconds, ok] of [[86_400, true], [10_000_000, false]] as const) {
      await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ leaseSeconds }));
      const { problems } = await readConfig(root);
      assert.deepEqual(problems.map((p) => p.field), ok ? [] : ['leaseSeconds'], String(leaseSeconds));
    }
  });

  it('refuses a cron with a field too few or a year field, which the parser would read shifted', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-config-'));
    for (const cron of ['7 * * 3', '0 0 7 * * 3 2026', '0 7 * *']) {
      await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { midweek: { cron } } }));
      const { problems } = await readConfig(root);
      assert.deepEqual(problems.map((p) => [p.field, p.found]), [['editions.midweek.cron', JSON.stringify(cron)]], cron);
    }
    for (const cron of ['0 7 * * 3', ' 30 6 * * 1-5 ', '@weekly', '0 0 7 * * 3']) {
      await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ editions: { midweek: { cron } } }));
      assert.deepEqual((await readConfig(root)).problems, [], cron);
    }
  });
});
