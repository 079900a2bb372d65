// A build from the same inputs as the one that made the output, which finds the output exactly as
// that build left it, writes nothing. Whatever was done to the output in between (a hand edit that
// kept size and times, a file removed or added, a link or a pipe in place of a file or folder, an empty
// folder, a damaged record), and whatever input changed (content, a template, an asset, a stored
// issue, a copied file, the indexer), the build is a real one and the output is what a cold build writes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { appendFile, chmod, copyFile, cp, link, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { StagedOutput } from '../src/output/staged.ts';
import { WrittenPages } from '../src/output/written-pages.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { TwoThreadRenderer } from '../src/site/render-helper.ts';
import { buildSite, type BuildSummary } from '../src/site/build.ts';
import type { SearchIndexer } from '../src/site/search-index.ts';
import { frozenClock } from './helpers/frozen-clock.ts';
import { NOW, PROJECT, snapshot, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const execFileAsync = promisify(execFile);
const now = Date.parse(NOW);
// Files copied a moment ago are not yet kept by the content cache: it is told it is a minute later.
const later = () => Date.now() + 60_000;

/** An indexer that makes a small index of its own, so that these builds need no Pagefind. */
function indexer(name = 'test-indexer'): SearchIndexer {
  return { name, index: async (records) => new Map([['index.json', Buffer.from(JSON.stringify(records.map((r) => r.url)))]]) };
}

function build(root: string, options: { threads?: number; now?: number; searchIndexer?: SearchIndexer; force?: boolean } = {}): Promise<BuildSummary> {
  const { threads = 1, now: at = now, searchIndexer = indexer(), force } = options;
  return buildSite({ root, outDir: 'dist', now: at, threads, cache: { clock: later }, searchIndexer, force });
}

/** What a cold build of the same site writes: its inputs copied to a new folder, built once there. */
async function coldOutput(root: string, options: { now?: number; searchIndexer?: SearchIndexer } = {}): Promise<Map<string, Buffer>> {
  const cold = await mkdtemp(path.join(os.tmpdir(), 'almanac-cold-'));
  for (const part of ['content', 'templates', 'almanac.config.json', '.almanac/issues']) {
    await cp(path.join(root, part), path.join(cold, part), { recursive: true }).catch(() => undefined);
  }
  await build(cold, options);
  const out = await snapshot(path.join(cold, 'dist'));
  await rm(cold, { recursive: true, force: true });
  return out;
}

/** Every entry below `dir` with its inode and change time: what a build that writes nothing leaves as it was. */
async function stamps(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>([['.', stampOf(await stat(dir, { bigint: true }))]]);
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(d.parentPath, d.name);
    out.set(path.relative(dir, full), stampOf(await stat(full, { bigint: true })));
  }
  return out;
}

function stampOf(s: { ino: bigint; ctimeNs: bigint; mtimeNs: bigint }): string {
  return `${s.ino}:${s.ctimeNs}:${s.mtimeNs}`;
}

/** The permission bits of every file and folder below `dir`, and of `dir` itself ('.'). */
async function modes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>([['.', (await stat(dir)).mode & 0o7777]]);
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(d.parentPath, d.name);
    out.set(path.relative(dir, full), (await stat(full)).mode & 0o7777);
  }
  return out;
}

function assertSameFiles(found: Map<string, Buffer>, wanted: Map<string, Buffer>, label: string): void {
  assert.deepEqual([...found.keys()].sort(), [...wanted.keys()].sort(), `${label}: the same files`);
  for (const [file, bytes] of wanted) assert.ok(bytes.equals(found.get(file)!), `${label}: ${file} is as a cold build writes it`);
}

/**
 * Changes the byte of `file` at `at` (from the end when negative), then puts its times back to the
 * nanosecond: the same size, the same times, only the change time tells.
 */
async function flipByteKeepingTimes(file: string, at: number): Promise<void> {
  const times = `${file}.times`;
  await writeFile(times, '');
  await execFileAsync('touch', ['-r', file, times]);
  const bytes = await readFile(file);
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = bytes[i]! ^ 0xff;
  await writeFile(file, bytes);
  await execFileAsync('touch', ['-r', times, file]);
  await rm(times);
}

/** A sample site built twice (the second time forced), so that it has an output and a spare. */
async function builtSite(threads = 1): Promise<string> {
  const root = await tempSite({ sample: true });
  await build(root, { threads });
  await build(root, { threads, force: true });
  return root;
}

