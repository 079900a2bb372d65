// The build cache on its own: what it keeps, what it notices, and its stamp checks shared with a
// second thread (a real worker, as the build's render helper is).
import assert from 'node:assert/strict';
import { statSync, utimesSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, before } from 'node:test';
import { Worker } from 'node:worker_threads';
import v8 from 'node:v8';
import fc from 'fast-check';
import { CACHE_DIR, FileCache, fingerprintOf } from '../src/cache/file-cache.ts';
import { checkFromFirst, type StampChecker } from '../src/cache/stored-index.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';

const FILES = 40;
const name = (i: number) => `content/news/item-${i}.md`;

/** A clock this far ahead sees every file just written as settled. */
const LATER = () => Date.now() + 60_000;

/** Sites of FILES files each, every file kept in a cache (saved). */
async function cachedSites(count: number): Promise<string[]> {
  const roots: string[] = [];
  for (let n = 0; n < count; n++) {
    const root = await tempSite();
    await writeFiles(root, Object.fromEntries(Array.from({ length: FILES }, (_, i) => [name(i), `text ${i}\n`])));
    roots.push(root);
  }
  for (const root of roots) {
    const cache = FileCache.open(root, 'test', { clock: LATER });
    for (let i = 0; i < FILES; i++) cache.keep(path.join(root, name(i)), { text: `value ${i}` });
    cache.save();
  }
  return roots;
}

/** The value reused for each file, or undefined where the cache saw a change. */
function reuseAll(root: string, cache: FileCache): (string | undefined)[] {
  return Array.from({ length: FILES }, (_, i) => cache.reuse<{ text: string }>(path.join(root, name(i)))?.text);
}

/** A StampChecker that hands its slots to `check` and keeps them for the test to look at. */
function checker(check: (index: Uint8Array, checks: Int32Array) => void): StampChecker & { slots?: Int32Array } {
  const self: StampChecker & { slots?: Int32Array } = {
    share: (index, entries) => {
      const checks = new Int32Array(new SharedArrayBuffer(4 * entries));
      self.slots = checks;
      check(index, checks);
      return checks;
    },
  };
  return self;
}

/**
 * Has a real second thread run checkFromFirst, and waits until it has: every entry is then checked
 * there, and this thread only reads what it found through the shared slots.
 */
const checkOnWorker = checker((index, checks) => {
  const done = new Int32Array(new SharedArrayBuffer(4));
  // The worker registers the TypeScript loader first, as the render helper does when run from src/.
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const module = JSON.stringify(new URL('../src/cache/stored-index.ts', import.meta.url).href);
  new Worker(
    `const { workerData } = await import('node:worker_threads'); (await import(${api})).register();
     const { checkFromFirst } = await import(${module}); checkFromFirst(workerData.index, workerData.checks);
     Atomics.store(workerData.done, 0, 1); Atomics.notify(workerData.done, 0);`,
    { eval: true, workerData: { index, checks, done } },
  ).unref();
  assert.equal(Atomics.wait(done, 0, 0, 20_000), 'ok', 'the worker checked the stamps');
  assert.ok(checks.every((found) => found !== 0), 'every entry checked by the worker');
});

