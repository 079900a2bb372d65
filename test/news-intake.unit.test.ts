// Intake without the network: feed entries of any text become item files that the content validator
// reads back with the same title and link, and whose summaries render to nothing but what a news
// summary may hold; the address guard's judgement of addresses; the configuration of sources.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { configSchema } from '../src/content/config-schema.ts';
import { readNewsItem } from '../src/content/news-item.ts';
import { renderSummaryText } from '../src/render/markdown.ts';
import { isAllowedAddress, PUBLIC_ONLY } from '../src/intake/address-guard.ts';
import { parseFeedBytes } from '../src/intake/feeds.ts';
import { pageMetadata } from '../src/intake/page.ts';
import { compileRules, draftFile, entryToDraft, matcher, parseEntryDate, TITLE_MAX } from '../src/intake/items.ts';
import { htmlToMarkdown, htmlToMarkdownMany, htmlToText } from '../src/intake/summary.ts';

const RUNS = Number(process.env.PROPS_RUNS ?? 150);
const config = configSchema.parse({ sources: [{ name: 'Feed', url: 'https://feed.example/rss' }] });
const context = { source: config.sources[0]!, feedUrl: 'https://feed.example/rss', rules: compileRules(config), now: Date.parse('2026-12-05T12:00:00Z'), summaryMaxChars: 1200, timezone: 'UTC' };

/** One throwaway site for every round trip. */
const site = mkdtempSync(path.join(os.tmpdir(), 'almanac-intake-'));
mkdirSync(path.join(site, 'content/news'), { recursive: true });
after(() => rmSync(site, { recursive: true, force: true }));

/** Writes the draft's file into the site and reads it back as the build does. */
function roundTrip(text: string) {
  writeFileSync(path.join(site, 'content/news/item.md'), text);
  return readNewsItem(site, 'item.md', 'UTC');
}

/** Text of every kind a feed sends: markup, entities, front-matter breakers, controls, astral characters. */
const feedText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.constantFrom('<script>alert(1)</script>', '<b>', '</b>', '&amp;', '&lt;', '&#0;', '---', '\n---\n', '"', "'", ': ', '# ', '[x](javascript:alert(1))', '![i](data:x)', '<a href="javascript:alert(1)">', '<img src=x onerror=alert(1)>', '\u0000', '\u001b', '\u2028', '\ud800', '😀', 'é', ' ', 'word', '{{x}}', '<!--', '-->', '`', '1. ', '2)', '+', '*', '_', '|', '~~', ':', '=', '***', '\t', '    ', '<br>', '<p>', '</p>', '<ul><li>', '</li>', '<pre>', '<h1>', '<blockquote>', '<table><tr><td>', '\u00a0', '<', '>', '\\', '!['), { maxLength: 24 }).map((a) => a.join('')),
);

const ALLOWED = /^<\/?(p|a|strong|em|ul|ol|li|code|pre|blockquote|br)\b/;

