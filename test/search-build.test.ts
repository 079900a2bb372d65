// `almanac build` writes a Pagefind index that stays right as the site changes: a guide published
// anew, a guide removed, a news item added. The index is read back from its fragments (one per
// record: gzip, a signature, then JSON), so these tests run the real Pagefind but need no browser.
import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import { NOW, tempSite } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

interface Fragment {
  url: string;
  content: string;
  meta: Record<string, string>;
}

const SIGNATURE = 'pagefind_dcd';

/** Every record in the built index, by URL. */
async function indexed(root: string): Promise<Map<string, Fragment>> {
  const dir = path.join(root, 'dist/pagefind/fragment');
  const out = new Map<string, Fragment>();
  for (const name of await readdir(dir)) {
    const bytes = gunzipSync(await readFile(path.join(dir, name)));
    assert.equal(bytes.subarray(0, SIGNATURE.length).toString(), SIGNATURE);
    const fragment = JSON.parse(bytes.subarray(SIGNATURE.length).toString('utf8')) as Fragment;
    assert.ok(!out.has(fragment.url), `one fragment per URL: ${fragment.url}`);
    out.set(fragment.url, fragment);
  }
  return out;
}

async function build(root: string): Promise<string> {
  const run = await almanac(['build', '--root', root, '--now', NOW]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout;
}

describe('the search index of a build', () => {
  let root: string;
  before(async () => {
    root = await tempSite({ sample: true });
  });

  it('holds the latest version of each guide and every story, and its script', async () => {
    const out = await build(root);
    assert.match(out, /^Indexed 23 guides and stories for search in [\d.]+ s → .*\/pagefind\/$/m);
    const index = await indexed(root);
    assert.equal(index.size, 23);
    const llama = index.get('guides/llama-4/index.html')!;
    assert.equal(llama.meta.title, 'Llama 4: Scout, Maverick and the Still-Training Behemoth');
    assert.equal(llama.meta.level, 'Intermediate');
    assert.match(llama.content, /Fireworks/);
    assert.ok(![...index.keys()].some((url) => url.endsWith('v1.html')));
    assert.match(index.get('guides/muse-spark/index.html')!.content, /healthbench/i);
    const files = await readdir(path.join(root, 'dist/pagefind'));
    for (const file of ['pagefind.js', 'pagefind-worker.js', 'pagefind-entry.json']) assert.ok(files.includes(file), file);
  });

  it('a rebuild with nothing changed reuses the index, byte for byte', async () => {
    const before = await readFile(path.join(root, 'dist/pagefind/pagefind-entry.json'));
    const out = await build(root);
    assert.match(out, /^Search index of 23 guides and stories unchanged, reused/m);
    assert.deepEqual(await readFile(path.join(root, 'dist/pagefind/pagefind-entry.json')), before);
  });

  it('a guide published anew is found by its new words, a removed guide and its old words are gone, a new story is found', async () => {
    const guide = path.join(root, 'content/guides/meta/guide.md');
    await writeFile(guide, (await readFile(guide, 'utf8')).replace(/\n## /, '\nA quokkaphrase sentence added in the second version.\n\n## '));
    const publish = await almanac(['guide', 'publish', 'meta', '--note', 'Second', '--root', root, '--now', NOW]);
    assert.equal(publish.code, 0, publish.stderr);
    await rm(path.join(root, 'content/guides/muse-spark'), { recursive: true });
    await writeFile(
      path.join(root, 'content/news/zz-arrived.md'),
      '---\ntitle: "Arrived today: the wombatcase story"\nurl: https://example.org/wombat\nsource: Example\npublished: 2026-06-19\nscore: 5\n---\nIt arrived.\n',
    );
    const out = await build(root);
    assert.match(out, /^Indexed 23 guides and stories for search/m);
    const index = await indexed(root);
    assert.equal(index.size, 23, 'one guide fewer, one story more; no stale fragment left');
    assert.match(index.get('guides/meta/index.html')!.content, /quokkaphrase/);
    assert.equal(index.get('guides/muse-spark/index.html'), undefined);
    assert.ok(![...index.values()].some((f) => /healthbench/i.test(f.content)), 'words only muse-spark had are gone');
    assert.equal(index.get('https://example.org/wombat')?.meta.title, 'Arrived today: the wombatcase story');
  });
});
