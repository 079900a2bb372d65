// The search records a build indexes (latest guide versions and the news, as plain text) and the
// cache that spares a rebuild from reindexing when no record changed. Pagefind itself runs in
// search-build.test.ts; here the indexer is a recording stand-in.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadSite } from '../src/content/load.ts';
import { htmlText } from '../src/render/html-text.ts';
import { sitePages } from '../src/site/pages.ts';
import { buildSearchIndex, SearchCache, searchRecords, textOf, type SearchIndexer, type SearchRecord } from '../src/site/search.ts';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const now = Date.parse(NOW);

async function recordsOf(root: string): Promise<SearchRecord[]> {
  const site = await loadSite(root);
  return searchRecords(sitePages(site, now).pages, site.config.language);
}

describe('search records of the sample site', () => {
  let records: SearchRecord[];
  before(async () => {
    records = await recordsOf(await tempSite({ sample: true }));
  });

  it('one per guide at its own URL, from its latest version only, and one per story', () => {
    const guides = records.filter((r) => r.meta.kind === 'Guide');
    assert.deepEqual(guides.map((r) => r.url).sort(), [
      'guides/llama-4/index.html',
      'guides/meta-ai-infrastructure/index.html',
      'guides/meta/index.html',
      'guides/muse-spark/index.html',
      'guides/open-vs-closed-weights/index.html',
    ]);
    // "Fireworks" is in llama-4's v2 only; v1's page is not a record of its own.
    const llama = guides.find((r) => r.url === 'guides/llama-4/index.html')!;
    assert.match(llama.content, /Fireworks/);
    assert.ok(!records.some((r) => /v\d+\.html$/.test(r.url)));
    const news = records.filter((r) => r.meta.kind === 'News');
    assert.equal(news.length, 18, 'nineteen items, one story told twice');
    assert.ok(news.every((r) => /^https:\/\//.test(r.url) && r.filters.kind[0] === 'News'));
  });

  it('a guide record holds its title, TL;DR, takeaways, body and FAQ as text, with its level', () => {
    const meta = records.find((r) => r.url === 'guides/meta/index.html')!;
    assert.equal(meta.meta.title, 'Meta AI: The Open-Weights Giant Eyeing Superintelligence');
    assert.equal(meta.meta.level, 'Beginner');
    assert.deepEqual(meta.filters, { kind: ['Guide'], level: ['Beginner'] });
    assert.equal(meta.language, 'en');
    const lines = meta.content.split('\n');
    assert.equal(lines[0], meta.meta.title);
    assert.match(lines[1]!, /^Meta built its AI reputation by giving powerful models away for free/);
    assert.doesNotMatch(meta.content, /<\/?[a-z][^>]*>/i, 'no markup left');
  });
});

describe('hostile guide text', () => {
  it('raw HTML in a guide becomes text: scripts and styles vanish, tags go, entities are decoded', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/guides/hostile/guide.md': [
        '---',
        'title: "Tags <b>in</b> a title"',
        'level: advanced',
        'topics: [Safety]',
        'tldr: "A < B & C"',
        'takeaways: ["<img src=x onerror=alert(1)>Take **this**"]',
        'faq:',
        '  - { q: "Why <script>?", a: "Because <em>reasons</em> &amp; more" }',
        '---',
        '',
        '## Body',
        '',
        'Before <script>window.bad = "scriptword"</script> after.',
        '',
        '<style>.x { color: red }</style>',
        '',
        '<div onclick="alert(2)">Clickable <a href="javascript:alert(3)">link</a></div>',
        '',
        'Five &lt; six, `<code>` and a [link](https://example.org).',
        '',
      ].join('\n'),
    });
    const publish = await almanac(['guide', 'publish', 'hostile', '--note', 'First', '--root', root, '--now', NOW]);
    assert.equal(publish.code, 0, publish.stderr);
    const [record] = await recordsOf(root);
    assert.ok(record);
    // Front matter fields are text already: kept exactly as written (Pagefind stores text, escaped).
    assert.equal(record.meta.title, 'Tags <b>in</b> a title');
    assert.match(record.content, /^A < B & C$/m);
    assert.match(record.content, /^Take this$/m);
    assert.match(record.content, /^Why <script>\?$/m);
    assert.match(record.content, /^Because reasons & more$/m);
    assert.match(record.content, /Before\s+after\./);
    assert.match(record.content, /Clickable link/);
    assert.match(record.content, /Five < six, <code> and a link\./);
    for (const gone of ['scriptword', 'color: red', 'onclick', 'onerror', 'javascript:', 'href']) assert.ok(!record.content.includes(gone), gone);
  });

  it('a lone surrogate (half an emoji) in any field becomes U+FFFD, which Pagefind can read', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/guides/halves/guide.md': '---\ntitle: "Half \\uD83D emoji"\nlevel: beginner\ntopics: [X]\ntldr: "T \\uDE00"\ntakeaways: ["K"]\n---\n\nBody 😀 whole.\n',
    });
    assert.equal((await almanac(['guide', 'publish', 'halves', '--note', 'First', '--root', root, '--now', NOW])).code, 0);
    const [record] = await recordsOf(root);
    assert.equal(record!.meta.title, 'Half \uFFFD emoji');
    assert.match(record!.content, /^T \uFFFD$/m);
    assert.match(record!.content, /Body 😀 whole\./);
    assert.ok(!/[\uD800-\uDFFF]/.test(record!.content.replace(/😀/g, '')));
  });

  it('any text escaped as HTML comes back as the same text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        const expected = s.replace(/[ \t]+/g, ' ').replace(/\s*\n\s*/g, '\n').trim();
        assert.equal(textOf(`<p>${htmlText(s)}</p>`), expected);
      }),
      { numRuns: Number(process.env.PROPS_RUNS ?? 200) },
    );
  });
});