describe('a build with nothing to do', () => {
  it('writes nothing when nothing changed since the build that made the output, and says so, on one thread and on two', async () => {
    for (const threads of [1, 2]) {
      const root = await builtSite(threads);
      const before = { dist: await stamps(path.join(root, 'dist')), spare: await stamps(path.join(root, '.dist.spare')) };
      const record = await stat(path.join(root, '.dist.pages'), { bigint: true });
      const summary = await build(root, { threads });
      assert.equal(summary.upToDate, true, 'the output is up to date');
      assert.ok(summary.pages > 20 && summary.files > summary.pages, `its counts are those of the output (${summary.pages} pages, ${summary.files} files)`);
      assert.equal(summary.search?.reused, true);
      assert.deepEqual(await stamps(path.join(root, 'dist')), before.dist, 'no file or folder of the output was written, moved or replaced');
      assert.deepEqual(await stamps(path.join(root, '.dist.spare')), before.spare, 'nor of its spare');
      assert.equal(stampOf(await stat(path.join(root, '.dist.pages'), { bigint: true })), stampOf(record), 'nor the record');
      assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root), `${threads} thread(s)`);
      // Forced, it builds all the same (into the spare) and writes the same output.
      const forced = await build(root, { threads, force: true });
      assert.equal(forced.upToDate, false);
      assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root), `${threads} thread(s), forced`);
    }
  });

  it('does not depend on the clock: a build at another time is up to date, and writes what a cold build at that time writes', async () => {
    const root = await builtSite();
    const other = Date.parse('2031-01-15T23:30:00Z');
    assert.equal((await build(root, { now: other })).upToDate, true);
    assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root, { now: other }), 'another clock');
  });

  it('builds again, to what a cold build writes, whatever was done to the output', async () => {
    type Tamper = 'edit' | 'remove' | 'stray' | 'folder' | 'link-file' | 'link-folder' | 'pipe' | 'chmod' | 'setuid' | 'chmod-folder' | 'chmod-output' | 'hard-link' | 'record' | 'rename' | 'copy';
    const tampers: Tamper[] = ['edit', 'remove', 'stray', 'folder', 'link-file', 'link-folder', 'pipe', 'chmod', 'setuid', 'chmod-folder', 'chmod-output', 'hard-link', 'record', 'rename', 'copy'];
    const base = await builtSite();
    const cold = await coldOutput(base);
    const coldModes = await modes(path.join(base, 'dist'));
    const files = [...cold.keys()].sort();
    const folders = [...new Set(files.map((f) => path.dirname(f)).filter((d) => d !== '.'))].sort();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...tampers), fc.nat(), async (tamper, pick) => {
        const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-tampered-'));
        await cp(path.join(base, 'content'), path.join(root, 'content'), { recursive: true });
        // A copy's inodes are its own: built twice, its output is one its record vouches for.
        await build(root);
        await build(root);
        assert.equal((await build(root)).upToDate, true, 'up to date before anything was done to it');
        const dist = path.join(root, 'dist');
        const file = path.join(dist, files[pick % files.length]!);
        const folder = path.join(dist, folders[pick % folders.length]!);
        const secret = path.join(root, 'secret.txt');
        await writeFile(secret, 'not for publishing');
        switch (tamper) {
          case 'edit':
            await flipByteKeepingTimes(file, 0);
            break;
          case 'remove':
            await rm(file);
            break;
          case 'stray':
            await writeFile(path.join(folder, 'stray.html'), '<p>not the build’s</p>');
            break;
          case 'folder':
            await mkdir(path.join(folder, 'empty'));
            break;
          case 'link-file':
            await rm(file);
            await symlink(secret, file);
            break;
          case 'link-folder': {
            const moved = path.join(root, 'moved');
            await rename(folder, moved);
            await symlink(moved, folder);
            break;
          }
          case 'pipe':
            await execFileAsync('mkfifo', [path.join(folder, 'pipe')]);
            break;
          case 'chmod':
            await chmod(file, 0o600);
            break;
          case 'setuid':
            await chmod(file, 0o4777);
            break;
          case 'chmod-folder':
            await chmod(folder, 0o700);
            break;
          case 'chmod-output':
            await chmod(dist, 0o711);
            break;
          case 'copy': {
            // A frozen card or a figure copied into the output, its bytes changed but not its size or times.
            const copies = files.filter((f) => f.startsWith('social/') || f.startsWith('figures/'));
            await flipByteKeepingTimes(path.join(dist, copies[pick % copies.length]!), -1);
            break;
          }
          case 'hard-link':
            // A link made from outside, and the file written through it.
            await link(file, path.join(root, 'outside'));
            await appendFile(path.join(root, 'outside'), 'appended');
            break;
          case 'record':
            await writeFile(path.join(root, '.dist.pages'), 'damaged');
            break;
          case 'rename':
            await rename(file, `${file}.old`);
            break;
        }
        const again = await build(root);
        assert.equal(again.upToDate, false, `${tamper}: built again`);
        assertSameFiles(await snapshot(dist), cold, tamper);
        assert.deepEqual(await modes(dist), coldModes, `${tamper}: every file and folder has the permissions a cold build gives`);
        // And again after the next build (into the spare, which held the tampered output).
        await build(root, { force: true });
        assertSameFiles(await snapshot(dist), cold, `${tamper}, then the spare`);
        assert.deepEqual(await modes(dist), coldModes, `${tamper}, then the spare: the same permissions`);
        assert.equal(lstatSync(dist).isDirectory(), true);
        assert.equal(await readFile(secret, 'utf8'), 'not for publishing', `${tamper}: nothing outside the output was written`);
        assert.equal((await build(root)).upToDate, true, `${tamper}: up to date once rebuilt`);
        await rm(root, { recursive: true, force: true });
      }),
      { numRuns: Number(process.env.PROPS_RUNS ?? 22), seed: 20261207, endOnFailure: true, examples: tampers.map((t) => [t, 7] as [Tamper, number]) },
    );
  });

  it('builds again, to what a cold build writes, when any input changed', async () => {
    const root = await builtSite();
    const expectBuilt = async (what: string, options: { searchIndexer?: SearchIndexer } = {}) => {
      const summary = await build(root, options);
      assert.equal(summary.upToDate, false, `${what}: built again`);
      assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root, options), what);
      assert.equal((await build(root, options)).upToDate, true, `${what}: then up to date`);
    };
    await writeFiles(root, { 'content/news/2026-04/a-new-story.md': '---\ntitle: "A new story about Llama"\nurl: https://example.com/new-story\nsource: Example\npublished: 2026-04-20T08:00:00Z\nscore: 9\ntopics: [Meta]\n---\nA summary.\n' });
    await expectBuilt('a news item added');
    await writeFiles(root, { 'templates/site/partials/news-card.hbs': '<p class="card">{{title}}</p>\n' });
    await expectBuilt('a template');
    await writeFiles(root, { 'templates/assets/style.css': 'body { color: #123; }\n' });
    await expectBuilt('an asset');
    await expectBuilt('another indexer', { searchIndexer: indexer('another-indexer') });
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ title: 'Renamed' }) });
    await expectBuilt('the configuration');
    // A processed figure in the store, its bytes the same, its stamp not: copied again.
    const store = path.join(root, '.almanac/cache/figures');
    const [entry] = await readdir(store);
    const [image] = (await readdir(path.join(store, entry!))).filter((name) => name.endsWith('.png') || name.endsWith('.webp') || name.endsWith('.avif'));
    await execFileAsync('touch', [path.join(store, entry!, image!)]);
    await expectBuilt('a file to copy');
    // The content cache deleted, to start clean: every page composed again from the files themselves.
    await rm(path.join(root, '.almanac/cache/content.bin'));
    await expectBuilt('the content cache deleted');
  });

  it('gives every file and folder the permissions of a cold build under the umask of the build, and keeps a folder\'s inherited set-group-ID', async () => {
    const root = await builtSite();
    // The same build as `build` here, in a process of its own under `umask` (a process's umask is its own).
    const script = `
      const { buildSite } = await import(${JSON.stringify(new URL('../src/site/build.ts', import.meta.url).href)});
      const searchIndexer = { name: 'test-indexer', index: async (records) => new Map([['index.json', Buffer.from(JSON.stringify(records.map((r) => r.url)))]]) };
      const summary = await buildSite({ root: process.argv[1], outDir: 'dist', now: ${now}, threads: 1, cache: { clock: () => Date.now() + 60000 }, searchIndexer, force: process.argv[2] === 'force' });
      process.stdout.write(summary.upToDate ? 'up to date' : 'built');`;
    const built = async (umask: string, force = '') =>
      (await execFileAsync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, root, force])).stdout;
    const perms = async (dir: string) => new Set((await modes(dir)).values());
    assert.equal(await built('077'), 'built', 'under another umask, not up to date');
    assert.equal(await built('077'), 'up to date');
    assert.deepEqual(await perms(path.join(root, 'dist')), new Set([0o600, 0o700]), 'built under umask 077');
    assert.equal(await built('022'), 'built');
    assert.deepEqual(await perms(path.join(root, 'dist')), new Set([0o644, 0o755]), 'every file and folder as a cold build under umask 022 makes it, those in place included');
    assert.equal(await built('022'), 'up to date');
    // A site folder whose new folders inherit its group (set-group-ID): the output's do too, and stay so.
    await chmod(root, 0o2755);
    await rm(path.join(root, 'dist'), { recursive: true });
    await rm(path.join(root, '.dist.spare'), { recursive: true });
    await built('022');
    assert.equal((await stat(path.join(root, 'dist/guides'))).mode & 0o7777, 0o2755, 'a new folder inherits set-group-ID');
    await built('022', 'force');
    assert.equal(await built('022'), 'up to date', 'inherited set-group-ID is no change');
    assert.equal((await stat(path.join(root, 'dist/guides'))).mode & 0o7777, 0o2755);
  });

  it('builds again, to what a cold build writes, when the content cache was damaged on disk', async () => {
    const root = await builtSite();
    assert.equal((await build(root)).upToDate, true);
    const file = path.join(root, '.almanac/cache/content.bin');
    const bytes = await readFile(file);
    // A flipped bit in the middle of the values (a stored page body, say) deserialises without complaint.
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 1;
    await writeFile(file, bytes);
    assert.equal((await build(root)).upToDate, false);
    assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root), 'the cache damaged');
    await build(root, { force: true });
    assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root), 'the cache damaged, then the spare');
  });

  it('fails, writing nothing, when a template or an asset is saved while the site is built', async () => {
    for (const [file, text] of [
      ['templates/site/partials/news-card.hbs', '<p class="card-saved-meanwhile">{{title}}</p>\n'],
      ['templates/assets/style.css', 'body { color: #321; }\n'],
    ] as const) {
      for (const threads of [1, 2]) {
        const root = await builtSite(threads);
        const before = await snapshot(path.join(root, 'dist'));
        // Told of the figures after the templates' digest is taken, before anything is rendered.
        let saved = false;
        const figureLog = () => {
          if (saved) return;
          saved = true;
          mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
          writeFileSync(path.join(root, file), text);
        };
        await writeFiles(root, { 'content/news/2026-04/a-change.md': '---\ntitle: "A change"\nurl: https://example.com/change\nsource: Example\npublished: 2026-04-20T08:00:00Z\nscore: 5\n---\nChanged.\n' });
        await assert.rejects(
          buildSite({ root, outDir: 'dist', now, threads, cache: { clock: later }, searchIndexer: indexer(), figureLog }),
          (err: Error) => /changed during the build \(build again\)/.test(err.message),
          `${file}, ${threads} thread(s)`,
        );
        assertSameFiles(await snapshot(path.join(root, 'dist')), before, `${file}: the output as it was`);
        // Built again, the output is what a cold build of the files as they are now writes.
        await build(root, { threads });
        assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root), `${file}: built again`);
      }
    }
  });

  it('builds again when a stored issue was changed by hand', async () => {
    const root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    const run = await almanac(['issue', 'build', 'sunday', '--date', '2026-05-03', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    await build(root);
    await build(root);
    assert.equal((await build(root)).upToDate, true);
    const [id] = (await readdir(path.join(root, '.almanac/issues'))).filter((name) => name !== 'registry.json');
    const json = path.join(root, '.almanac/issues', id!, 'issue.json');
    const issue = JSON.parse(await readFile(json, 'utf8')) as { subject: string };
    await writeFile(json, JSON.stringify({ ...issue, subject: 'A subject edited by hand' }, null, 2));
    assert.equal((await build(root)).upToDate, false);
    const shown = await readFile(path.join(root, 'dist/issues', id!, 'issue.json'), 'utf8');
    assert.match(shown, /A subject edited by hand/);
    assertSameFiles(await snapshot(path.join(root, 'dist')), await coldOutput(root), 'an issue edited');
    assert.equal((await build(root)).upToDate, true);
    // Its email as stored, edited by hand too: the web version shows it.
    const emailText = path.join(root, '.almanac/issues', id!, 'email.txt');
    await writeFile(emailText, (await readFile(emailText, 'utf8')).replace(/\n/, '\nA line added by hand.\n'));
    assert.equal((await build(root)).upToDate, false);
    assert.match(await readFile(path.join(root, 'dist/issues', id!, 'email.txt'), 'utf8'), /A line added by hand/);
  });

  it('says so on the command line, and --force builds', async () => {
    // Built with a content cache told it is a minute later, which keeps the files just copied; then
    // once by the command, with Pagefind.
    const root = await builtSite();
    assert.match((await almanac(['build', '--root', root, '--now', NOW])).stdout, /^Built \d+ pages/);
    const up = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^Up to date: nothing changed since the last build, \S*dist\/ holds its \d+ pages \(\d+ files\) from 5 guides \(6 versions\) and 19 news items as written/);
    const json = await almanac(['build', '--root', root, '--now', NOW, '--json']);
    assert.equal((JSON.parse(json.stdout) as { upToDate: boolean }).upToDate, true);
    const forced = await almanac(['build', '--root', root, '--now', NOW, '--force']);
    assert.match(forced.stdout, /^Built \d+ pages/);
  });
});