describe('feed entry → news item file', () => {
  it('any entry text gives a file the content validator reads back with the same title and link, and a summary of safe markup only', () => {
    fc.assert(
      fc.property(feedText, fc.boolean(), fc.webUrl({ withQueryParameters: true, withFragments: true }), feedText, (title, titleIsHtml, link, html) => {
        const result = entryToDraft({ title, titleIsHtml, link, date: '2026-12-01T10:00:00Z', html }, context);
        if ('skip' in result) {
          // Only a title that is empty once made text is left out: the link is a valid one.
          assert.equal(result.skip, 'no title');
          return;
        }
        const d = result.draft;
        const read = roundTrip(draftFile(d));
        assert.ok(read.item, JSON.stringify(read.problems));
        assert.equal(read.item.title, d.title);
        assert.equal(read.item.url, d.url);
        assert.equal(read.item.url, new URL(link).href);
        assert.ok(d.title.length <= TITLE_MAX);
        assert.doesNotMatch(d.title, /[\u0000-\u001f\u007f]/);
        const rendered = renderSummaryText(read.item.summary);
        for (const tag of rendered.match(/<[^>]*>/g) ?? []) assert.match(tag, ALLOWED, `unexpected markup ${tag}`);
        assert.doesNotMatch(rendered, /href="(?!https?:|mailto:)/i);
      }),
      { numRuns: RUNS },
    );
  });

  it('summaries converted together are the ones converted one by one', () => {
    fc.assert(
      fc.property(fc.array(feedText, { maxLength: 8 }), fc.integer({ min: 100, max: 400 }), (htmls, max) => {
        const together = htmlToMarkdownMany(htmls.map((html) => ({ html, base: 'https://x.example/a/' })), max);
        assert.deepEqual(together, htmls.map((html) => htmlToMarkdown(html, max, 'https://x.example/a/')));
      }),
      { numRuns: RUNS },
    );
  });

  it('a plain title comes back exactly as the feed wrote it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.:;!?'"()&#-]{0,120}[A-Za-z0-9.!?)]$/), (title) => {
        fc.pre(!/\s\s/.test(title));
        const result = entryToDraft({ title, titleIsHtml: false, link: 'https://x.example/a', html: '<p>Text.</p>' }, context);
        assert.ok('draft' in result);
        const read = roundTrip(draftFile(result.draft));
        assert.equal(read.item?.title, title);
      }),
      { numRuns: RUNS },
    );
  });

  it('summaries keep paragraphs, emphasis, lists and https/mailto links, and drop the rest with scripts and styles', () => {
    const md = htmlToMarkdown(
      '<h1>Head</h1><p style="x" onclick="y">A <b>bold</b> <a href="mailto:a@b.example">mail</a> <a href="ftp://x">ftp</a> <a href="http://plain.example/">plain</a> <a href="/rel">rel</a></p><script>bad()</script><style>.x{}</style><ul><li>one</li></ul><img src="https://x/y.png" alt="pic">',
      1000,
      'https://site.example/post/1',
    );
    assert.equal(md, 'Head\n\nA **bold** [mail](mailto:a@b.example) ftp plain [rel](https://site.example/rel)\n\n-   one');
  });

  it('a summary or title of megabytes of nested markup is read in bounded time, from its start', () => {
    const bomb = `${'<b>'.repeat(150_000)}x${'</b>'.repeat(150_000)}`;
    const started = Date.now();
    const [summary] = htmlToMarkdownMany([{ html: `<p>First words.</p>${bomb}` }], 1200);
    assert.equal(htmlToMarkdown(`<p>First words.</p>${bomb}`, 1200), summary);
    assert.equal(htmlToText(`Title${bomb}`), 'Title');
    const took = Date.now() - started;
    assert.ok(took < 10_000, `${took} ms`);
    assert.match(summary!, /^First words\./);
  });

  it('a summary links to no loopback or private host: the link keeps its text', () => {
    const links = ['https://localhost:8443/', 'https://app.localhost/', 'https://127.0.0.1/x', 'https://[::1]/', 'https://10.0.0.1/', 'https://[::ffff:127.0.0.1]/'];
    const md = htmlToMarkdown(links.map((href, i) => `<a href="${href}">link${i}</a>`).join(' ') + ' <a href="https://public.example/">public</a>', 1000);
    assert.equal(md, 'link0 link1 link2 link3 link4 link5 [public](https://public.example/)');
  });

  it('a line separator or no-break space before "---" does not make a rule once trimmed', () => {
    for (const space of ['\u2028', '\u2029', '\u00a0', '\u3000', '\ufeff']) {
      assert.equal(renderSummaryText(htmlToMarkdown(`${space}---`, 1000)), '<p>-–</p>\n', JSON.stringify(space));
    }
  });

  it('a long summary keeps whole paragraphs while they fit, else the first cut at a word', () => {
    const para = (n: number) => `<p>${'word '.repeat(n).trim()}</p>`;
    assert.equal(htmlToMarkdown(para(20) + para(400), 200), 'word '.repeat(20).trim());
    const cut = htmlToMarkdown(para(400), 200);
    assert.ok(cut.length <= 200 && cut.endsWith('…'), cut);
  });

  it('markup nested thousands deep becomes the plain text of the summary, alone or among others', () => {
    for (const [open, close] of [['<b>', '</b>'], ['<blockquote>', '</blockquote>'], ['<ul><li>', '</li></ul>']]) {
      const html = `${open!.repeat(3000)}deep text${close!.repeat(3000)}`;
      assert.equal(htmlToMarkdown(html, 1200), 'deep text', open);
      assert.deepEqual(htmlToMarkdownMany([{ html: '<p>before</p>' }, { html }, { html: '<em>after</em>' }], 1200), ['before', 'deep text', '_after_'], open);
    }
  });

  it('a huge title is cut at a word to one line; a date without an offset is read in the site\'s time zone', () => {
    const result = entryToDraft({ title: `${'headline '.repeat(50_000)}end`, titleIsHtml: false, link: 'https://x.example/a', date: '2026-12-01T09:00:00', html: '' }, { ...context, timezone: 'Europe/Berlin' });
    assert.ok('draft' in result);
    assert.ok(result.draft.title.length <= TITLE_MAX && result.draft.title.endsWith('headline…'), result.draft.title.slice(-20));
    assert.equal(result.draft.published, Date.parse('2026-12-01T08:00:00Z'));
    assert.equal(parseEntryDate('Tue, 01 Dec 2026 10:00:00 GMT', 'Europe/Berlin'), Date.parse('2026-12-01T10:00:00Z'));
    assert.equal(parseEntryDate('2026-12-01', 'America/New_York'), Date.parse('2026-12-01T05:00:00Z'));
    assert.ok(Number.isNaN(parseEntryDate('2026-02-30', 'UTC')));
  });

  it('HTML titles become text: tags gone, entities decoded, script content dropped', () => {
    assert.equal(htmlToText('Scaling <em>laws</em> &amp; <script>x()</script>more&nbsp;text'), 'Scaling laws & more\u00a0text'.replace('\u00a0', ' '));
  });

  it('include and exclude words decide what is kept; topicRules add topics once', () => {
    const c = configSchema.parse({
      sources: [{ name: 'F', url: 'https://f.example/', include: ['llama', '/open\\s+weights/'], exclude: ['rumour'], topics: ['Meta'] }],
      topicRules: { llama: 'Llama', meta: 'Meta', '/gpu|tpu/': 'Hardware' },
    });
    const ctx = { ...context, source: c.sources[0]!, rules: compileRules(c) };
    const entry = (title: string) => entryToDraft({ title, titleIsHtml: false, link: 'https://f.example/a', html: '<p>On GPUs and TPU pods at Meta.</p>' }, ctx);
    const kept = entry('Llama 5 ships');
    assert.ok('draft' in kept);
    assert.deepEqual(kept.draft.topics, ['Meta', 'Llama', 'Hardware']);
    assert.ok('draft' in entry('Models with open   weights'), 'a pattern includes too');
    assert.equal((entry('Llamas are animals') as { skip: string }).skip, "matches none of the source's include words");
    assert.equal((entry('Llama rumour mill') as { skip: string }).skip, 'excluded by "rumour"');
    assert.ok(matcher('c++').test('news on C++ today'));
  });
});

