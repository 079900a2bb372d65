// Content, templates and assets come only from inside the site folder: links that leave it, special
// files and oversized files are errors naming the file, and nothing is written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { GOOD_GUIDE, GOOD_NEWS, NOW, almanac, snapshot, tempSite, writeFiles } from './helpers/cli.ts';

const SECRET = 'files-secret-6f1c9a2e4b7d8c0f3a5e1b9d7c2f4a8e';

async function builtSite(): Promise<{ root: string; before: Map<string, Buffer> }> {
  const root = await tempSite();
  await writeFiles(root, { 'content/guides/good/guide.md': GOOD_GUIDE, 'content/news/a.md': GOOD_NEWS });
  const run = await almanac(['build', '--root', root, '--now', NOW]);
  assert.equal(run.code, 0, run.stderr);
  return { root, before: await snapshot(path.join(root, 'dist')) };
}

/** A folder outside every site, with a file in it. */
async function outside(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-outside-'));
  await writeFile(path.join(dir, 'secret.txt'), `ALMANAC_SECRET=${SECRET}\n`);
  await writeFile(path.join(dir, 'story.md'), GOOD_NEWS.replace('A Good Story', 'Smuggled Story'));
  return dir;
}

async function expectRefused(root: string, before: Map<string, Buffer>, pattern: RegExp): Promise<void> {
  const run = await almanac(['build', '--root', root, '--now', NOW], { env: { ALMANAC_SECRET: SECRET } });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(!run.stderr.includes(SECRET));
  assert.deepEqual(await snapshot(path.join(root, 'dist')), before, 'the previous output is untouched');
}

describe('files inside the site folder', () => {
  it('refuses an asset linked to /proc/self/environ: the secret never reaches dist/', async () => {
    const { root, before } = await builtSite();
    await mkdir(path.join(root, 'templates/assets'), { recursive: true });
    await symlink('/proc/self/environ', path.join(root, 'templates/assets/env.txt'));
    await expectRefused(root, before, /^templates\/assets\/env\.txt: expected a file or folder inside the site folder, found a link to \/proc\/\S+\/environ, outside it$/m);
  });

  it('refuses a news file linked to a file outside the site', async () => {
    const { root, before } = await builtSite();
    const away = await outside();
    await symlink(path.join(away, 'story.md'), path.join(root, 'content/news/linked.md'));
    await expectRefused(root, before, /^content\/news\/linked\.md: expected a file or folder inside the site folder, found a link to .*story\.md, outside it$/m);
  });

  it('refuses a linked folder of news outside the site instead of ignoring it', async () => {
    const { root, before } = await builtSite();
    const away = await outside();
    await symlink(away, path.join(root, 'content/news/week'));
    await expectRefused(root, before, /^content\/news\/week: expected a file or folder inside the site folder, found a link to .*, outside it$/m);
  });

  it('refuses a linked folder in assets that leaves the site, naming it (no bare EISDIR)', async () => {
    const { root, before } = await builtSite();
    const away = await outside();
    await mkdir(path.join(root, 'templates/assets'), { recursive: true });
    await symlink(away, path.join(root, 'templates/assets/img'));
    await expectRefused(root, before, /^templates\/assets\/img: expected a file or folder inside the site folder/m);
  });

  it('refuses a guide folder and a site template linked outside the site', async () => {
    const { root, before } = await builtSite();
    const away = await outside();
    await mkdir(path.join(away, 'g'), { recursive: true });
    await writeFile(path.join(away, 'g/guide.md'), GOOD_GUIDE);
    await symlink(path.join(away, 'g'), path.join(root, 'content/guides/elsewhere'));
    await mkdir(path.join(root, 'templates/site/partials'), { recursive: true });
    await symlink(path.join(away, 'secret.txt'), path.join(root, 'templates/site/partials/leak.hbs'));
    await expectRefused(root, before, /^content\/guides\/elsewhere: expected a file or folder inside the site folder/m);
    execFileSync('rm', [path.join(root, 'content/guides/elsewhere')]);
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^templates\/site\/partials\/leak\.hbs: expected a file or folder inside the site folder/m);
  });

  it('follows links that stay inside the site, files and folders alike', async () => {
    const { root } = await builtSite();
    await writeFiles(root, { 'shared/news/b.md': GOOD_NEWS.replace('A Good Story', 'Linked Inside').replace('/story', '/inside'), 'shared/style.css': 'body{}' });
    await symlink(path.join(root, 'shared/news'), path.join(root, 'content/news/shared'));
    await mkdir(path.join(root, 'templates/assets'), { recursive: true });
    await symlink('../../shared/style.css', path.join(root, 'templates/assets/extra.css'));
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(path.join(root, 'dist/assets/extra.css')));
    const news = (await snapshot(path.join(root, 'dist'))).get('news/index.html')?.toString() ?? '';
    assert.match(news, /Linked Inside/);
  });

  it('refuses a folder link that leads back to its parent, and a dangling link', async () => {
    const { root, before } = await builtSite();
    await symlink('..', path.join(root, 'content/news/loop'));
    await symlink('nowhere.md', path.join(root, 'content/news/dangling.md'));
    await expectRefused(root, before, /^content\/news\/loop: expected a folder that does not contain itself/m);
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.match(run.stderr, /^content\/news\/dangling\.md: expected a link to a file or folder inside the site folder, found a link to nothing$/m);
  });

  it('refuses a FIFO among the news without opening it (a read would hang)', async () => {
    const { root, before } = await builtSite();
    execFileSync('mkfifo', [path.join(root, 'content/news/pipe.md')]);
    const started = Date.now();
    await expectRefused(root, before, /^content\/news\/pipe\.md: expected a regular file or folder, found a FIFO \(named pipe\)$/m);
    assert.ok(Date.now() - started < 20_000);
  });

  it('refuses a FIFO as the configuration file and as a template', async () => {
    const { root, before } = await builtSite();
    await mkdir(path.join(root, 'templates/site/partials'), { recursive: true });
    execFileSync('mkfifo', [path.join(root, 'templates/site/partials/pipe.hbs')]);
    await expectRefused(root, before, /^templates\/site\/partials\/pipe\.hbs: expected a regular file or folder, found a FIFO/m);
    await writeFile(path.join(root, 'templates/site/partials/pipe.hbs.keep'), '');
    execFileSync('rm', [path.join(root, 'templates/site/partials/pipe.hbs')]);
    execFileSync('mkfifo', [path.join(root, 'almanac.config.json')]);
    await expectRefused(root, before, /^almanac\.config\.json: expected a regular file or folder, found a FIFO/m);
  });

  it('names the file when a guide working copy is a folder (no bare EISDIR)', async () => {
    const { root, before } = await builtSite();
    await mkdir(path.join(root, 'content/guides/odd/guide.md'), { recursive: true });
    await expectRefused(root, before, /^content\/guides\/odd\/guide\.md: expected a file, found a folder$/m);
  });

  it('refuses a news file larger than the limit before reading it', async () => {
    const { root, before } = await builtSite();
    await writeFile(path.join(root, 'content/news/huge.md'), Buffer.alloc(3 * 1024 * 1024, 'a'));
    await expectRefused(root, before, /^content\/news\/huge\.md: expected a file of at most 2\.0 MB, found one of 3\.0 MB$/m);
    // The records a build keeps beside its output aside, nothing of a build was left.
    assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.dist') && n !== '.dist.pages' && n !== '.dist.made-from'), []);
  });
});