describe('the render thread', () => {
  it('fails the build when it compiled other templates than those the pages were keyed with', async () => {
    const root = await tempSite({ sample: true });
    await writeFiles(root, { 'templates/site/partials/news-card.hbs': '<p class="card-old">{{title}}</p>\n' });
    const renderer = new TwoThreadRenderer(root);
    try {
      // Answered once the thread has compiled its templates.
      await renderer.markdown.render({ guides: [], summaries: ['A summary.'] });
      // Saved afterwards, before the build reads the templates for its keys.
      await writeFiles(root, { 'templates/site/partials/news-card.hbs': '<p class="card-new">{{title}}</p>\n' });
      const expected = (await TemplateSet.load(root, 'site')).textDigest;
      const output = await StagedOutput.begin(path.join(root, 'dist'));
      renderer.start(output);
      await assert.rejects(
        renderer.finish({ pages: [], listings: [], files: new Map(), copies: new Map() }, expected),
        (err: Error) => /a template changed during the build \(build again\)/.test(err.message),
      );
      await output.abort();
    } finally {
      await renderer.close();
    }
  });
});

describe('the record of a whole output', () => {
  it('compares the bytes of a file its stamps cannot vouch for, on a file system whose clock counts in seconds', async () => {
    const root = await tempSite();
    const [target, spare] = [path.join(root, 'dist'), path.join(root, '.dist.spare')];
    await mkdir(path.join(spare, 'feeds'), { recursive: true });
    await writeFile(path.join(spare, 'a.html'), '<p>as rendered</p>');
    await writeFile(path.join(spare, 'feeds/news.xml'), '<feed/>');
    // Every file's times the same whole second, whatever is done to it: an edit within that second.
    const frozen = frozenClock();
    const written = WrittenPages.read(target, spare, undefined, frozen);
    written.inPlace(['a.html'], 'key');
    written.save(new Set(['a.html', 'feeds/news.xml']), { inputs: 'inputs', pages: 1, files: 2 });
    await rename(spare, target);
    assert.deepEqual(WrittenPages.read(target, spare, undefined, frozen).upToDate('inputs'), { inputs: 'inputs', pages: 1, files: 2 });
    assert.equal(WrittenPages.read(target, spare, undefined, frozen).upToDate('other inputs'), undefined, 'made from other inputs');
    // The same size, the same times: only the bytes tell.
    await writeFile(path.join(target, 'feeds/news.xml'), '<FEED/>');
    assert.equal(WrittenPages.read(target, spare, undefined, frozen).upToDate('inputs'), undefined, 'a file that is not a page changed');
  });

  it('vouches for nothing it was not given every file of', async () => {
    const root = await tempSite();
    const [target, spare] = [path.join(root, 'dist'), path.join(root, '.dist.spare')];
    await mkdir(spare, { recursive: true });
    await writeFile(path.join(spare, 'a.html'), '<p>as rendered</p>');
    const written = WrittenPages.read(target, spare, undefined);
    written.inPlace(['a.html'], 'key');
    // No list of the output's files (an issue build's update, an older record): no claim about the whole output.
    written.save();
    await rename(spare, target);
    assert.equal(WrittenPages.read(target, spare, undefined).upToDate('inputs'), undefined);
  });
});
