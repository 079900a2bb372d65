// The search records a build indexes (latest guide versions and the news, as plain text), the shards
// they fall in (the guides; the news by month in the site's time zone), and the cache that spares a
// rebuild from reindexing the shards whose records did not change. Pagefind itself runs in
// search-build.test.ts; here the indexer is a recording stand-in.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadSite } from '../src/content/load.ts';
import { htmlText } from '../src/render/html-text.ts';
import { renderMarkdown } from '../src/render/markdown.ts';
import { sitePages } from '../src/site/pages.ts';
import { buildSite } from '../src/site/build.ts';
import { buildSearchIndex, fragmentFiles, pagefindIndexer, SearchCache, type SearchIndexer } from '../src/site/search-index.ts';
import { newsShardNames, searchRecords, searchShards, shardWords, wordRecords, type SearchRecord, type SearchShard } from '../src/site/search-records.ts';
import { renderedText, textOf } from '../src/site/search-text.ts';
import { calendarMonth } from '../src/words/dates.ts';
import { NOW, tempSite, until, writeFiles } from './helpers/cli.ts';
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

describe('the text of a guide without HTML of its own', () => {
  const guide = (body: string, takeaways: string[] = [], faq: string[] = []) => renderMarkdown({ guides: [{ body, takeaways, timeline: [], faq }], summaries: [] }).guides[0]!;

  it('says whether a guide may hold HTML of its own: a "<" in its body, takeaways or answers', () => {
    assert.equal(guide('## A heading\n\nPlain *text* with `code` and a [link](https://example.com "a > b").').rawHtml, false);
    // Headings: the renderer's own wrapper and link around each are not the guide's HTML.
    assert.equal(guide('## A heading\n\nText.\n\n### Another, `a > b`\n\nMore.').rawHtml, false);
    assert.equal(guide('## A heading <i>with a tag</i>\n\nText.').rawHtml, true);
    assert.equal(guide('A <b>bold</b> claim.').rawHtml, true);
    assert.equal(guide('<div>\nBoxed\n</div>\n').rawHtml, true);
    assert.equal(guide('Plain.', ['A <i>takeaway</i>']).rawHtml, true);
    assert.equal(guide('Plain.', [], ['An answer with <br> in it']).rawHtml, true);
  });

  it('is read off the HTML exactly as parsing it reads it, whatever the Markdown', () => {
    const piece = fc.constantFrom(
      'word', 'Ünïcödé', 'AT&T', '"quoted"', "it's", '6 > 4', '&amp;', '&copy;', '&#60;', '**bold**', '_em_', '`a &lt;b> c`',
      '[link](https://example.com/?a=1&b=2 "t > \'q\'")', 'https://bare.example.com', '\n\n### Sub & section\n\n',
      '\n\n', '\n', '\n\n- item\n- item\n\n', '\n\n1. one\n2. two\n\n', '\n\n## Heading\n\n', '\n\n> quote\n\n',
      '\n\n| a | b |\n|---|---|\n| c & d | e |\n\n', '\n\n```\ncode & "x" > y\n```\n\n', '\n\n---\n\n', '  \n', '![alt "q"](img.png)',
      '\n\n## It\'s 5 > 4 "q" & `x`\n\n', '\n\n### [A link](https://example.com "t > u") #\n\n',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(' ')), (body) => {
        const rendered = guide(body);
        assert.equal(rendered.rawHtml, false);
        assert.equal(renderedText(rendered.html), textOf(rendered.html));
      }),
      { numRuns: Number(process.env.PROPS_RUNS ?? 200) },
    );
  });
});