describe('the search index cache', () => {
  /** An indexer that writes one file per record and counts its runs. */
  function recording(): SearchIndexer & { runs: SearchRecord[][] } {
    const runs: SearchRecord[][] = [];
    return {
      name: 'recording',
      runs,
      async index(records) {
        runs.push([...records]);
        return new Map(records.map((r, i) => [`fragment/${i}`, Buffer.from(r.content)]));
      },
    };
  }
  const record = (url: string, content: string): SearchRecord => ({
    url,
    content,
    language: 'en',
    meta: { title: url, kind: 'Guide', level: 'Beginner' },
    filters: { kind: ['Guide'], level: ['Beginner'] },
  });

  it('reuses the last index while the records are the same, and reindexes on any change', async () => {
    const root = await tempSite();
    const indexer = recording();
    const first = [record('guides/a/index.html', 'alpha'), record('guides/b/index.html', 'beta')];
    const built = await buildSearchIndex(SearchCache.open(root), first, indexer);
    assert.equal(built.reused, false);
    assert.deepEqual([...built.files.keys()], ['pagefind/fragment/0', 'pagefind/fragment/1']);

    const again = await buildSearchIndex(SearchCache.open(root), first.map((r) => ({ ...r })), indexer);
    assert.equal(again.reused, true);
    assert.equal(indexer.runs.length, 1);
    assert.deepEqual(again.files, built.files);

    // A guide edited, a guide removed, a story added: each is a new index.
    const edited = [record('guides/a/index.html', 'alpha two'), first[1]!];
    const removed = [first[0]!];
    const added = [...first, { ...record('https://example.org/story', 'news'), meta: { title: 'Story', kind: 'News' as const }, filters: { kind: ['News'] } }];
    for (const records of [edited, removed, added]) {
      const result = await buildSearchIndex(SearchCache.open(root), records, indexer);
      assert.equal(result.reused, false);
      assert.deepEqual(indexer.runs.at(-1), records);
      assert.equal(result.files.size, records.length);
    }
    assert.equal(indexer.runs.length, 4);
  });

  it('reuses the last index without its records when the site was made from the same inputs, and only then', async () => {
    const root = await tempSite();
    const indexer = recording();
    const records = [record('guides/a/index.html', 'alpha'), record('guides/b/index.html', 'beta')];
    const built = await buildSearchIndex(SearchCache.open(root), records, indexer, undefined, 'inputs-1');
    const same = SearchCache.open(root).reuse(`recording\0inputs-1`);
    assert.ok(same, 'the same inputs and indexer');
    assert.deepEqual(same.files, built.files);
    assert.equal(same.records, 2);
    assert.equal(same.reused, true);
    for (const other of ['recording\0inputs-2', 'pagefind\0inputs-1', undefined]) assert.equal(SearchCache.open(root).reuse(other), undefined, String(other));
    // Indexed without knowing its inputs (a file changed moments ago): never reused by inputs.
    await buildSearchIndex(SearchCache.open(root), [record('guides/a/index.html', 'alpha two')], indexer);
    assert.equal(SearchCache.open(root).reuse('recording\0inputs-1'), undefined);
    assert.equal(indexer.runs.length, 2);
  });

  it('keeps the text of each piece of guide HTML by its hash, and reads changed HTML afresh', async () => {
    const root = await tempSite();
    const first = SearchCache.open(root);
    const body = '<h2 id="a">A</h2>\n<p>One &amp; two</p>\n';
    assert.equal(first.text(body), 'A\nOne & two');
    await buildSearchIndex(first, [record('guides/a/index.html', 'alpha')], recording());
    const second = SearchCache.open(root);
    assert.equal(second.text(body), 'A\nOne & two');
    assert.equal(second.text(body.replace('two', 'three')), 'A\nOne & three');
  });

  it('a damaged cache file only means indexing again', async () => {
    const root = await tempSite();
    const indexer = recording();
    await mkdir(path.join(root, '.almanac/cache'), { recursive: true });
    await writeFile(path.join(root, '.almanac/cache/search.bin'), 'not a cache');
    const result = await buildSearchIndex(SearchCache.open(root), [record('guides/a/index.html', 'alpha')], indexer);
    assert.equal(result.reused, false);
    assert.equal(indexer.runs.length, 1);
    assert.equal((await buildSearchIndex(SearchCache.open(root), [record('guides/a/index.html', 'alpha')], indexer)).reused, true);
  });
});