describe('build cache', () => {
  let sites: string[];
  before(async () => {
    sites = await cachedSites(3);
  });

  it('reuses every value while its file is unchanged, and no value of a file that changed', async () => {
    const root = sites[0]!;
    const edited = 7;
    assert.deepEqual(reuseAll(root, FileCache.open(root, 'test')), Array.from({ length: FILES }, (_, i) => `value ${i}`));
    // Even written back with the same text, the file is seen as changed: its times moved.
    await writeFile(path.join(root, name(edited)), `text ${edited}\n`);
    const values = reuseAll(root, FileCache.open(root, 'test'));
    assert.deepEqual(values, Array.from({ length: FILES }, (_, i) => (i === edited ? undefined : `value ${i}`)));
  });

  it('takes the stamp checks another thread made, and checks what it left itself', async () => {
    const root = sites[1]!;
    const edited = [3, FILES - 2];
    for (const i of edited) await writeFile(path.join(root, name(i)), `changed ${i}, longer than before\n`);
    const expected = Array.from({ length: FILES }, (_, i) => (edited.includes(i) ? undefined : `value ${i}`));

    // The other thread checks everything before this one starts: only its findings are used.
    const other = checker(checkFromFirst);
    const all = FileCache.open(root, 'test', { stamps: other });
    assert.ok(other.slots && other.slots.every((found) => found !== 0), 'every entry checked by the other side');
    assert.deepEqual(reuseAll(root, all), expected);

    // The other thread checks nothing (it stopped at once): this one checks every entry.
    const none = FileCache.open(root, 'test', { stamps: checker(() => undefined) });
    assert.deepEqual(reuseAll(root, none), expected);

    // The same, the other side being a real worker thread.
    assert.deepEqual(reuseAll(root, FileCache.open(root, 'test', { stamps: checkOnWorker })), expected);
  });

  it("takes the code to have changed when a file of it is replaced with its modification time kept", async () => {
    const code = await mkdtemp(path.join(os.tmpdir(), 'almanac-code-'));
    await mkdir(path.join(code, 'cli'));
    const file = path.join(code, 'cli/main.js');
    // A time of whole seconds, which can be set again exactly.
    const time = 1_700_000_000;
    await writeFile(file, 'export const a = 1;\n');
    utimesSync(file, time, time);
    const before = fingerprintOf(code);
    assert.equal(fingerprintOf(code), before, 'the same code, the same fingerprint');
    // As `cp -p`, `rsync -t` or an unpacked archive leave it: new text, the old modification time.
    await writeFile(file, 'export const a = 2;\n');
    utimesSync(file, time, time);
    assert.equal(statSync(file).mtimeMs, time * 1000);
    assert.notEqual(fingerprintOf(code), before);
  });

  it('gives the same digest of its inputs for the same files, whether it reused every entry or kept them afresh in any order', async () => {
    const root = await tempSite();
    await writeFiles(root, Object.fromEntries(Array.from({ length: FILES }, (_, i) => [name(i), `text ${i}\n`])));
    const keys = Array.from({ length: FILES }, (_, i) => path.join(root, name(i)));
    let runs = 0;
    let digest: string | undefined;
    fc.assert(
      fc.property(fc.shuffledSubarray(keys, { minLength: FILES, maxLength: FILES }), (order) => {
        const cacheName = `digest-${runs++}`;
        const fresh = FileCache.open(root, cacheName, { clock: LATER });
        for (const key of order) fresh.keep(key, { text: key });
        const kept = fresh.inputsDigest();
        fresh.save();
        const again = FileCache.open(root, cacheName, { clock: LATER });
        assert.ok(keys.every((key) => again.reuse(key) !== undefined), 'every entry reused');
        assert.equal(again.inputsDigest(), kept, 'reused, as kept');
        digest ??= kept;
        assert.equal(kept, digest, 'the same whatever the order the entries were kept in');
      }),
      { numRuns: Number(process.env.PROPS_RUNS ?? 20) },
    );
    // Any input changed or gone, the digest is another.
    await writeFile(keys[5]!, 'text 5, edited\n');
    const edited = FileCache.open(root, 'digest-0', { clock: LATER });
    for (const key of keys) if (edited.reuse(key) === undefined) edited.keep(key, { text: 'edited' });
    const afterEdit = edited.inputsDigest();
    assert.ok(afterEdit !== undefined && afterEdit !== digest, 'an edited file changes the digest');
    edited.save();
    const fewer = FileCache.open(root, 'digest-0', { clock: LATER });
    for (const key of keys.slice(1)) fewer.reuse(key);
    const withoutOne = fewer.inputsDigest();
    assert.ok(withoutOne !== undefined && withoutOne !== afterEdit && withoutOne !== digest, 'a file no longer read changes the digest');
  });

  it('ignores a damaged file or one in an older format, and an index the other thread cannot read', async () => {
    const root = sites[2]!;
    const file = path.join(root, CACHE_DIR, 'test.bin');
    const good = await readFile(file);
    for (const damaged of [Buffer.from('not a cache'), Buffer.alloc(2), good.subarray(0, good.length >> 1), v8.serialize({ fingerprint: 'x', entries: {} })]) {
      await writeFile(file, damaged);
      assert.deepEqual(reuseAll(root, FileCache.open(root, 'test')), Array(FILES).fill(undefined));
    }
    await writeFile(file, good);
    const garbled = FileCache.open(root, 'test', { stamps: checker((_index, checks) => checkFromFirst(new Uint8Array([1, 2, 3]), checks)) });
    assert.deepEqual(reuseAll(root, garbled), Array.from({ length: FILES }, (_, i) => `value ${i}`));
  });

  it('logs why it discarded an entry, and why it did not keep a file modified within its settle window', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/a.md': 'a\n', 'content/b.md': 'b\n' });
    const [a, b] = [path.join(root, 'content/a.md'), path.join(root, 'content/b.md')];
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    // The clock is the files' own time: both were modified within the settle window.
    const now = Math.max(...[a, b].map((f) => statSync(f).mtimeMs));
    const early = FileCache.open(root, 'log', { clock: () => now, settleMs: 2_000, log });
    early.keep(a, 'A');
    assert.deepEqual(lines.slice(1), [`not kept ${a}: modified within 2000 ms of the build's start, it may change again within the same clock tick`]);
    // With no settle window, the same files are kept.
    lines.length = 0;
    const settled = FileCache.open(root, 'log', { clock: () => now, settleMs: -1, log });
    settled.keep(a, 'A');
    settled.keep(b, 'B');
    settled.save();
    assert.deepEqual(lines, [`log: no cache to reuse (ENOENT)`]);

    lines.length = 0;
    await writeFile(b, 'b, edited\n');
    const next = FileCache.open(root, 'log', { log });
    assert.deepEqual([next.reuse(a), next.reuse(b)], ['A', undefined]);
    assert.deepEqual(lines, [`discarded ${b}: ${b} changed since it was cached`]);
  });

  it('clears the temporary file of a build killed while saving, and leaves one a running build is writing', async () => {
    const [root] = await cachedSites(1);
    const dir = path.join(root!, CACHE_DIR);
    // A pid past the kernel's limit (2^22) is one no process has.
    const dead = path.join(dir, 'test.bin.tmp-4194999');
    const live = path.join(dir, `test.bin.tmp-${process.ppid}`);
    await writeFile(dead, 'half a cache');
    await writeFile(live, 'being written');
    const cache = FileCache.open(root!, 'test', { clock: LATER });
    cache.keep(path.join(root!, name(0)), { text: 'changed' });
    cache.save();
    assert.deepEqual((await readdir(dir)).sort(), ['test.bin', path.basename(live)]);
  });

  it('logs why it discarded the whole cache', async () => {
    const root = sites[0]!;
    const file = path.join(root, CACHE_DIR, 'test.bin');
    const good = await readFile(file);
    const lines: string[] = [];
    await writeFile(file, Buffer.from('not a cache'));
    FileCache.open(root, 'test', { log: (line) => lines.push(line) });
    // An index written by other code: same shape, another fingerprint.
    const length = good.readUInt32LE(0);
    const index = v8.deserialize(good.subarray(4, 4 + length)) as { fingerprint: string };
    const head = v8.serialize({ ...index, fingerprint: 'older code' });
    const other = Buffer.alloc(4);
    other.writeUInt32LE(head.length);
    await writeFile(file, Buffer.concat([other, head, good.subarray(4 + length)]));
    FileCache.open(root, 'test', { log: (line) => lines.push(line) });
    await writeFile(file, good);
    assert.deepEqual(lines, [
      'test: discarded the whole cache: its file is damaged or in another format',
      "test: discarded the whole cache: Almanac's code or its dependencies changed since it was written",
    ]);
  });
});
