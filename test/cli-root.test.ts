// --root must name a site: a folder that holds content/ or almanac.config.json. Anything else is an
// error saying so, and nothing is written there.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { almanac } from './helpers/cli.ts';
import { runMain } from './helpers/main.ts';

const unrelated = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-unrelated-'));
  await writeFile(path.join(dir, 'notes.txt'), 'not a site\n');
  return dir;
};

describe('--root', () => {
  it('that does not exist is an error naming it, and is not created', async () => {
    const missing = path.join(await unrelated(), 'no-such-site');
    const run = await runMain(['build', '--root', missing]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `--root ${missing}: expected a site folder, one that holds content/ or almanac.config.json, found no such folder\n`);
    assert.ok(!existsSync(missing));
  });

  it('that holds no site is an error for every command, and nothing is written there', async () => {
    const dir = await unrelated();
    for (const args of [['build'], ['check'], ['subscribers', 'list'], ['status'], ['issue', 'build', 'midweek'], ['guide', 'versions', 'x']]) {
      const run = await runMain([...args, '--root', dir]);
      assert.equal(run.code, 1, args.join(' '));
      assert.match(run.stderr, /found a folder with neither content\/ nor almanac\.config\.json\n$/, args.join(' '));
      assert.doesNotMatch(run.stderr, /nothing was written/);
    }
    assert.deepEqual(await readdir(dir), ['notes.txt']);
  });

  it('that is a file is an error', async () => {
    const file = path.join(await unrelated(), 'notes.txt');
    const run = await runMain(['status', '--root', file]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /found a file\n$/);
  });

  it('that is empty is an error for every command, guide new included, and nothing is written in the current folder', async () => {
    const dir = await unrelated();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      for (const args of [['status'], ['build'], ['guide', 'new', 'first']]) {
        const run = await runMain([...args, '--root', '']);
        assert.equal(run.code, 1, args.join(' '));
        assert.equal(run.stderr, '--root: expected a folder, found an empty value\n', args.join(' '));
      }
    } finally {
      process.chdir(cwd);
    }
    assert.deepEqual(await readdir(dir), ['notes.txt']);
  });

  it('that holds a file named content, not a folder, is no site: nothing is built there', async () => {
    const dir = await unrelated();
    await writeFile(path.join(dir, 'content'), 'a file, not a folder\n');
    const run = await runMain(['build', '--root', dir]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /found a folder with neither content\/ nor almanac\.config\.json\n$/);
    assert.deepEqual((await readdir(dir)).sort(), ['content', 'notes.txt']);
  });

  it('may be a folder with only almanac.config.json', async () => {
    const dir = await unrelated();
    await writeFile(path.join(dir, 'almanac.config.json'), '{}');
    const run = await runMain(['schedule', '--list', '--root', dir, '--now', '2026-04-13T09:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
  });

  it('may be a site that has never sent: status reports nothing sent and leaves no database behind', async () => {
    const dir = await unrelated();
    await writeFile(path.join(dir, 'almanac.config.json'), '{}');
    const run = await runMain(['status', '--root', dir, '--now', '2026-04-13T09:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Midweek/);
    assert.deepEqual((await readdir(dir)).sort(), ['almanac.config.json', 'notes.txt']);
  });

  it('may hold no site yet for guide new, which starts one', async () => {
    const dir = await unrelated();
    const run = await runMain(['guide', 'new', 'first', '--root', dir]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(path.join(dir, 'content/guides/first/guide.md')));
  });

  it('is checked by the installed binary too: no empty site is built in an unrelated folder', async () => {
    const dir = await unrelated();
    const run = await almanac(['build', '--root', dir]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^--root .*: expected a site folder/);
    assert.deepEqual(await readdir(dir), ['notes.txt']);
  });
});
