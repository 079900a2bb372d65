// `build --out` never replaces anything but an output of its own: not the site, its content, its
// templates, its database or someone else's folder, however the path is spelled.
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NOW, snapshot, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

/** A sample site with a built dist/, a subscriber database and a template override. */
async function builtSite(env: NodeJS.ProcessEnv = {}): Promise<string> {
  const root = await tempSite({ sample: true });
  await writeFiles(root, {
    'templates/assets/extra.css': 'body { color: black; }\n',
    'almanac.config.json': '{ "title": "Guarded" }\n',
  });
  const add = await almanac(['subscribers', 'add', 'ada@example.com', '--root', root], { env });
  assert.equal(add.code, 0, add.stderr);
  const build = await almanac(['build', '--root', root, '--now', NOW]);
  assert.equal(build.code, 0, build.stderr);
  return root;
}

async function refused(root: string, out: string, found: RegExp, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const before = await snapshot(root);
  const run = await almanac(['build', '--root', root, '--now', NOW, '--out', out], { env });
  assert.equal(run.code, 1, `--out ${out} must be refused:\n${run.stdout}${run.stderr}`);
  assert.match(run.stderr, /^--out: expected .+, found /m);
  assert.match(run.stderr, found);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(await snapshot(root), before, `--out ${out}: every file of the site and the database unchanged`);
}

describe('build --out', () => {
  it('refuses the site folder, a folder above it and every folder the site reads or stores into', async () => {
    const root = await builtSite();
    assert.ok((await snapshot(root)).has(path.join('.almanac', 'almanac.db')));
    await mkdir(path.join(root, 'node_modules'));
    await mkdir(path.join(root, '.git'));
    await writeFile(path.join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const cases: [string, RegExp][] = [
      ['.', /the site folder itself/],
      ['./', /the site folder itself/],
      ['dist/..', /the site folder itself/],
      [root, /the site folder itself/],
      ['content', /the site's content\/ folder/],
      ['content/news', /the site's content\/ folder or a folder inside it/],
      ['templates', /the site's templates\/ folder/],
      ['.almanac', /the site's \.almanac\/ folder/],
      ['node_modules', /node_modules/],
      ['.git', /\.git/],
      ['..', /contains the site folder/],
      ['/', /contains the site folder/],
    ];
    for (const [out, found] of cases) await refused(root, out, found);
  });

  it('resolves symbolic links before comparing: a link to the root is the root', async () => {
    const root = await builtSite();
    await symlink(root, path.join(root, 'public'));
    await symlink(path.join(root, 'content'), path.join(root, 'to-content'));
    // A dangling link whose target would be created inside content/.
    await symlink(path.join(root, 'content', 'site'), path.join(root, 'dangling'));
    await refused(root, 'public', /the site folder itself/);
    await refused(root, 'public/dist/..', /the site folder itself/);
    await refused(root, 'to-content', /content\//);
    await refused(root, 'dangling', /content\//);
  });

  it('refuses the folder of a database that DATABASE_URL puts elsewhere, and a folder above it', async () => {
    const elsewhere = await tempSite();
    const env = { DATABASE_URL: path.join(elsewhere, 'data', 'subscribers.db') };
    const root = await builtSite(env);
    assert.ok((await snapshot(elsewhere)).has(path.join('data', 'subscribers.db')));
    const before = await snapshot(elsewhere);
    await refused(root, path.join(elsewhere, 'data'), /subscriber database/, env);
    await refused(root, elsewhere, /subscriber database/, env);
    assert.deepEqual(await snapshot(elsewhere), before);
    // Beside the database is fine.
    const ok = await almanac(['build', '--root', root, '--now', NOW, '--out', path.join(elsewhere, 'site')], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await snapshot(path.join(elsewhere, 'data')), new Map([...before].map(([file, bytes]) => [path.relative('data', file), bytes])));
  });

  it('refuses a folder it did not write, and another site', async () => {
    const root = await builtSite();
    await writeFiles(root, {
      'src/index.ts': 'export const mine = 1;\n',
      'notes/todo.txt': 'keep me\n',
      'other-site/almanac.config.json': '{}\n',
      'other-site/content/news/a.md': 'x',
    });
    await refused(root, 'src', /almanac did not write, holding index\.ts/);
    await refused(root, 'notes', /choose a new or empty folder/);
    await refused(root, 'other-site', /its own almanac\.config\.json/);
    await writeFile(path.join(root, 'a-file'), 'not a folder\n');
    await refused(root, 'a-file', /a file, not a folder/);
    await refused(root, 'a-file/dist', /a path below a file, not a folder/);
    await refused(root, 'almanac.config.json/dist', /a path below a file, not a folder/);
  });

  it('builds into a new folder, an empty one and its own earlier output, and marks what it writes', async () => {
    const root = await tempSite({ sample: true });
    await mkdir(path.join(root, 'empty'));
    for (const out of ['fresh/site', 'empty', 'empty']) {
      const run = await almanac(['build', '--root', root, '--now', NOW, '--out', out]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok((await readdir(path.join(root, out))).includes('.almanac-output'));
    }
    // A link to an output folder builds into the folder it points at.
    await symlink(path.join(root, 'empty'), path.join(root, 'linked'));
    const linked = await almanac(['build', '--root', root, '--now', NOW, '--out', 'linked']);
    assert.equal(linked.code, 0, linked.stderr);
    assert.ok((await stat(path.join(root, 'empty', 'index.html'))).isFile());
  });

  it('takes over an output written before outputs were marked', async () => {
    const root = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(root, 'dist', '.almanac-output'));
    // Nor had such outputs a search index or page: folders the guard does not take for an output's.
    await rm(path.join(root, 'dist', 'pagefind'), { recursive: true });
    await rm(path.join(root, 'dist', 'search'), { recursive: true });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await readdir(path.join(root, 'dist'))).includes('.almanac-output'));
  });
});

describe('build --out, a folder that only looks like an output', () => {
  it('refuses a published site with its own repository and files, however much it looks like an output', async () => {
    const root = await tempSite({ sample: true });
    // A GitHub Pages checkout (or Jekyll's _site): every file an unmarked output has, and more.
    await writeFiles(root, {
      'pages/index.html': '<p>mine</p>\n',
      'pages/404.html': 'x\n',
      'pages/sitemap.xml': 'x\n',
      'pages/robots.txt': 'x\n',
      'pages/assets/site.css': 'x\n',
      'pages/.git/HEAD': 'ref: refs/heads/main\n',
      'pages/CNAME': 'example.org\n',
    });
    await refused(root, 'pages', /almanac did not write, holding \.git, CNAME/);
    assert.ok((await stat(path.join(root, 'pages', '.git', 'HEAD'))).isFile());
  });
});
