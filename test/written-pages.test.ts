// A rebuild renders only the pages whose output is not in place already: a page is skipped only when
// what it is rendered from is unchanged and its files in the spare output are exactly as that build
// wrote them. Whatever happened to the output in between (a hand edit that kept size and times, a
// link to a secret, a deleted alias, a damaged record), the output is what a cold build writes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { link, lstat, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import { WrittenPages, racy } from '../src/output/written-pages.ts';
import { buildSite } from '../src/site/build.ts';
import { frozenClock } from './helpers/frozen-clock.ts';
import { NOW, snapshot, tempSite, writeFiles } from './helpers/cli.ts';

const execFileAsync = promisify(execFile);
const now = Date.parse(NOW);
// Files copied a moment ago are not yet kept by the content cache: it is told it is a minute later.
const later = () => Date.now() + 60_000;

/**
 * Builds `root` and returns what the build logged of its pages: [in place, asked]. Forced: these
 * builds are into the spare even when nothing changed (see up-to-date.test.ts for those that are not).
 */
async function build(root: string, threads = 1): Promise<{ inPlace: number; pages: number; line: string }> {
  const lines: string[] = [];
  await buildSite({ root, outDir: 'dist', now, threads, cache: { clock: later, log: (line) => lines.push(line) }, force: true });
  const line = lines.find((l) => l.startsWith('pages: '));
  assert.ok(line, `the build logs its pages (${lines.join('; ')})`);
  const [, inPlace, pages] = /^pages: (\d+) of (\d+) in place/.exec(line)!;
  return { inPlace: Number(inPlace), pages: Number(pages), line };
}

/** A site built three times: its output and its spare were both written by a build that recorded them. */
async function builtSite(threads = 1): Promise<{ root: string; cold: Map<string, Buffer> }> {
  const root = await tempSite({ sample: true });
  for (let i = 0; i < 3; i++) await build(root, threads);
  return { root, cold: await snapshot(path.join(root, 'dist')) };
}

/** The output and the spare both hold exactly `expected`. */
async function bothHold(root: string, expected: Map<string, Buffer>): Promise<void> {
  for (const dir of ['dist', '.dist.spare']) {
    const found = await snapshot(path.join(root, dir));
    found.delete('.almanac-output');
    const wanted = new Map(expected);
    wanted.delete('.almanac-output');
    assert.deepEqual([...found.keys()].sort(), [...wanted.keys()].sort(), `${dir}: the same files`);
    for (const [file, bytes] of wanted) assert.ok(bytes.equals(found.get(file)!), `${dir}/${file} is as a cold build writes it`);
  }
}