describe('search shards', () => {
  const at = (iso: string) => Date.parse(iso);

  it('a story falls in the month it was published in the site\'s time zone', () => {
    const instants = [at('2026-03-31T23:30:00Z'), at('2026-04-01T02:00:00Z'), at('2026-04-30T22:30:00Z')];
    assert.deepEqual(newsShardNames(instants, 'UTC'), ['news-2026-03', 'news-2026-04', 'news-2026-04']);
    // 01:30 and 04:00 on 1 April in Berlin (summer time); 00:30 on 1 May.
    assert.deepEqual(newsShardNames(instants, 'Europe/Berlin'), ['news-2026-04', 'news-2026-04', 'news-2026-05']);
    // 19:30 and 22:00 on 31 March in New York; 18:30 on 30 April.
    assert.deepEqual(newsShardNames(instants, 'America/New_York'), ['news-2026-03', 'news-2026-03', 'news-2026-04']);
  });

  it('years before the newest story\'s year are one shard each; the newest year, one per month', () => {
    const instants = [at('2024-06-01T12:00:00Z'), at('2025-12-31T23:30:00Z'), at('2025-01-15T12:00:00Z'), at('2026-02-02T12:00:00Z')];
    assert.deepEqual(newsShardNames(instants, 'UTC'), ['news-2024', 'news-2025', 'news-2025', 'news-2026-02']);
    // In Tokyo the second story is on 1 January 2026: in the newest year, in its month.
    assert.deepEqual(newsShardNames(instants, 'Asia/Tokyo'), ['news-2024', 'news-2026-01', 'news-2025', 'news-2026-02']);
    assert.deepEqual(newsShardNames([], 'UTC'), []);
  });

  it('odd years: year 1 and 999 are whole-year shards with four digits, year 10000 is newer than 9999', () => {
    const instants = ['0001-03-01T00:00:00Z', '0001-05-01T00:00:00Z', '0999-05-01T00:00:00Z', '1969-12-31T23:30:00Z', '9999-12-31T00:00:00Z', '+010000-01-01T04:30:00Z'].map(at);
    assert.deepEqual(newsShardNames(instants, 'UTC'), ['news-0001', 'news-0001', 'news-0999', 'news-1969', 'news-9999', 'news-10000-01']);
    assert.deepEqual(newsShardNames(instants.slice(0, 3), 'UTC'), ['news-0001', 'news-0001', 'news-0999-05']);
    assert.deepEqual(newsShardNames([at('0001-01-01T00:00:00Z') - 86_400_000 * 800, at('2026-01-01T00:00:00Z')], 'UTC'), ['news-bc0002', 'news-2026-01']);
  });

  it('any instants in any zone: safe names, a month shard only in the newest year, each story in its own month or year', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2099-12-31T00:00:00Z') }), { maxLength: 40 }),
        fc.constantFrom(...zones),
        (instants, zone) => {
          const names = newsShardNames(instants, zone);
          const months = instants.map((ms) => calendarMonth(ms, zone));
          const newestYear = months.map((m) => m.slice(0, 4)).sort().at(-1);
          names.forEach((name, i) => {
            assert.match(name, /^news-\d{4}(-(0[1-9]|1[0-2]))?$/);
            assert.equal(name, months[i]!.startsWith(newestYear!) ? `news-${months[i]}` : `news-${months[i]!.slice(0, 4)}`);
          });
        },
      ),
      { numRuns: Number(process.env.PROPS_RUNS ?? 200) },
    );
  });

  it('the sample site: the guides first, then the news by month, newest first, every record once', async () => {
    const root = await tempSite({ sample: true });
    const site = await loadSite(root);
    const shards = searchShards(sitePages(site, now).pages, site.config.language, 'UTC');
    assert.deepEqual(
      shards.map((s) => [s.name, s.records.length]),
      [
        ['guides', 5],
        ['news-2026-06', 4],
        ['news-2026-05', 2],
        ['news-2026-04', 8],
        ['news-2026-03', 4],
      ],
    );
    assert.ok(shards[0]!.records.every((r) => r.meta.kind === 'Guide'));
    assert.equal(shards.slice(1).flatMap((s) => s.records).filter((r) => r.meta.kind === 'News').length, 18);
    const urls = shards.flatMap((s) => s.records.map((r) => r.url));
    assert.equal(new Set(urls).size, urls.length);
    assert.ok(shards.find((s) => s.name === 'news-2026-03')!.records.some((r) => r.url === 'https://about.fb.com/news/2026/03/meta-acquires-moltbook/'));
  });
});

