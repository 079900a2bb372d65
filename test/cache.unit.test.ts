// The build cache on its own: what it keeps, what it notices, and its stamp checks shared with a
// second thread (a real worker, as the build's render helper is).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, before } from 'node:test';
import { Worker } from 'node:worker_threads';
import v8 from 'node:v8';
import { CACHE_DIR, FileCache, checkShared, type ShareChecks } from '../src/content/cache.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';

const FILES = 40;
const name = (i: number) => `content/news/item-${i}.md`;

/** Sites of FILES files each, every file kept in a cache (saved) once they are old enough to be kept. */
async function cachedSites(count: number): Promise<string[]> {
  const roots: string[] = [];
  for (let n = 0; n < count; n++) {
    const root = await tempSite();
    await writeFiles(root, Object.fromEntries(Array.from({ length: FILES }, (_, i) => [name(i), `text ${i}\n`])));
    roots.push(root);
  }
  // Files changed in the last two seconds are not kept (they may change again within one clock tick).
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  for (const root of roots) {
    const cache = FileCache.open(root, 'test');
    for (let i = 0; i < FILES; i++) cache.keep(path.join(root, name(i)), { text: `value ${i}` });
    cache.save();
  }
  return roots;
}

/** The value reused for each file, or undefined where the cache saw a change. */
function reuseAll(root: string, cache: FileCache): (string | undefined)[] {
  return Array.from({ length: FILES }, (_, i) => cache.reuse<{ text: string }>(path.join(root, name(i)))?.text);
}

/**
 * Has a real second thread run checkShared, and waits until it has: every entry is then checked
 * there, and this thread only reads what it found through the shared slots.
 */
const checkOnWorker: ShareChecks = (index, checks) => {
  const done = new Int32Array(new SharedArrayBuffer(4));
  // The worker registers the TypeScript loader first, as the render helper does when run from src/.
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const module = JSON.stringify(new URL('../src/content/cache.ts', import.meta.url).href);
  new Worker(
    `const { workerData } = await import('node:worker_threads'); (await import(${api})).register();
     const { checkShared } = await import(${module}); checkShared(workerData.index, workerData.checks);
     Atomics.store(workerData.done, 0, 1); Atomics.notify(workerData.done, 0);`,
    { eval: true, workerData: { index, checks, done } },
  ).unref();
  assert.equal(Atomics.wait(done, 0, 0, 20_000), 'ok', 'the worker checked the stamps');
  assert.ok(checks.every((found) => found !== 0), 'every entry checked by the worker');
};

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
    let shared: Int32Array | undefined;
    const all = FileCache.open(root, 'test', (index, checks) => {
      shared = checks;
      checkShared(index, checks);
    });
    assert.ok(shared && shared.every((found) => found !== 0), 'every entry checked by the other side');
    assert.deepEqual(reuseAll(root, all), expected);

    // The other thread checks nothing (it stopped at once): this one checks every entry.
    const none = FileCache.open(root, 'test', () => undefined);
    assert.deepEqual(reuseAll(root, none), expected);

    // The same, the other side being a real worker thread.
    assert.deepEqual(reuseAll(root, FileCache.open(root, 'test', checkOnWorker)), expected);
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
    const garbled = FileCache.open(root, 'test', (_index, checks) => checkShared(new Uint8Array([1, 2, 3]), checks));
    assert.deepEqual(reuseAll(root, garbled), Array.from({ length: FILES }, (_, i) => `value ${i}`));
  });
});
