// After an issue is stored, only the files that show issues are written into an output made from the
// same content and templates; the result is the output a whole build would make. Any other change
// (content, templates, a link in the output, an output of unknown origin) gets the whole build.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, cp, lstat, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadSite, openContentCache } from '../src/content/load.ts';
import { buildIssue } from '../src/issue/build.ts';
import { markdownHere } from '../src/render/markdown.ts';
import { updateOutput } from '../src/output/staged.ts';
import { buildSite } from '../src/site/build.ts';
import { NOW, PROJECT, snapshot, tempSite } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const now = Date.parse(NOW);
// Files copied a moment ago are not yet kept by the cache (they may change again within the tick):
// the cache is told it is a minute later, as it will be for files an editor saved earlier.
const later = () => Date.now() + 60_000;

async function site(): Promise<string> {
  const root = await tempSite({ sample: true });
  await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
  return root;
}

async function issue(root: string, edition: string, date: string, at = now): Promise<void> {
  const content = openContentCache(root, { clock: later });
  const loaded = await loadSite(root, { cache: content, markdown: markdownHere });
  try {
    await buildIssue(loaded, edition as 'sunday', date, at, { content });
  } finally {
    content.save();
  }
}

const inode = async (file: string) => (await lstat(file)).ino;

describe('the site after an issue build', () => {
  it('a site built with --out gets its issues there, with --out on the issue build, and no second output in dist/', async () => {
    const root = await site();
    const built = await almanac(['build', '--root', root, '--now', NOW, '--out', 'public']);
    assert.equal(built.code, 0, built.stderr);
    const run = await almanac(['issue', 'build', 'sunday', '--date', '2026-04-12', '--root', root, '--now', NOW, '--out', 'public', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).dir, 'public/issues/2026-04-12-sunday/');
    assert.ok(existsSync(path.join(root, 'public/issues/2026-04-12-sunday/email.html')));
    assert.match((await readFile(path.join(root, 'public/issues/index.html'), 'utf8')), /2026-04-12-sunday/);
    assert.equal(existsSync(path.join(root, 'dist')), false, 'no output in dist/');
  });

  it('writes only the files that show issues, and they are what a whole build writes', async () => {
    const root = await site();
    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    const guidePage = path.join(root, 'dist/guides/meta/index.html');
    const before = await inode(guidePage);
    await issue(root, 'sunday', '2026-04-12');
    await issue(root, 'midweek', '2026-04-15');
    // Untouched: a whole build would have swapped in the spare, whose files are others.
    assert.equal(await inode(guidePage), before);
    const updated = await snapshot(path.join(root, 'dist'));
    assert.ok(updated.has('issues/2026-04-15-midweek/index.html') && updated.has('issues/2026-04-12-sunday/email.html'));
    assert.match(updated.get('issues/index.html')!.toString(), /2026-04-15-midweek/);
    assert.match(updated.get('sitemap.xml')!.toString(), /issues\/2026-04-15-midweek\//);
    assert.match(updated.get('feeds/issues.atom')!.toString(), /2026-04-15-midweek/);

    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    const whole = await snapshot(path.join(root, 'dist'));
    assert.deepEqual([...updated.keys()].sort(), [...whole.keys()].sort());
    for (const [file, bytes] of whole) assert.ok(bytes.equals(updated.get(file)!), `${file} differs from a whole build`);

    // Built again, with the issues' summaries as the content cache kept them: the same files.
    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    const again = await snapshot(path.join(root, 'dist'));
    assert.deepEqual([...again.keys()].sort(), [...whole.keys()].sort());
    for (const [file, bytes] of whole) assert.ok(bytes.equals(again.get(file)!), `${file} differs when built again`);
  });

  it('is what a whole build with the same clock writes, when the output was built at another time', async () => {
    const root = await site();
    // Pages show ages ("3d ago") measured from the build's clock: a week later they read otherwise.
    await buildSite({ root, outDir: 'dist', now: now - 7 * 86_400_000, cache: { clock: later } });
    await issue(root, 'sunday', '2026-04-12');
    const updated = await snapshot(path.join(root, 'dist'));
    await buildSite({ root, outDir: 'whole', now, cache: { clock: later } });
    const whole = await snapshot(path.join(root, 'whole'));
    assert.deepEqual([...updated.keys()].sort(), [...whole.keys()].sort());
    for (const [file, bytes] of whole) assert.ok(bytes.equals(updated.get(file)!), `${file} differs from a whole build`);
  });

  it('composes what it writes while holding the output lock, so two issue builds cannot drop each other from the archive', async () => {
    const root = await site();
    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    let held = false;
    const written = await updateOutput(path.join(root, 'dist'), async () => {
      held = existsSync(path.join(root, '.dist.spare.lock'));
      return undefined;
    });
    assert.equal(written, undefined);
    assert.ok(held, 'the files were made before the lock was taken');
  });

  it('removes what an issue build killed while writing left in the output', async () => {
    const root = await site();
    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    await issue(root, 'sunday', '2026-04-12');
    // Killed between writing the archive's new page and renaming it into place.
    const left = path.join(root, 'dist/issues/index.html.tmp-4194301');
    await writeFile(left, '<!doctype html><title>half');
    await issue(root, 'midweek', '2026-04-15');
    assert.equal(existsSync(left), false);
    await buildSite({ root, outDir: 'whole', now, cache: { clock: later } });
    assert.deepEqual([...(await snapshot(path.join(root, 'dist'))).keys()].sort(), [...(await snapshot(path.join(root, 'whole'))).keys()].sort());
  });

  it('refuses an --out that build refuses, before storing the issue', async () => {
    const root = await site();
    await symlink(path.join(root, 'content'), path.join(root, 'linked'));
    for (const out of ['.', '..', '/', 'content', 'content/news', '.almanac', 'templates', 'linked', root]) {
      const built = await almanac(['build', '--root', root, '--now', NOW, '--out', out]);
      const run = await almanac(['issue', 'build', 'sunday', '--date', '2026-04-12', '--root', root, '--now', NOW, '--out', out]);
      assert.equal(built.code, 1, `build --out ${out}: ${built.stdout}${built.stderr}`);
      assert.equal(run.code, 1, `issue build --out ${out}: ${run.stdout}${run.stderr}`);
      assert.equal(run.stderr, built.stderr, `the same refusal for --out ${out}`);
      assert.equal(existsSync(path.join(root, '.almanac/issues/2026-04-12-sunday')), false, `no issue stored with --out ${out}`);
    }
  });

  it('stores no issue when the output is a folder a build may not write', async () => {
    const root = await site();
    await writeFile(path.join(root, 'dist'), 'not a folder');
    await assert.rejects(issue(root, 'sunday', '2026-04-12'), /dist/);
    assert.equal(existsSync(path.join(root, '.almanac/issues/2026-04-12-sunday')), false);
  });

  it('builds the whole site when content changed since the output was built', async () => {
    const root = await site();
    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    const story = path.join(root, 'content/news/2026-03/sam-3-1.md');
    await writeFile(story, (await readFile(story, 'utf8')).replace(/^title: .*$/m, 'title: "SAM, retitled after the build"'));
    await issue(root, 'sunday', '2026-04-12');
    assert.match(await readFile(path.join(root, 'dist/news/index.html'), 'utf8'), /SAM, retitled after the build/);
  });

  it('builds the whole site when a template changed since the output was built', async () => {
    const root = await site();
    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    await mkdir(path.join(root, 'templates/site/pages'), { recursive: true });
    const own = (await readFile(path.join(PROJECT, 'templates/site/pages/not-found.hbs'), 'utf8')).replace(/<h1[^>]*>/, '$&Lost, with our own words: ');
    await writeFile(path.join(root, 'templates/site/pages/not-found.hbs'), own);
    await issue(root, 'sunday', '2026-04-12');
    assert.match(await readFile(path.join(root, 'dist/404.html'), 'utf8'), /Lost, with our own words/);
  });

  it('never writes through a link in the output: the whole build replaces it', async () => {
    const root = await site();
    await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'almanac-elsewhere-'));
    await rm(path.join(root, 'dist/issues'), { recursive: true, force: true });
    await symlink(elsewhere, path.join(root, 'dist/issues'));
    await issue(root, 'sunday', '2026-04-12');
    assert.deepEqual((await snapshot(elsewhere)).size, 0);
    assert.ok((await lstat(path.join(root, 'dist/issues'))).isDirectory());
    assert.ok((await lstat(path.join(root, 'dist/issues/2026-04-12-sunday/index.html'))).isFile());
  });

  it('builds the whole site over an output that is not the one the last build recorded', async () => {
    for (const change of ['forget', 'replace'] as const) {
      const root = await site();
      await buildSite({ root, outDir: 'dist', now, cache: { clock: later } });
      const record = path.join(root, '.dist.made-from');
      assert.match(await readFile(record, 'utf8'), /\n[0-9a-f]{64}\n$/);
      if (change === 'forget') await rm(record);
      // A copy put in its place (restored from a backup, say) may hold anything.
      else await rename(path.join(root, 'dist'), path.join(root, 'dist-old')).then(() => cp(path.join(root, 'dist-old'), path.join(root, 'dist'), { recursive: true }));
      const guidePage = path.join(root, 'dist/guides/meta/index.html');
      const before = await inode(guidePage);
      await issue(root, 'sunday', '2026-04-12');
      assert.notEqual(await inode(guidePage), before, change);
      assert.ok((await lstat(record)).isFile());
    }
  });
});