describe('the search index cache', () => {
  /**
   * An indexer that writes one file per record and records its runs: those of shards in `runs`, in
   * the order they were started, and those of the words index (whose records are named after shards,
   * without a slash) in `wordRuns`.
   */
  function recording(): SearchIndexer & { runs: SearchRecord[][]; wordRuns: SearchRecord[][] } {
    const runs: SearchRecord[][] = [];
    const wordRuns: SearchRecord[][] = [];
    return {
      name: 'recording',
      runs,
      wordRuns,
      async index(records) {
        (records.every((r) => !r.url.includes('/')) && records.length > 0 ? wordRuns : runs).push([...records]);
        const files = new Map(records.map((r, i) => [`fragment/${i}`, Buffer.from(r.content)]));
        for (const script of ['pagefind.js', 'pagefind-worker.js', 'pagefind-ui.js', 'pagefind-ui.css', 'pagefind-highlight.js']) files.set(script, Buffer.from('script'));
        return files;
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
  const story = (url: string, content: string): SearchRecord => ({ ...record(url, content), meta: { title: url, kind: 'News' }, filters: { kind: ['News'] } });
  const guides = [record('guides/a/index.html', 'alpha'), record('guides/b/index.html', 'beta')];
  const april = [story('https://example.org/1', 'one'), story('https://example.org/2', 'two')];
  const march = [story('https://example.org/3', 'three')];
  const site = (g = guides, a = april, m = march): SearchShard[] => [
    { name: 'guides', records: g },
    { name: 'news-2026-04', records: a },
    { name: 'news-2026-03', records: m },
  ];
  const manifestOf = (built: { files: Map<string, Buffer> }) => JSON.parse(built.files.get('pagefind/shards.json')!.toString()) as { words: string; shards: string[] };

  it('indexes every shard once, reuses each while its records are the same, and lists them in the manifest', async () => {
    const root = await tempSite();
    const indexer = recording();
    const built = await buildSearchIndex(SearchCache.open(root), site(), indexer);
    assert.deepEqual(built.indexed, ['guides', 'news-2026-04', 'news-2026-03']);
    assert.equal(built.indexedRecords, 5);
    assert.equal(indexer.runs.length, 3);
    assert.equal(indexer.wordRuns.length, 1);
    assert.equal(built.records, 5);
    assert.equal(built.shards, 3);
    assert.deepEqual([...built.files.keys()].sort(), [
      'pagefind/guides/fragment/0',
      'pagefind/guides/fragment/1',
      'pagefind/news-2026-03/fragment/0',
      'pagefind/news-2026-04/fragment/0',
      'pagefind/news-2026-04/fragment/1',
      'pagefind/shards.json',
      'pagefind/words/fragment/0',
      'pagefind/words/fragment/1',
      'pagefind/words/fragment/2',
      // The scripts the search page runs; Pagefind's UIs are left out, and the shards have no scripts.
      'pagefind/words/pagefind-worker.js',
      'pagefind/words/pagefind.js',
    ]);
    assert.deepEqual(manifestOf(built), { words: 'words/', shards: ['guides/', 'news-2026-04/', 'news-2026-03/'] });

    const again = await buildSearchIndex(SearchCache.open(root), structuredClone(site()), indexer);
    assert.deepEqual(again.indexed, []);
    assert.equal(indexer.runs.length + indexer.wordRuns.length, 4);
    assert.deepEqual(again.files, built.files);
  });

  it("the words index has one record per shard: each word of its records' text and meta once, and no other", () => {
    const shards: SearchShard[] = [
      { name: 'guides', records: [record('guides/a/index.html', 'Gas-fired  plant.\nPlant\tcafé'), record('guides/b/index.html', 'plant')] },
      { name: 'news-2026-04', records: [story('https://example.org/1', 'Fireworks\u00a0tonight')] },
      { name: 'news-2026-03', records: [] },
    ];
    const words = wordRecords(
      shards.map((s) => ({ name: s.name, words: shardWords(s.records) })),
      'en',
    );
    assert.deepEqual(
      words.map((r) => [r.url, r.content]),
      [
        ['guides', 'Gas-fired plant. Plant café guides/a/index.html Guide Beginner plant guides/b/index.html'],
        // Only ASCII white space parts words, as in Pagefind: the no-break space stays inside its word.
        ['news-2026-04', 'Fireworks\u00a0tonight https://example.org/1 News'],
      ],
    );
    assert.deepEqual(words[0]!.meta, {}, "no title, whose words would count as the shard's");
    // The browser reads the matching shards from this filter's counts, never from the records.
    assert.deepEqual(words.map((r) => r.filters), [{ shard: ['guides'] }, { shard: ['news-2026-04'] }]);
  });

  it('a new story reindexes its month only; a guide edit, the guides only; a new month, that month only', async () => {
    const root = await tempSite();
    const indexer = recording();
    await buildSearchIndex(SearchCache.open(root), site(), indexer);
    const runsOf = async (shards: SearchShard[]) => {
      const before = indexer.runs.length;
      const result = await buildSearchIndex(SearchCache.open(root), shards, indexer);
      assert.equal(indexer.runs.length - before, result.indexed.length, 'one indexer call per shard indexed');
      return { result, runs: indexer.runs.slice(before) };
    };

    const arrived = [...april, story('https://example.org/4', 'four')];
    const before = await buildSearchIndex(SearchCache.open(root), site(), indexer);
    const one = await runsOf(site(guides, arrived));
    assert.deepEqual(one.result.indexed, ['news-2026-04']);
    assert.equal(one.result.indexedRecords, 3);
    assert.deepEqual(one.runs, [arrived]);
    // Every file of every other shard is the same, byte for byte; the words index has the new words.
    for (const [file, data] of before.files) {
      if (file.startsWith('pagefind/news-2026-04/') || file.startsWith('pagefind/words/')) continue;
      assert.ok(one.result.files.get(file)?.equals(data), file);
    }
    assert.match(indexer.wordRuns.at(-1)!.find((r) => r.url === 'news-2026-04')!.content, /\bfour\b/);

    const edited = [record('guides/a/index.html', 'alpha two'), guides[1]!];
    const two = await runsOf(site(edited, arrived));
    assert.deepEqual(two.result.indexed, ['guides']);
    assert.deepEqual(two.runs, [edited]);

    const may = [story('https://example.org/5', 'five')];
    const three = await runsOf([{ name: 'guides', records: edited }, { name: 'news-2026-05', records: may }, ...site(edited, arrived).slice(1)]);
    assert.deepEqual(three.result.indexed, ['news-2026-05']);
    assert.deepEqual(manifestOf(three.result).shards, ['guides/', 'news-2026-05/', 'news-2026-04/', 'news-2026-03/']);

    // A story removed from a month is a change of that month.
    const four = await runsOf(site(edited, arrived, [...march, story('https://example.org/6', 'six')]));
    assert.deepEqual(four.result.indexed, ['news-2026-03']);
    // A month left without stories is left out, and leaves the cache.
    const five = await runsOf(site(edited, arrived, []));
    assert.deepEqual(five.result.indexed, []);
    assert.deepEqual(manifestOf(five.result).shards, ['guides/', 'news-2026-04/']);
    assert.deepEqual((await readdir(path.join(root, '.almanac/cache/search'))).sort(), ['guides.bin', 'news-2026-04.bin', 'words.bin']);
  });

  it('bundles the fragments of small records into shared files, and gives a long record (a guide) a file of its own', () => {
    const many = (n: number, chars: number) => Array.from({ length: n }, (_, i) => story(`https://example.org/${i}`, 'x'.repeat(chars)));
    assert.equal(fragmentFiles(many(3000, 160)), 30, 'stories: a file per 16,000 characters');
    assert.equal(fragmentFiles(many(200, 20_000)), 200, 'long guides: one each');
    assert.equal(fragmentFiles(many(5, 10)), 1);
    assert.equal(fragmentFiles([]), 1);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 40_000 }), { maxLength: 300 }), (lengths) => {
        const files = fragmentFiles(lengths.map((n, i) => story(`https://example.org/${i}`, 'x'.repeat(n))));
        const chars = lengths.reduce((a, b) => a + b, 0);
        return files >= 1 && files <= Math.max(1, lengths.length) && (files === lengths.length || files >= chars / 16_000);
      }),
    );
  });

  it('hands over each index made as soon as it is made, while a slower one is still being made; a reused shard is not handed over', async () => {
    const root = await tempSite();
    await buildSearchIndex(SearchCache.open(root), site(), recording());
    // April changes and is slow; March changes and is quick; the guides are as before.
    const slow = (() => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      return { gate, release };
    })();
    const inner = recording();
    const indexer: SearchIndexer = {
      name: 'recording',
      async index(records) {
        if (records.some((r) => r.url === 'https://example.org/1')) await slow.gate;
        return inner.index(records);
      },
    };
    const given: string[][] = [];
    const building = buildSearchIndex(
      SearchCache.open(root),
      site(guides, [story('https://example.org/1', 'one again'), april[1]!], [story('https://example.org/3', 'three again')]),
      indexer,
      undefined,
      undefined,
      (files) => given.push([...files.keys()].sort()),
    );
    await until(() => given.length === 2, 5_000);
    assert.deepEqual(given.sort((a, b) => a[0]!.localeCompare(b[0]!)), [
      ['pagefind/news-2026-03/fragment/0'],
      ['pagefind/words/fragment/0', 'pagefind/words/fragment/1', 'pagefind/words/fragment/2', 'pagefind/words/pagefind-worker.js', 'pagefind/words/pagefind.js'],
    ]);
    slow.release();
    const built = await building;
    assert.equal(given.length, 3, 'the guides, reused, are not handed over');
    assert.deepEqual(given[2], ['pagefind/news-2026-04/fragment/0', 'pagefind/news-2026-04/fragment/1']);
    // What was handed over is the index as returned, but for the reused shard and the manifest.
    assert.deepEqual(given.flat().sort(), [...built.files.keys()].filter((f) => !f.startsWith('pagefind/guides/') && f !== 'pagefind/shards.json').sort());
  });

  it('a build that fails gives up the indexes still being made, and writes none of them once it has failed', async () => {
    const root = await tempSite({ sample: true });
    await writeFiles(root, { 'templates/site/pages/news.hbs': '{{> no-such-partial}}' });
    const seen: string[] = [];
    let release!: () => void;
    const late = new Promise<void>((resolve) => (release = resolve));
    // Each index is held until the build gives it up, and is then made all the same.
    const indexer: SearchIndexer = {
      name: 'held',
      async index(records, signal) {
        await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
        seen.push('given up');
        await late;
        seen.push('made');
        return new Map(records.map((r, i) => [`fragment/${i}`, Buffer.from(r.content)]));
      },
    };
    const building = buildSite({ root, outDir: 'dist', now, threads: 1, searchIndexer: indexer });
    await assert.rejects(building, /no-such-partial/);
    assert.ok(seen.length > 0 && seen.every((s) => s === 'given up'), seen.join(', '));
    const asked = seen.length;
    release();
    await until(() => seen.length === 2 * asked, 5_000);
    await new Promise((resolve) => setImmediate(resolve));
    // The staged output of the failed build was removed, and nothing made it again.
    assert.equal(await stat(path.join(root, '.dist.spare')).catch(() => 'none'), 'none');
    assert.equal(await stat(path.join(root, 'dist')).catch(() => 'none'), 'none');
  });

  it('gives the indexer the largest shards first, the words index among them by its size', async () => {
    const root = await tempSite();
    const indexer = recording();
    const long = 'word '.repeat(50);
    await buildSearchIndex(
      SearchCache.open(root),
      [
        { name: 'guides', records: [record('guides/a/index.html', 'alpha')] },
        { name: 'news-2026-04', records: [story('https://example.org/1', long), story('https://example.org/2', long)] },
        { name: 'news-2026-03', records: [story('https://example.org/3', `${long} and more`)] },
      ],
      indexer,
    );
    assert.deepEqual(
      indexer.runs.map((run) => run.length),
      [2, 1, 1],
    );
    assert.equal(indexer.runs[1]![0]!.url, 'https://example.org/3');
    assert.equal(indexer.runs[2]![0]!.url, 'guides/a/index.html');
  });

  it("a shard the indexer fails on fails the index with the indexer's error, whatever else is indexing", async () => {
    const root = await tempSite();
    const failing: SearchIndexer = {
      name: 'recording',
      async index(records) {
        if (records.some((r) => r.url === 'https://example.org/3')) throw new Error('march failed');
        return new Map([['pagefind.js', Buffer.from('script')]]);
      },
    };
    await assert.rejects(buildSearchIndex(SearchCache.open(root), site(), failing), /march failed/);
    // The shards that were indexed are kept; the next build indexes March only.
    assert.deepEqual((await buildSearchIndex(SearchCache.open(root), site(), recording())).indexed, ['news-2026-03']);
  });

  it('the first index that fails gives up the others at once, and its failure is the one told', async () => {
    // A Pagefind process stopped as hung fails its shard; the shards still being made would each wait
    // out the limit in turn, and fail with "stopped" when the build gives them up.
    const root = await tempSite();
    const givenUp: string[] = [];
    const indexer: SearchIndexer = {
      name: 'one fails, the others hang',
      async index(records, signal) {
        if (records.some((r) => r.url === 'https://example.org/3')) throw new Error('march: no progress, stopped');
        await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
        givenUp.push(records[0]!.url);
        throw new Error('stopped because the build gave up');
      },
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still waiting after 5 s'), 5_000)));
    const outcome = await Promise.race([buildSearchIndex(SearchCache.open(root), site(), indexer).then(() => 'indexed', (err: Error) => err.message), deadline]);
    clearTimeout(timer);
    assert.equal(outcome, 'march: no progress, stopped');
    // The guides' and April's shards, and the words index (whose records are named after the shards).
    assert.deepEqual(givenUp.sort(), ['guides', 'guides/a/index.html', 'https://example.org/1']);
  });

  it('indexes a site of many shards without a warning of leaked listeners', async () => {
    const root = await tempSite();
    const warnings: string[] = [];
    const warned = (w: Error) => warnings.push(w.message);
    process.on('warning', warned);
    try {
      const inner = recording();
      // Each job waits for the build's signal as a job waiting for a Pagefind process does.
      const listening: SearchIndexer = {
        name: 'recording',
        async index(records, signal) {
          signal?.addEventListener('abort', () => undefined, { once: true });
          signal?.addEventListener('abort', () => undefined, { once: true });
          await new Promise((resolve) => setImmediate(resolve));
          return inner.index(records);
        },
      };
      const months = Array.from({ length: 14 }, (_, i): SearchShard => ({ name: `news-2025-${String(i).padStart(2, '0')}`, records: [story(`https://example.org/${i}`, `story ${i}`)] }));
      await buildSearchIndex(SearchCache.open(root), months, listening);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', warned);
    }
    assert.deepEqual(warnings, []);
  });

  it('a shard gone (its last story deleted) indexes no shard but makes the words index again, and says so', async () => {
    const root = await tempSite();
    const indexer = recording();
    await buildSearchIndex(SearchCache.open(root), site(), indexer);
    const fewer = site().filter((shard) => shard.name !== 'news-2026-03');
    const after = await buildSearchIndex(SearchCache.open(root), fewer, indexer);
    assert.deepEqual(after.indexed, []);
    assert.equal(after.wordsIndexed, true, 'not an unchanged index');
    assert.deepEqual(manifestOf(after), { words: 'words/', shards: ['guides/', 'news-2026-04/'] });
    assert.equal((await buildSearchIndex(SearchCache.open(root), fewer, indexer)).wordsIndexed, false);
  });

  it('a site with nothing to search: the manifest lists no shard, also when the index is reused', async () => {
    const root = await tempSite();
    const empty = [{ name: 'guides', records: [] }];
    const built = await buildSearchIndex(SearchCache.open(root), empty, recording(), undefined, 'inputs');
    assert.deepEqual(manifestOf(built), { words: 'words/', shards: [] });
    assert.deepEqual(manifestOf(SearchCache.open(root).reuse('recording\0inputs')!), { words: 'words/', shards: [] });
  });

  it('a site without guides: its news shards, no empty index; the scripts are in the words index', async () => {
    const root = await tempSite();
    const indexer = recording();
    const built = await buildSearchIndex(SearchCache.open(root), site([]), indexer);
    assert.deepEqual(built.indexed, ['news-2026-04', 'news-2026-03']);
    assert.equal(built.shards, 2);
    assert.deepEqual(manifestOf(built), { words: 'words/', shards: ['news-2026-04/', 'news-2026-03/'] });
    assert.ok(built.files.has('pagefind/words/pagefind.js'));
    assert.ok(![...built.files.keys()].some((f) => f.startsWith('pagefind/guides/') || f.startsWith('pagefind/news-') && f.endsWith('.js')));
    // The first guide: no story is indexed again for it.
    const again = await buildSearchIndex(SearchCache.open(root), site(), indexer);
    assert.deepEqual(again.indexed, ['guides']);
  });

  it('reuses the last index without its records when the site was made from the same inputs, and only then', async () => {
    const root = await tempSite();
    const indexer = recording();
    const built = await buildSearchIndex(SearchCache.open(root), site(), indexer, undefined, 'inputs-1');
    const same = SearchCache.open(root).reuse(`recording\0inputs-1`);
    assert.ok(same, 'the same inputs and indexer');
    assert.deepEqual(same.files, built.files);
    assert.equal(same.records, 5);
    assert.equal(same.shards, 3);
    assert.deepEqual(same.indexed, []);
    for (const other of ['recording\0inputs-2', 'pagefind\0inputs-1', undefined]) assert.equal(SearchCache.open(root).reuse(other), undefined, String(other));
    // A shard's cache file lost: not reused whole, that shard is indexed again.
    await rm(path.join(root, '.almanac/cache/search/news-2026-03.bin'));
    assert.equal(SearchCache.open(root).reuse('recording\0inputs-1'), undefined);
    // Indexed without knowing its inputs (a file changed moments ago): never reused by inputs.
    await buildSearchIndex(SearchCache.open(root), site([record('guides/a/index.html', 'alpha two')]), indexer);
    assert.equal(SearchCache.open(root).reuse('recording\0inputs-1'), undefined);
    assert.equal(indexer.runs.length, 5);
  });

  it('keeps the text of each piece of guide HTML by its hash, and reads changed HTML afresh', async () => {
    const root = await tempSite();
    const first = SearchCache.open(root);
    const body = '<h2 id="a">A</h2>\n<p>One &amp; two</p>\n';
    assert.equal(first.text(body), 'A\nOne & two');
    await buildSearchIndex(first, site(), recording());
    const second = SearchCache.open(root);
    assert.equal(second.text(body), 'A\nOne & two');
    assert.equal(second.text(body.replace('two', 'three')), 'A\nOne & three');
  });

  it("keeps Pagefind's indexes under the version of Pagefind that made them, so that an upgrade indexes every shard again", async () => {
    const installed = JSON.parse(await readFile(fileURLToPath(new URL('../package.json', import.meta.resolve('pagefind'))), 'utf8')) as { version: string };
    assert.equal(pagefindIndexer.name, `pagefind@${installed.version}`);
    const root = await tempSite();
    const before = { ...recording(), name: 'pagefind@1.0.0' };
    await buildSearchIndex(SearchCache.open(root), site(), before);
    const after = { ...recording(), name: 'pagefind@1.0.1' };
    const result = await buildSearchIndex(SearchCache.open(root), site(), after);
    assert.deepEqual(result.indexed.length, site().length);
    assert.ok(result.wordsIndexed);
  });

  it('a damaged cache file only means indexing that shard again', async () => {
    const root = await tempSite();
    const indexer = recording();
    await buildSearchIndex(SearchCache.open(root), site(), indexer);
    await mkdir(path.join(root, '.almanac/cache'), { recursive: true });
    await writeFile(path.join(root, '.almanac/cache/search.bin'), 'not a cache');
    await writeFile(path.join(root, '.almanac/cache/search/news-2026-04.bin'), 'not a cache');
    const result = await buildSearchIndex(SearchCache.open(root), site(), indexer);
    assert.deepEqual(result.indexed, ['news-2026-04']);
    assert.deepEqual((await buildSearchIndex(SearchCache.open(root), site(), indexer)).indexed, []);
  });
});
