// `almanac build` writes a Pagefind index in shards that stays right as the site changes: a guide
// published anew, a guide removed, a news item added; a new story changes its month's shard only
// (and the words index, whose record of that shard gains the story's words).
// The index is read back from its fragments (gzip, a signature, then JSON), so these tests run the
// real Pagefind but need no browser.
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

interface Manifest {
  words: string;
  shards: string[];
}

async function manifest(root: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(root, 'dist/pagefind/shards.json'), 'utf8')) as Manifest;
}

/** Every record in the built index, in every shard the manifest lists, by URL. */
async function indexed(root: string, dirs?: string[]): Promise<Map<string, Fragment & { shard: string }>> {
  const shards = dirs ?? (await manifest(root)).shards;
  const out = new Map<string, Fragment & { shard: string }>();
  for (const shard of shards) {
    const dir = path.join(root, 'dist/pagefind', shard, 'fragment');
    const names = await readdir(dir).catch(() => []);
    for (const name of names) {
      const bytes = gunzipSync(await readFile(path.join(dir, name)));
      assert.equal(bytes.subarray(0, SIGNATURE.length).toString(), SIGNATURE);
      const json = JSON.parse(bytes.subarray(SIGNATURE.length).toString('utf8')) as Fragment | Record<string, Fragment>;
      // A file of small records' fragments bundled together holds them by their own names.
      const fragments = name.includes('_group_') ? Object.values(json as Record<string, Fragment>) : [json as Fragment];
      for (const fragment of fragments) {
        assert.ok(!out.has(fragment.url), `one fragment per URL: ${fragment.url}`);
        out.set(fragment.url, { ...fragment, shard });
      }
    }
  }
  return out;
}

/** Every file below dist/pagefind/, by its path there. */
async function searchFiles(root: string): Promise<Map<string, Buffer>> {
  const dir = path.join(root, 'dist/pagefind');
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, file).split(path.sep).join('/'), await readFile(file));
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

  it('holds the latest version of each guide and every story, in shards by month, with the script in the words index', async () => {
    const out = await build(root);
    assert.match(out, /^Indexed 23 records in 5 of 5 shards \(guides, news-2026-06, news-2026-05, news-2026-04, news-2026-03\) in [\d.]+ s → .*\/pagefind\/$/m);
    assert.deepEqual(await manifest(root), { words: 'words/', shards: ['guides/', 'news-2026-06/', 'news-2026-05/', 'news-2026-04/', 'news-2026-03/'] });
    const index = await indexed(root);
    assert.equal(index.size, 23);
    const llama = index.get('guides/llama-4/index.html')!;
    assert.equal(llama.shard, 'guides/');
    assert.equal(llama.meta.title, 'Llama 4: Scout, Maverick and the Still-Training Behemoth');
    assert.equal(llama.meta.level, 'Intermediate');
    assert.match(llama.content, /Fireworks/);
    assert.ok(![...index.keys()].some((url) => url.endsWith('v1.html')));
    assert.match(index.get('guides/muse-spark/index.html')!.content, /healthbench/i);
    assert.equal(index.get('https://about.fb.com/news/2026/03/meta-acquires-moltbook/')?.shard, 'news-2026-03/');
    const words = await readdir(path.join(root, 'dist/pagefind/words'));
    for (const file of ['pagefind.js', 'pagefind-worker.js', 'pagefind-entry.json', 'wasm.en.pagefind']) assert.ok(words.includes(file), file);
    // A shard needs its index and WebAssembly, not Pagefind's scripts again; of the WebAssembly, only
    // its language's (the one for text of no known language is never loaded for an English site).
    for (const shard of ['words', 'guides', 'news-2026-03']) {
      const files = await readdir(path.join(root, 'dist/pagefind', shard));
      for (const file of ['pagefind-entry.json', 'wasm.en.pagefind']) assert.ok(files.includes(file), `${shard}: ${file}`);
      assert.deepEqual(files.filter((f) => f.endsWith('.pagefind')), ['wasm.en.pagefind'], shard);
      if (shard !== 'words') assert.deepEqual(files.filter((f) => /\.(js|css)$/.test(f)), []);
    }
    // The words index has one record per shard, of the words of that shard's records.
    const lexicon = await indexed(root, ['words/']);
    assert.deepEqual([...lexicon.keys()].sort(), ['guides', 'news-2026-03', 'news-2026-04', 'news-2026-05', 'news-2026-06']);
    assert.match(lexicon.get('guides')!.content, /\bFireworks\b/);
    assert.doesNotMatch(lexicon.get('news-2026-03')!.content, /\bFireworks\b/);
    assert.match(lexicon.get('news-2026-03')!.content, /\bMoltbook\b/);
  });

  it('a rebuild with nothing changed reuses every shard, byte for byte', async () => {
    const before = await searchFiles(root);
    const out = await build(root);
    assert.match(out, /^Search index of 23 guides and stories unchanged \(5 shards\), reused/m);
    assert.deepEqual(await searchFiles(root), before);
  });

  it('a new story changes only its month\'s shard: every other shard keeps its bytes', async () => {
    const before = await searchFiles(root);
    await writeFile(
      path.join(root, 'content/news/zz-may.md'),
      '---\ntitle: "A late May story about numbats"\nurl: https://example.org/numbat\nsource: Example\npublished: 2026-05-20T10:00:00Z\nscore: 4\n---\nNumbats.\n',
    );
    const out = await build(root);
    assert.match(out, /^Indexed \d+ records in 1 of 5 shards \(news-2026-05\) in [\d.]+ s/m);
    const after = await searchFiles(root);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((file) => !before.get(file)?.equals(after.get(file) ?? Buffer.alloc(0)));
    assert.ok(changed.length > 0);
    assert.ok(changed.some((file) => file.startsWith('news-2026-05/')));
    const others = changed.filter((file) => !file.startsWith('news-2026-05/') && !file.startsWith('words/'));
    assert.deepEqual(others, [], 'no file of another shard changed, nor the manifest');
    assert.equal((await indexed(root)).get('https://example.org/numbat')?.shard, 'news-2026-05/');
    assert.match((await indexed(root, ['words/'])).get('news-2026-05')!.content, /\bnumbats\b/);
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
    assert.match(out, /^Indexed \d+ records in 2 of 5 shards \(guides, news-2026-06\) in [\d.]+ s/m);
    const index = await indexed(root);
    assert.equal(index.size, 24, 'one guide fewer, one story more; no stale fragment left');
    assert.match(index.get('guides/meta/index.html')!.content, /quokkaphrase/);
    assert.equal(index.get('guides/muse-spark/index.html'), undefined);
    assert.ok(![...index.values()].some((f) => /healthbench/i.test(f.content)), 'words only muse-spark had are gone');
    assert.equal(index.get('https://example.org/wombat')?.meta.title, 'Arrived today: the wombatcase story');
    assert.equal(index.get('https://example.org/wombat')?.shard, 'news-2026-06/');
  });
});