describe('pages already in the output', () => {
  it('are not rendered again while nothing changed, on one thread and on two, and the output stays the same', async () => {
    for (const threads of [1, 2]) {
      const { root, cold } = await builtSite(threads);
      const again = await build(root, threads);
      assert.equal(again.inPlace, again.pages, again.line);
      await build(root, threads);
      await bothHold(root, cold);
    }
  });

  it('renders again only the pages an edit changed, and the output is what a cold build writes', async () => {
    const { root } = await builtSite();
    const guide = path.join(root, 'content/guides/meta/guide.md');
    await writeFile(guide, (await readFile(guide, 'utf8')).replace(/^title: .*$/m, 'title: "Meta, edited"'));
    const edited = await build(root);
    // The working copy shows only on the preview: of the published pages, at most the guide's own
    // (its file read afresh) is rendered again.
    assert.ok(edited.inPlace >= edited.pages - 1, edited.line);

    await writeFiles(root, { 'content/news/2026-04/a-new-story.md': '---\ntitle: "A new story about Llama"\nurl: https://example.com/new-story\nsource: Example\npublished: 2026-04-20T08:00:00Z\nscore: 9\ntopics: [Meta]\n---\nA summary of the new story.\n' });
    const news = await build(root);
    assert.ok(news.inPlace > 0 && news.inPlace < news.pages, `some pages show the story, others do not: ${news.line}`);
    await build(root);
    const cold = await tempSite({ sample: true });
    await writeFiles(cold, { 'content/news/2026-04/a-new-story.md': await readFile(path.join(root, 'content/news/2026-04/a-new-story.md'), 'utf8') });
    await writeFile(path.join(cold, 'content/guides/meta/guide.md'), await readFile(guide, 'utf8'));
    await build(cold);
    await bothHold(root, await snapshot(path.join(cold, 'dist')));

    await writeFiles(root, { 'templates/site/partials/news-card.hbs': '<p class="card">{{title}}</p>\n' });
    const template = await build(root);
    assert.equal(template.inPlace, 0, `a template changed: every page is rendered (${template.line})`);
  });

  it('writes a page again whose file was edited by hand, even to the same size and times', async () => {
    const { root, cold } = await builtSite();
    const file = path.join(root, 'dist/guides/meta/index.html');
    const before = await stat(file, { bigint: true });
    const text = await readFile(file, 'utf8');
    // The same length, and the times put back to the nanosecond (by touch, from a file given them
    // first): only the change time tells.
    const times = path.join(root, 'times');
    await writeFile(times, '');
    await execFileAsync('touch', ['-r', file, times]);
    await writeFile(file, text.replace('<title>', '<TITLE>'));
    await execFileAsync('touch', ['-r', times, file]);
    const after = await stat(file, { bigint: true });
    assert.equal(after.mtimeNs, before.mtimeNs, 'the same modification time');
    assert.equal(after.size, before.size, 'the same size');
    await build(root); // dist/ becomes the spare
    const again = await build(root); // written into it
    assert.match(again.line, /1 of them because their files were changed/);
    await bothHold(root, cold);
  });

  it('never keeps a link put in place of a page, nor a page whose alias was removed or replaced', async () => {
    const { root, cold } = await builtSite();
    const secret = path.join(root, 'secret.txt');
    await writeFile(secret, 'a secret that must not be published\n');
    await rm(path.join(root, 'dist/guides/meta/index.html'));
    await symlink(secret, path.join(root, 'dist/guides/meta/index.html'));
    // The latest version's alias: removed in the output, replaced by another file in the spare.
    const versions = [...(await snapshot(path.join(root, 'dist/guides/llama-4'))).keys()].filter((f) => /^v\d+\.html$/.test(f));
    const alias = versions.sort((a, b) => parseInt(a.slice(1)) - parseInt(b.slice(1))).at(-1)!;
    await rm(path.join(root, 'dist/guides/llama-4', alias));
    await rm(path.join(root, '.dist.spare/guides/llama-4', alias));
    await writeFile(path.join(root, '.dist.spare/guides/llama-4', alias), 'not the page\n');
    await build(root);
    await build(root);
    await bothHold(root, cold);
    for (const dir of ['dist', '.dist.spare']) {
      assert.ok((await lstat(path.join(root, dir, 'guides/meta/index.html'))).isFile(), `${dir}: the page is a file`);
      const page = await stat(path.join(root, dir, 'guides/llama-4/index.html'));
      assert.equal((await stat(path.join(root, dir, 'guides/llama-4', alias))).ino, page.ino, `${dir}: the alias is the page's own file`);
    }
  });

  it('ignores a damaged record, or a folder in its place, and renders every page', async () => {
    const { root, cold } = await builtSite();
    const record = path.join(root, '.dist.pages');
    // Of the right form, naming the spare, with entries of another shape.
    const foreign = async (entry: unknown) => {
      const spare = await stat(path.join(root, '.dist.spare'));
      await writeFile(record, v8.serialize(new Map([[`${spare.dev}:${spare.ino}`, entry]])));
    };
    for (const damage of [
      async () => writeFile(record, 'not a record'),
      async () => writeFile(record, (await readFile(record)).subarray(0, 40)),
      async () => foreign('not a part'),
      async () => foreign(new Map([['guides/meta/index.html', { key: 42, stamps: 'x' }]])),
      async () => foreign(new Map([['guides/meta/index.html', null]])),
      async () => {
        await rm(record);
        await mkdir(record);
      },
    ]) {
      await damage();
      const run = await build(root);
      assert.equal(run.inPlace, 0, run.line);
      await build(root);
      await bothHold(root, cold);
    }
    await rm(record, { recursive: true });
  });

  it('writes the pages below a folder of the spare that was replaced by a link to its moved contents', async () => {
    const { root, cold } = await builtSite();
    // The files keep their stamps when their folder is moved: only the link in its place tells.
    const elsewhere = path.join(root, 'elsewhere');
    await rename(path.join(root, '.dist.spare/guides'), elsewhere);
    await symlink(elsewhere, path.join(root, '.dist.spare/guides'));
    const run = await build(root);
    assert.ok(run.inPlace < run.pages, run.line);
    await bothHold(root, cold);
    assert.ok((await lstat(path.join(root, '.dist.spare/guides'))).isDirectory() || !(await lstat(path.join(root, 'dist/guides'))).isSymbolicLink());
    assert.ok((await lstat(path.join(root, 'dist/guides'))).isDirectory(), 'the output holds its own folder');
  });

  it('is not stalled by a named pipe in place of the record', async () => {
    const { root, cold } = await builtSite();
    const record = path.join(root, '.dist.pages');
    await rm(record);
    await execFileAsync('mkfifo', [record]);
    const run = await build(root);
    assert.equal(run.inPlace, 0, run.line);
    await build(root);
    await bothHold(root, cold);
  });

  it('writes the pages below a folder that was replaced by a file', async () => {
    const { root, cold } = await builtSite();
    for (const dir of ['dist', '.dist.spare']) {
      await rm(path.join(root, dir, 'guides/meta'), { recursive: true });
      await writeFile(path.join(root, dir, 'guides/meta'), 'a file where the folder was\n');
    }
    await build(root);
    await build(root);
    await bothHold(root, cold);
  });

  it('renders every page when the output was copied or its spare removed', async () => {
    const { root, cold } = await builtSite();
    await rm(path.join(root, '.dist.spare'), { recursive: true });
    const run = await build(root);
    assert.equal(run.inPlace, 0, run.line);
    await build(root);
    await bothHold(root, cold);
    // A hard link to a page from outside the output: the page is written as a new file, never through the link.
    const outside = path.join(root, 'outside.html');
    await link(path.join(root, '.dist.spare/guides/meta/index.html'), outside);
    const before = await readFile(outside);
    await build(root);
    assert.ok((await readFile(outside)).equals(before), 'the file outside the output is untouched');
  });

  it('trusts no stamp that a change within the same tick of the file system clock could have left as it was', () => {
    // A file system clock that counts in `tick` ms: a file stamped at `written`, the record saved at
    // `saved`, the file changed again at `edited`. When the change leaves the same stamp, the stamp
    // must not be trusted.
    fc.assert(
      fc.property(fc.constantFrom(1000, 2000, 1, 4, 10), fc.nat({ max: 10_000 }), fc.nat({ max: 5_000 }), fc.nat({ max: 5_000 }), (tick, written, toSave, toEdit) => {
        const clock = (t: number) => Math.floor((1_765_000_000_000 + t) / tick) * tick;
        const saved = clock(written + toSave);
        const edited = written + toSave + toEdit;
        if (clock(edited) === clock(written)) assert.ok(racy(clock(written), saved), `tick ${tick}: written ${written}, saved ${written + toSave}, edited ${edited}`);
      }),
      { numRuns: Number(process.env.PROPS_RUNS ?? 500) },
    );
    // Long enough ago, a stamp is trusted.
    assert.equal(racy(1_765_000_000_000, 1_765_000_010_000), false);
    assert.equal(racy(1_765_000_000_123.5, 1_765_000_000_500.25), false);
  });

  it('compares the bytes of a page its stamps cannot vouch for, on a file system whose clock counts in seconds', async () => {
    const root = await tempSite();
    const [target, spare] = [path.join(root, 'dist'), path.join(root, '.dist.spare')];
    await mkdir(spare, { recursive: true });
    await writeFile(path.join(spare, 'a.html'), '<p>as rendered</p>');
    // Every file's times the same whole second, whatever is done to it: an edit within that second.
    const frozen = frozenClock();
    const written = WrittenPages.read(target, spare, undefined, frozen);
    assert.equal(written.inPlace(['a.html'], 'key'), false, 'no record yet');
    written.save();
    assert.equal(WrittenPages.read(target, spare, undefined, frozen).inPlace(['a.html'], 'key'), true, 'its bytes are as written');
    // The same size, the same times: only the bytes tell.
    await writeFile(path.join(spare, 'a.html'), '<p>AS RENDERED</p>');
    assert.equal(WrittenPages.read(target, spare, undefined, frozen).inPlace(['a.html'], 'key'), false, 'its bytes changed');

    // A page at two paths that are copies (a file system without hard links): each copy's bytes count.
    await writeFile(path.join(spare, 'b.html'), '<p>as rendered</p>');
    await writeFile(path.join(spare, 'b-alias.html'), '<p>as rendered</p>');
    const both = WrittenPages.read(target, spare, undefined, frozen);
    both.inPlace(['b.html', 'b-alias.html'], 'key');
    both.save();
    assert.equal(WrittenPages.read(target, spare, undefined, frozen).inPlace(['b.html', 'b-alias.html'], 'key'), true);
    await writeFile(path.join(spare, 'b-alias.html'), '<p>AS RENDERED</p>');
    assert.equal(WrittenPages.read(target, spare, undefined, frozen).inPlace(['b.html', 'b-alias.html'], 'key'), false, 'the copy changed');
    assert.deepEqual((await readdir(root)).filter((name) => name.includes('.tmp-')), [], 'no probe left');
  });
});
