// The build as a whole: reproducible, atomic, and open to a site's own templates.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, lstat, mkdir, readFile, readdir, rename, rm, stat, symlink } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { once } from 'node:events';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadSite } from '../src/content/load.ts';
import { ContentError } from '../src/content/problems.ts';
import type { MarkdownRenderer } from '../src/content/render-queue.ts';
import { markdownHere } from '../src/render/markdown.ts';
import { receivedError, type SentError } from '../src/site/thread-error.ts';
import { buildSite } from '../src/site/build.ts';
import { BIN, GOOD_GUIDE, GOOD_NEWS, NOW, almanac as almanacChild, snapshot, tempSite, until, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

/**
 * A build in this process, as the CLI runs it (exit code 1 with the problems for bad content), its
 * cache's clock far enough ahead that files written just now count as settled and are kept.
 */
async function buildIn(root: string, log?: (line: string) => void): Promise<{ code: number; stderr: string }> {
  try {
    await buildSite({ root, outDir: 'dist', now: Date.parse(NOW), cache: { clock: () => Date.now() + 60_000, log } });
    return { code: 0, stderr: '' };
  } catch (err) {
    if (err instanceof ContentError) return { code: 1, stderr: err.message };
    throw err;
  }
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}



/** What a build records beside its output: what it was made from, and which pages it holds. */
const RECORDS = new Set(['.dist.made-from', '.dist.pages']);
describe('build', () => {
  it('is reproducible: the same content and --now give byte-identical output', async () => {
    const a = await tempSite({ sample: true });
    const b = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', a, '--now', NOW])).code, 0);
    assert.equal((await almanac(['build', '--root', b, '--now', NOW])).code, 0);
    const first = await snapshot(path.join(a, 'dist'));
    assert.ok(first.size > 40);
    assert.deepEqual(await snapshot(path.join(b, 'dist')), first);
    assert.equal((await almanac(['build', '--root', a, '--now', NOW])).code, 0);
    assert.deepEqual(await snapshot(path.join(a, 'dist')), first, 'rebuilding in place changes nothing');
  });

  it('is atomic: a build that fails while rendering leaves the previous dist/ and no temporary folders', async () => {
    const root = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const before = await snapshot(path.join(root, 'dist'));
    // Valid syntax, but fails at render time: the partial does not exist.
    await writeFiles(root, { 'templates/site/pages/topic.hbs': '<h1>{{topic.name}}</h1>{{> no-such-partial}}' });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^templates\/site\/pages\/topic\.hbs: expected a template that renders, found The partial no-such-partial could not be found$/m);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), before);
    assert.deepEqual((await readdir(root)).filter((name) => !RECORDS.has(name)).sort(), ['.almanac', 'content', 'dist', 'templates']);
  });

  it('a build killed while swapping its output in: the next build puts the previous dist/ back, even when it fails', async () => {
    const root = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const before = await snapshot(path.join(root, 'dist'));
    const dead = await deadPid();
    // Killed after moving the old output aside and before moving the new one in: no dist/ at all.
    await rename(path.join(root, 'dist'), path.join(root, `dist.swap-${dead}`));
    await writeFiles(root, { 'templates/site/pages/topic.hbs': '{{> no-such-partial}}' });
    const failed = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), before);
    assert.deepEqual((await readdir(root)).filter((n) => n.includes('swap')), []);
    // Killed after the new output was in place: the old one, left aside, is no one's to keep.
    await rm(path.join(root, 'templates'), { recursive: true });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    await rename(path.join(root, '.dist.spare'), path.join(root, `dist.swap-${dead}`));
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), before);
    assert.deepEqual((await readdir(root)).filter((n) => n.includes('swap')), []);
  });

  it('a build killed at any moment leaves the previous dist/ or the new one, whole, and the next build works', async () => {
    const root = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    let previous = await snapshot(path.join(root, 'dist'));
    for (let i = 0; i < 4; i++) {
      await writeFiles(root, { [`content/news/killed/item-${i}.md`]: GOOD_NEWS.replace('https://example.com/story', `https://example.com/story-${i}`) });
      const child = spawn(process.execPath, [BIN, 'build', '--root', root, '--now', NOW], { stdio: 'ignore' });
      const exited = once(child, 'exit');
      // Killed once the build has begun writing, a little later each time (up to its end).
      await until(() => existsSync(path.join(root, '.dist.spare.lock')) || child.exitCode !== null, 30_000);
      await new Promise((resolve) => setTimeout(resolve, i * 30));
      child.kill('SIGKILL');
      await exited;
      const now = await snapshot(path.join(root, 'dist'));
      const complete = await almanac(['build', '--root', root, '--now', NOW, '--out', `complete-${i}`]);
      assert.equal(complete.code, 0, complete.stderr);
      const expected = await snapshot(path.join(root, `complete-${i}`));
      assert.ok(isDeepStrictEqual(now, previous) || isDeepStrictEqual(now, expected), `kill ${i}: dist/ is neither the previous output nor the new one`);
      const next = await almanac(['build', '--root', root, '--now', NOW]);
      assert.equal(next.code, 0, next.stderr);
      previous = await snapshot(path.join(root, 'dist'));
      assert.ok(isDeepStrictEqual(previous, expected));
    }
  });

  it('writes and prunes nothing outside the output through a symbolic link left in it or in place of its spare', async () => {
    const root = await tempSite({ sample: true });
    const outside = await tempSite();
    await writeFiles(outside, { 'a/index.html': 'mine\n', 'b/keep.txt': 'mine\n' });
    const before = await snapshot(outside);
    const build = async (threads: string) => {
      const run = await almanac(['build', '--root', root, '--now', NOW, '--threads', threads]);
      assert.equal(run.code, 0, run.stderr);
    };
    await build('1');
    const expected = await snapshot(path.join(root, 'dist'));
    // A link in place of a folder of the output: it becomes the spare's, then is written over.
    for (const threads of ['1', '2']) {
      await rm(path.join(root, 'dist', 'topics'), { recursive: true });
      await symlink(path.join(outside, 'a'), path.join(root, 'dist', 'topics'));
      await build(threads);
      await build(threads);
      assert.deepEqual(await snapshot(outside), before, `--threads ${threads}: nothing outside written`);
      assert.deepEqual(await snapshot(path.join(root, 'dist')), expected);
    }
    // A link in place of the spare itself: the spare is written into and pruned.
    await rm(path.join(root, '.dist.spare'), { recursive: true, force: true });
    await symlink(path.join(outside, 'b'), path.join(root, '.dist.spare'));
    await build('1');
    assert.deepEqual(await snapshot(outside), before, 'nothing outside written or pruned');
    assert.ok((await lstat(path.join(root, 'dist'))).isDirectory());
    assert.deepEqual(await snapshot(path.join(root, 'dist')), expected);
  });

  it('rebuilds over an output where a file became a folder and a folder a file', async () => {
    const root = await tempSite({ sample: true });
    const build = async (threads: string) => {
      const run = await almanac(['build', '--root', root, '--now', NOW, '--threads', threads]);
      assert.equal(run.code, 0, run.stderr);
      return snapshot(path.join(root, 'dist'));
    };
    const fresh = async (assets: Record<string, string>) => {
      const copy = await tempSite({ sample: true });
      await writeFiles(copy, assets);
      assert.equal((await almanac(['build', '--root', copy, '--now', NOW])).code, 0);
      return snapshot(path.join(copy, 'dist'));
    };
    // Two builds, so that the spare output (the build before last) holds icons as a file.
    await writeFiles(root, { 'templates/assets/icons': 'one file', 'templates/assets/old.txt': 'gone soon' });
    await build('1');
    await build('2');
    await rm(path.join(root, 'templates/assets'), { recursive: true });
    await writeFiles(root, { 'templates/assets/icons/a.svg': '<svg/>' });
    const asFolder = await build('2');
    assert.equal(asFolder.get('assets/icons/a.svg')?.toString(), '<svg/>');
    assert.ok(!asFolder.has('assets/old.txt'));
    assert.deepEqual(asFolder, await fresh({ 'templates/assets/icons/a.svg': '<svg/>' }));
    await build('1');
    // And back: the spare now holds icons as a folder.
    await rm(path.join(root, 'templates/assets'), { recursive: true });
    await writeFiles(root, { 'templates/assets/icons': 'a file again' });
    const asFile = await build('1');
    assert.equal(asFile.get('assets/icons')?.toString(), 'a file again');
    assert.deepEqual(asFile, await fresh({ 'templates/assets/icons': 'a file again' }));
  });

  it('writes a page that became shorter over the longer one of an older output without leaving its tail', async () => {
    const root = await tempSite({ sample: true });
    const item = 'content/news/2026-04/muse-spark-launch.md';
    const text = await readFile(path.join(root, item), 'utf8');
    // Two builds, so that the spare output (the build before last) holds the long pages.
    for (let i = 0; i < 2; i++) assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const short = text.replace(/\n---\n[\s\S]*$/, '\n---\nMuse Spark is out.\n');
    await writeFiles(root, { [item]: short });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const copy = await tempSite({ sample: true });
    await writeFiles(copy, { [item]: short });
    assert.equal((await almanac(['build', '--root', copy, '--now', NOW])).code, 0);
    const [rebuilt, fresh] = [await snapshot(path.join(root, 'dist')), await snapshot(path.join(copy, 'dist'))];
    assert.match(rebuilt.get('news/index.html')!.toString(), /<p>Muse Spark is out.<\/p>/);
    assert.deepEqual(rebuilt, fresh);
  });

  it("writes a guide's latest version once, as the same file as its URL, and splits them when a new version is published", async () => {
    const root = await tempSite({ sample: true });
    const dir = path.join(root, 'dist/guides/llama-4');
    for (const threads of ['2', '1']) assert.equal((await almanac(['build', '--root', root, '--now', NOW, '--threads', threads])).code, 0);
    const [index, v2] = await Promise.all([stat(path.join(dir, 'index.html')), stat(path.join(dir, 'v2.html'))]);
    assert.equal(index.ino, v2.ino, 'the latest version page is the guide page');
    assert.equal((await stat(path.join(dir, 'v1.html'))).nlink, 1);

    // The spare output (the build before last) holds index.html and v2.html as one file: the next
    // build must split them, not write v2's new page through to the guide's URL.
    await appendFile(path.join(root, 'content/guides/llama-4/guide.md'), '\n## Since then\n\nMore happened.\n');
    const published = await almanac(['guide', 'publish', 'llama-4', '--note', 'Since then', '--root', root, '--now', NOW]);
    assert.equal(published.code, 0, published.stderr);
    for (const threads of ['2', '1']) {
      assert.equal((await almanac(['build', '--root', root, '--now', NOW, '--threads', threads])).code, 0);
      const latest = await readFile(path.join(dir, 'index.html'), 'utf8');
      assert.match(latest, /id="since-then"/);
      assert.equal(await readFile(path.join(dir, 'v3.html'), 'utf8'), latest);
      const older = await readFile(path.join(dir, 'v2.html'), 'utf8');
      assert.doesNotMatch(older, /id="since-then"/);
      assert.match(older, /The latest is\s+<a [^>]*>v3,/);
      assert.equal((await stat(path.join(dir, 'v2.html'))).nlink, 1);
    }
    const fresh = await tempSite({ sample: true });
    await appendFile(path.join(fresh, 'content/guides/llama-4/guide.md'), '\n## Since then\n\nMore happened.\n');
    assert.equal((await almanac(['guide', 'publish', 'llama-4', '--note', 'Since then', '--root', fresh, '--now', NOW])).code, 0);
    assert.equal((await almanac(['build', '--root', fresh, '--now', NOW])).code, 0);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), await snapshot(path.join(fresh, 'dist')));
  });

  it('writes each latest version as the same file as its guide on a site larger than a render batch, on both thread counts', async () => {
    const root = await tempSite();
    const slugs = Array.from({ length: 30 }, (_, i) => `guide-${String(i).padStart(2, '0')}`);
    await writeFiles(root, Object.fromEntries(slugs.flatMap((slug) => Object.entries(publishedGuide(slug, 4)))));
    for (const threads of ['1', '2', '2', '1']) {
      const run = await almanac(['build', '--root', root, '--now', NOW, '--threads', threads]);
      assert.equal(run.code, 0, run.stderr);
      for (const slug of slugs) {
        const dir = path.join(root, 'dist/guides', slug);
        const [index, ...versions] = await Promise.all(['index.html', 'v1.html', 'v2.html', 'v3.html', 'v4.html'].map((f) => stat(path.join(dir, f))));
        assert.ok(index);
        const latest = versions.at(-1)!;
        assert.equal(index.ino, latest.ino, `--threads ${threads}: ${slug}/v4.html is the same file as ${slug}/index.html`);
        assert.equal(index.nlink, 2, `--threads ${threads}: ${slug}/index.html has exactly two names`);
        const older = new Set(versions.slice(0, -1).map((v) => v.ino));
        assert.equal(older.size, 3, `--threads ${threads}: ${slug}'s older versions are files of their own`);
        assert.ok(!older.has(index.ino));
        for (const v of versions.slice(0, -1)) assert.equal(v.nlink, 1);
      }
    }
  });

  it('succeeds with the new output in place when the record of what it was made from cannot be written', async () => {
    const root = await tempSite({ sample: true });
    const later = () => Date.now() + 60_000;
    await buildSite({ root, outDir: 'dist', now: Date.parse(NOW), cache: { clock: later } });
    // A folder where the record's temporary file goes: writing the record fails, after the swap.
    const blocker = path.join(root, `.dist.made-from.tmp-${process.pid}`);
    await mkdir(path.join(blocker, 'inside'), { recursive: true });
    await writeFiles(root, { 'templates/site/pages/not-found.hbs': '<h1>Not here</h1>\n' });
    await buildSite({ root, outDir: 'dist', now: Date.parse(NOW), cache: { clock: later } });
    assert.match(await readFile(path.join(root, 'dist/404.html'), 'utf8'), /Not here/);
    assert.ok((await stat(path.join(root, '.dist.spare'))).isDirectory(), 'the spare is kept');
    await rm(blocker, { recursive: true });
  });

  it('two builds at once both succeed, one after the other, and leave a complete dist/', async () => {
    const root = await tempSite({ sample: true });
    // Two processes: in one process commands run one at a time.
    const [a, b] = await Promise.all([almanacChild(['build', '--root', root, '--now', NOW]), almanacChild(['build', '--root', root, '--now', NOW])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const single = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', single, '--now', NOW])).code, 0);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), await snapshot(path.join(single, 'dist')));
    assert.deepEqual((await readdir(root)).filter((name) => !RECORDS.has(name)).sort(), ['.almanac', '.dist.spare', 'content', 'dist'], 'no lock or temporary folder left');
  });

  it('reuses what it parsed and rendered while files are unchanged, and sees every edit', async () => {
    const root = await tempSite({ sample: true });
    const fresh = await tempSite({ sample: true });
    for (let i = 0; i < 2; i++) assert.equal((await buildIn(root)).code, 0);
    const cache = path.join(root, '.almanac/cache');
    // figures/: the sample guide's figure in its sizes and the social cards (see figures-build.unit.test.ts); search/: one file per search shard.
    assert.deepEqual((await readdir(cache)).sort(), ['content.bin', 'figures', 'search', 'search.bin', 'templates.bin']);
    assert.equal((await buildIn(fresh)).code, 0);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), await snapshot(path.join(fresh, 'dist')), 'a cached build equals a fresh one');

    // An edit that keeps the file's size: only its times tell the cache it changed.
    const item = path.join(root, 'content/news/2026-04/muse-spark-launch.md');
    const text = await readFile(item, 'utf8');
    assert.match(text, /score: 9/);
    await writeFiles(root, { 'content/news/2026-04/muse-spark-launch.md': text.replaceAll('Muse Spark', 'Muse Spork').replace('score: 9', 'score: 8') });
    assert.equal((await buildIn(root)).code, 0);
    const news = await readFile(path.join(root, 'dist/news/index.html'), 'utf8');
    assert.match(news, /Muse Spork/);
    // The summary is rendered anew, not taken from the cache with the old item.
    assert.match(news, /<p>Meta has launched Muse Spork, the first model/);
    assert.doesNotMatch(news, /Meta has launched Muse Spark/);

    // A news item removed: nothing is parsed afresh, yet the stories (kept between builds) are the others.
    const removed = path.join(root, 'content/news/2026-04/muse-spark-launch.md');
    const removedText = await readFile(removed, 'utf8');
    await rm(removed);
    assert.equal((await buildIn(root)).code, 0);
    const without = await tempSite({ sample: true });
    await rm(path.join(without, 'content/news/2026-04/muse-spark-launch.md'));
    assert.equal((await buildIn(without)).code, 0);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), await snapshot(path.join(without, 'dist')), 'the same site as one built without that item');
    await writeFiles(root, { 'content/news/2026-04/muse-spark-launch.md': removedText });

    // A guide is cached as a whole (working copy, manifest, versions): a change to any of its files is seen.
    const frozen = path.join(root, 'content/guides/llama-4/versions/v1.md');
    const frozenText = await readFile(frozen, 'utf8');
    await writeFiles(root, { 'content/guides/llama-4/versions/v1.md': frozenText.replace('Scout for cheap', 'Scout for thrift') });
    const tampered = await buildIn(root);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /^content\/guides\/llama-4\/versions\/v1\.md: expected the text frozen as v1 /m);
    await writeFiles(root, { 'content/guides/llama-4/versions/v1.md': frozenText, 'content/guides/meta/versions/v9.md': 'stray' });
    const stray = await buildIn(root);
    assert.equal(stray.code, 1);
    assert.match(stray.stderr, /^content\/guides\/meta\/versions\/v9\.md: expected a version listed in .*found a file that was never published$/m);
    assert.doesNotMatch(stray.stderr, /llama-4/);
    await rm(path.join(root, 'content/guides/meta/versions/v9.md'));
    assert.equal((await buildIn(root)).code, 0);

    // The configuration is cached too: a new one is seen, a new time zone re-reads the news, a mistake is reported.
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ title: 'Almanac Under Test', timezone: 'Asia/Kathmandu' }) });
    assert.equal((await buildIn(root)).code, 0);
    const home = await readFile(path.join(root, 'dist/index.html'), 'utf8');
    assert.match(home, /<title>Almanac Under Test<\/title>/);
    assert.match(await readFile(path.join(root, 'dist/news/index.html'), 'utf8'), /title="[^"]*GMT\+5:45"/);
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ timezone: 'Mars/Olympus_Mons' }) });
    const badConfig = await buildIn(root);
    assert.equal(badConfig.code, 1);
    assert.match(badConfig.stderr, /^almanac\.config\.json: timezone: expected an IANA time zone/m);
    await rm(path.join(root, 'almanac.config.json'));

    // Templates are compiled once and reused while their text is the same: an edit is seen, and so is a mistake.
    await writeFiles(root, { 'templates/site/partials/news-card.hbs': '<p class="edited-card">{{title}}</p>' });
    assert.equal((await buildIn(root)).code, 0);
    assert.match(await readFile(path.join(root, 'dist/news/index.html'), 'utf8'), /<p class="edited-card">[^<]*Muse Spork/);
    await writeFiles(root, { 'templates/site/partials/news-card.hbs': '<p>{{#if title}}</p>' });
    const broken = await buildIn(root);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^templates\/site\/partials\/news-card\.hbs:1: expected a valid Handlebars template/m);
    await rm(path.join(root, 'templates'), { recursive: true });

    // A damaged cache is ignored, not trusted.
    await writeFiles(root, { '.almanac/cache/content.bin': 'not a cache', '.almanac/cache/templates.bin': 'x' });
    const run = await buildIn(root);
    assert.equal(run.code, 0, run.stderr);
    assert.match(await readFile(path.join(root, 'dist/news/index.html'), 'utf8'), /Muse Spork/);
  });

  it('sees a news item edited within the settle window in its stories and topics, not only in the item', async () => {
    const root = await tempSite({ sample: true });
    const cold = await tempSite({ sample: true });
    assert.equal((await buildIn(root)).code, 0);
    const rel = 'content/news/2026-03/sam-3-1.md';
    for (const site of [root, cold]) {
      const text = await readFile(path.join(site, rel), 'utf8');
      assert.match(text, /topics: \[Meta, Computer vision\]/);
      await writeFiles(site, { [rel]: text.replace('topics: [Meta, Computer vision]', 'topics: [Meta, Robotics]') });
    }
    // The edit is recent to this build's clock: the item is read afresh but not kept.
    let notKept = false;
    const log = (line: string) => (notKept ||= line.startsWith('not kept') && line.endsWith(`${rel.slice('content/news/'.length)}: modified within 60000 ms of the build's start, it may change again within the same clock tick`));
    await buildSite({ root, outDir: 'dist', now: Date.parse(NOW), cache: { clock: Date.now, settleMs: 60_000, log } });
    assert.ok(notKept, 'the edited item was too recent to keep');
    assert.equal((await buildIn(cold)).code, 0);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), await snapshot(path.join(cold, 'dist')), 'the same site as a cold build');
  });

  it('keeps what it caches complete: summaries and published guide documents rendered, so a rebuild renders no Markdown', async () => {
    const root = await tempSite({ sample: true });
    await buildIn(root);
    const asked: number[] = [];
    const counting: MarkdownRenderer = {
      render: (work) => {
        asked.push(work.guides.length + work.summaries.length);
        return markdownHere.render(work);
      },
    };
    const site = await loadSite(root, { cache: true, markdown: counting });
    assert.deepEqual(asked, [], 'nothing rendered again');
    assert.ok(site.news.length > 10 && site.news.every((n) => typeof n.summaryHtml === 'string' && n.summaryHtml.startsWith('<p>')));
    const docs = site.guides.flatMap((g) => g.versions.map((v) => v.doc));
    assert.ok(docs.length > 0);
    for (const doc of docs) {
      assert.ok(doc.rendered, 'each published version is rendered');
      assert.equal(doc.rendered.takeaways.length, doc.front.takeaways.length);
      assert.equal(doc.rendered.faq.length, doc.front.faq.length);
    }
    // An edited item is parsed, and rendered, alone.
    await appendFile(path.join(root, 'content/news/2026-04/muse-spark-launch.md'), '\nOne *more* sentence.\n');
    const edited = await loadSite(root, { cache: true, markdown: counting });
    assert.deepEqual(asked, [1]);
    assert.match(edited.news.find((n) => n.id === '2026-04/muse-spark-launch')!.summaryHtml!, /One <em>more<\/em> sentence/);
  });

  it('logs, with ALMANAC_DEBUG=cache or --verbose, why it did not reuse what it cached', async () => {
    const root = await tempSite({ sample: true });
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    await buildIn(root, log);
    assert.ok(lines.includes('content: no cache to reuse (ENOENT)'), lines.join('\n'));
    const item = path.join(root, 'content/news/2026-04/muse-spark-launch.md');
    await appendFile(item, '\nOne more sentence.\n');
    lines.length = 0;
    await buildIn(root, log);
    assert.deepEqual(lines.filter((l) => l.startsWith('discarded')), [`discarded UTC|${item}: ${item} changed since it was cached`]);

    // From the CLI: the cache removed, so that what it logs does not depend on the files' age.
    const cacheDir = path.join(root, '.almanac/cache');
    await rm(cacheDir, { recursive: true });
    const debug = await almanac(['build', '--root', root, '--now', NOW], { env: { ALMANAC_DEBUG: 'cache' } });
    assert.equal(debug.code, 0, debug.stderr);
    assert.match(debug.stderr, /^almanac:cache content: no cache to reuse \(ENOENT\)$/m);
    await rm(cacheDir, { recursive: true });
    const quiet = await almanac(['build', '--root', root, '--now', NOW], { env: { ALMANAC_DEBUG: '' } });
    assert.equal(quiet.stderr, '');
    await rm(cacheDir, { recursive: true });
    const verbose = await almanac(['build', '--root', root, '--now', NOW, '--verbose'], { env: { ALMANAC_DEBUG: '' } });
    assert.match(verbose.stderr, /^almanac:cache content: no cache to reuse \(ENOENT\)$/m);
  });

  it('renders the same bytes on two threads as on one, and a template error on either leaves dist/ alone', async () => {
    const one = await tempSite({ sample: true });
    const two = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', one, '--now', NOW, '--threads', '1'])).code, 0);
    const run = await almanac(['build', '--root', two, '--now', NOW, '--threads', '2']);
    assert.equal(run.code, 0, run.stderr);
    const built = await snapshot(path.join(two, 'dist'));
    assert.deepEqual(built, await snapshot(path.join(one, 'dist')));

    // Every guide page fails to render, on whichever thread it is.
    await writeFiles(two, { 'templates/site/pages/guide.hbs': '<h1>{{guide.title}}</h1>{{> no-such-partial}}' });
    const failed = await almanac(['build', '--root', two, '--now', NOW, '--threads', '2']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^templates\/site\/pages\/guide\.hbs: expected a template that renders, found The partial no-such-partial could not be found$/m);
    assert.doesNotMatch(failed.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(await snapshot(path.join(two, 'dist')), built);
    assert.equal((await almanac(['build', '--root', two, '--threads', '3'])).code, 2, 'wrong usage');
  });

  it("keeps a render thread's error whole across the thread: its file, its code, its causes, a content error's problems", async () => {
    // The worker side throws what a failed write throws; the main side gets it through postMessage.
    const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const module = JSON.stringify(new URL('../src/site/thread-error.ts', import.meta.url).href);
    const problems = JSON.stringify(new URL('../src/content/problems.ts', import.meta.url).href);
    const worker = new Worker(
      `const { parentPort } = await import('node:worker_threads'); (await import(${api})).register();
       const { sendableError } = await import(${module}); const { ContentError } = await import(${problems});
       const denied = Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES', path: '/site/.dist.spare/a.html', syscall: 'open', errno: -13 });
       parentPort.postMessage([
         sendableError(new Error('could not write a page', { cause: denied })),
         sendableError(denied),
         sendableError(new ContentError([{ file: 'templates/site/pages/guide.hbs', expected: 'a template that renders', found: 'an error' }])),
       ]);`,
      { eval: true },
    );
    const [[wrapped, plain, content]] = (await once(worker, 'message')) as [SentError[]];
    await worker.terminate();
    const outer = receivedError(wrapped!);
    assert.equal(outer.message, 'could not write a page');
    assert.ok(outer.cause instanceof Error);
    assert.equal(outer.cause.message, 'EACCES: permission denied, open');
    assert.equal((outer.cause as NodeJS.ErrnoException).path, '/site/.dist.spare/a.html');
    const direct = receivedError(plain!) as NodeJS.ErrnoException;
    assert.deepEqual([direct.code, direct.path, direct.syscall, direct.errno], ['EACCES', '/site/.dist.spare/a.html', 'open', -13]);
    assert.match(direct.stack ?? '', /EACCES/);
    const failed = receivedError(content!);
    assert.ok(failed instanceof ContentError);
    assert.deepEqual(failed.problems, [{ file: 'templates/site/pages/guide.hbs', expected: 'a template that renders', found: 'an error' }]);
  });

  it('writes to --out, relative to the root', async () => {
    const root = await tempSite({ sample: true });
    const run = await almanac(['build', '--root', root, '--now', NOW, '--out', 'public']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /→ .*public\/$/m);
    assert.ok((await readFile(path.join(root, 'public/index.html'), 'utf8')).includes('Call Me Almanac'));
  });

  it('a folder with only content/ builds with the built-in templates', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/guides/good/guide.md': GOOD_GUIDE, 'content/news/good.md': GOOD_NEWS });
    assert.equal((await almanac(['guide', 'publish', 'good', '--note', 'First', '--root', root, '--now', NOW])).code, 0);
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    const html = await readFile(path.join(root, 'dist/guides/good/index.html'), 'utf8');
    assert.match(html, /<h1 id="guide-title">A Good Guide<\/h1>/);
    assert.ok((await readFile(path.join(root, 'dist/assets/style.css'), 'utf8')).length > 1000);
  });

  it('an empty site builds a home page that says so', async () => {
    const root = await tempSite();
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(await readFile(path.join(root, 'dist/index.html'), 'utf8'), /No guides are published yet\./);
  });

  it("a site's template replaces one built-in file and keeps the rest", async () => {
    const root = await tempSite({ sample: true });
    await writeFiles(root, {
      // What is not the card's own data reads as nothing, a built-in prototype's names included.
      'templates/site/partials/news-card.hbs':
        '<article class="card news-card custom-card"><h{{level}}>{{title}}</h{{level}}><p>{{source}} — {{score}}/10</p>' +
        '<i>{{nothing}}{{constructor}}{{title.constructor}}{{toString}}{{__proto__}}{{age.constructor.name}}</i></article>\n',
      'templates/assets/extra.css': 'body { outline: 0; }\n',
      'almanac.config.json': JSON.stringify({ title: 'The Tidal Letter', baseUrl: 'https://letters.example.org/' }),
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    const html = await readFile(path.join(root, 'dist/guides/meta/index.html'), 'utf8');
    assert.equal(html.match(/custom-card/g)?.length, 6, 'the override renders every card');
    assert.match(html, /<p>The Verge — 7\/10<\/p><i><\/i>/);
    assert.match(html, /class="stay-current"/, 'other partials are still the built-in ones');
    assert.match(html, /The Tidal Letter pairs the week's AI news/);
    assert.match(html, /<link rel="canonical" href="https:\/\/letters\.example\.org\/guides\/meta\/">/);
    assert.ok(await readFile(path.join(root, 'dist/assets/extra.css'), 'utf8'));
  });

  it('check renders everything in memory, writes nothing, and lists problems like build', async () => {
    const root = await tempSite({ sample: true });
    // Settings an issue needs to go out: without them check fails (see cli-check.test.ts).
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', from: 'Letters <letters@example.org>' }) });
    const ok = await almanac(['check', '--root', root, '--now', NOW]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^No problems: 5 published guides, 19 news items, \d+ pages \(\d+ files\) rendered, 0 built issues checked\.$/m);
    assert.deepEqual((await readdir(root)).sort(), ['almanac.config.json', 'content'], 'nothing written');
    await writeFiles(root, { 'content/guides/draft/guide.md': GOOD_GUIDE });
    assert.match((await almanac(['check', '--root', root, '--now', NOW])).stdout, /note: content\/guides\/draft\/guide\.md is not published yet/);
    await writeFiles(root, { 'content/news/bad.md': GOOD_NEWS.replace('score: 5', 'score: 50') });
    const bad = await almanac(['check', '--root', root, '--now', NOW]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^content\/news\/bad\.md: score: expected a whole number from 1 to 10, found number 50$/m);
  });
});

/** A guide folder with `count` published versions (each a section longer), the working copy the latest. */
function publishedGuide(slug: string, count: number): Record<string, string> {
  const files: Record<string, string> = {};
  const versions = [];
  let text = `---\ntitle: Guide ${slug}\nlevel: beginner\ntopics: [Testing]\ntldr: A short summary.\ntakeaways: [One thing]\n---\n\n## Start\n\nBody.\n`;
  for (let v = 1; v <= count; v++) {
    text += `\n## Update ${v}\n\nWhat changed in v${v}.\n`;
    files[`content/guides/${slug}/versions/v${v}.md`] = text;
    versions.push({ version: v, published: `2026-0${v}-01T09:00:00Z`, note: `Update ${v}`, sha256: createHash('sha256').update(text).digest('hex') });
  }
  files[`content/guides/${slug}/guide.md`] = text;
  files[`content/guides/${slug}/versions.json`] = `${JSON.stringify({ versions }, null, 2)}\n`;
  return files;
}