describe('a page\'s metadata (news add)', () => {
  it('is read from the head, in bounded time whatever the body holds', () => {
    const head = '<html><head><title>Page &amp; title</title><meta property="og:description" content="What it says"><meta property="article:published_time" content="2026-12-01T10:00:00Z"></head>';
    const started = Date.now();
    const meta = pageMetadata(`${head}<body>${'<div>'.repeat(150_000)}<meta property="og:title" content="Not from the body"></body></html>`);
    const took = Date.now() - started;
    assert.deepEqual(meta, { title: 'Page & title', description: 'What it says', published: '2026-12-01T10:00:00Z', siteName: undefined });
    assert.ok(took < 5_000, `${took} ms`);
    assert.equal(pageMetadata('<title>No head or body tags</title><meta name="description" content="d">').title, 'No head or body tags');
  });
});

describe('feed formats and encodings', () => {
  it('reads an RSS feed in windows-1252 named by the server, and one with a BOM', () => {
    const xml = '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>Caf\u00e9 \u2019quoted\u2019</title><link>https://x.example/</link></item></channel></rss>';
    const cp1252 = Buffer.from(xml.replace(/\u2019/g, '\x92'), 'latin1');
    assert.equal(parseFeedBytes(cp1252, 'application/xml; charset=windows-1252').entries[0]!.title, 'Café ’quoted’');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml)]);
    assert.equal(parseFeedBytes(bom, 'text/xml; charset=iso-8859-1').entries[0]!.title, 'Café ’quoted’');
  });

  it('names what a body that is not a feed is', () => {
    assert.throws(() => parseFeedBytes(Buffer.from(''), 'text/xml'), /found an empty body/);
    assert.throws(() => parseFeedBytes(Buffer.from('{"version": 1'), 'application/json'), /JSON that does not parse/);
    assert.throws(() => parseFeedBytes(Buffer.from('{"hello": "world"}'), 'application/json'), /JSON that is not a JSON Feed/);
    assert.throws(() => parseFeedBytes(Buffer.from('<?xml version="1.0"?><note>hi</note>'), 'text/xml'), /XML that is not a feed/);
  });
});

describe('address guard', () => {
  it('allows public addresses only, whatever their spelling', () => {
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']) assert.ok(isAllowedAddress(a, PUBLIC_ONLY), a);
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1', '255.255.255.255', 'not-an-ip']) {
      assert.ok(!isAllowedAddress(a, PUBLIC_ONLY), a);
    }
    // IPv4-compatible IPv6 (deprecated) and other IPv6 outside the global unicast block 2000::/3.
    for (const a of ['::7f00:1', '::a00:1', '::127.0.0.1', '4000::1', 'e000::1']) assert.ok(!isAllowedAddress(a, PUBLIC_ONLY), a);
    assert.ok(isAllowedAddress('127.0.0.1', new Set(['loopback'])));
    assert.ok(!isAllowedAddress('10.0.0.1', new Set(['loopback'])));
  });
});

describe('sources in the configuration', () => {
  it('reports a repeated name, a bad URL and a pattern that is no regular expression', () => {
    const r = configSchema.safeParse({
      sources: [
        { name: 'A', url: 'https://a.example/feed' },
        { name: 'a', url: 'ftp://a.example/feed', exclude: ['/(unclosed/'] },
      ],
      topicRules: { '/[/': 'X' },
    });
    assert.ok(!r.success);
    const paths = r.error.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['sources.1.exclude.0', 'sources.1.name', 'sources.1.url', 'topicRules./[/']);
  });

  it('gives defaults: score 5, no topics, fetch before each issue, public sources only', () => {
    const c = configSchema.parse({ sources: [{ name: 'A', url: 'https://a.example/feed' }] });
    assert.deepEqual(c.sources[0], { name: 'A', url: 'https://a.example/feed', topics: [], score: 5, include: [], exclude: [] });
    assert.equal(c.fetchBeforeIssue, true);
    assert.equal(c.intake.allowPrivateSources, false);
    assert.equal(c.intake.concurrency, 4);
    assert.equal(c.intake.maxNewPerSource, 100);
  });
});
