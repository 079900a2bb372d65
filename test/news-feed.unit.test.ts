// The news feed: RSS, Atom and JSON Feed of the newest stories beside the guides' and the issues',
// newest first, at most 50, every link absolute, dates as each format wants them, text kept as text;
// found from every page's head and from the news page.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse } from 'node-html-parser';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  trimValues: false,
  parseTagValue: false,
  htmlEntities: true,
  isArray: (name) => ['item', 'entry', 'category', 'link'].includes(name),
});
const textOf = (node: unknown): string => (typeof node === 'string' ? node : ((node as Record<string, string> | undefined)?.['#text'] ?? ''));

const EVIL = '<img src=x onerror=alert(1)> & ]]>';
const STORIES = 53;
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Story n was published n hours after the first; the newest is the last one written. */
function story(n: number): string {
  const at = new Date(Date.UTC(2026, 5, 1, 0) + n * 3_600_000).toISOString();
  return `---
title: "Story ${n} ${n === STORIES - 1 ? EVIL.replace(/"/g, '\\"') : ''}"
url: https://Example.com/stories/${n}?a=1&b=2
source: "Wire & Co"
published: ${at}
score: ${1 + (n % 10)}
topics: ["R&D"]
---
Summary of story ${n}, with **emphasis** and [a link](https://example.com/x)${n === STORIES - 1 ? ` and ${EVIL}, 3 > 2 in C# for snake_case` : ''}.
`;
}

/** What every format says of story n: its summary as plain text (Markdown's marks dropped, markup shown as the page shows it), then source and score. */
const summaryText = (n: number) =>
  `Summary of story ${n}, with emphasis and a link${n === STORIES - 1 ? ` and ${EVIL}, 3 > 2 in C# for snake_case` : ''}.\n\nWire & Co · importance ${1 + (n % 10)}/10`;
const htmlToText = (html: string) => html.replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);

describe('news feed', () => {
  it('the 50 newest stories in RSS, Atom and JSON Feed, newest first, valid and with text kept as text', async () => {
    const root = await tempSite();
    const files: Record<string, string> = { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://almanac.example.org' }) };
    for (let n = 0; n < STORIES; n++) files[`content/news/2026-06/s${n}.md`] = story(n);
    await writeFiles(root, files);
    const built = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(built.code, 0, built.stderr);
    const read = (rel: string) => readFile(path.join(root, 'dist', rel), 'utf8');
    const newest = Array.from({ length: 50 }, (_, i) => STORIES - 1 - i);

    const rssText = await read('feeds/news.xml');
    assert.equal(XMLValidator.validate(rssText), true);
    const channel = parser.parse(rssText).rss.channel;
    assert.equal(textOf(channel.link[0]), 'https://almanac.example.org/news/');
    const items = channel.item as Record<string, unknown>[];
    assert.deepEqual(items.map((i) => textOf(i.title).trim()), newest.map((n) => (n === STORIES - 1 ? `Story ${n} ${EVIL}` : `Story ${n}`)));
    for (const [i, item] of items.entries()) {
      const n = newest[i]!;
      assert.equal(textOf((item.link as unknown[])[0]), `https://example.com/stories/${n}?a=1&b=2`, 'absolute, as the URL standard writes it');
      assert.match(textOf(item.pubDate), RFC822);
      assert.equal(Date.parse(textOf(item.pubDate)), Date.UTC(2026, 5, 1) + n * 3_600_000);
      // RSS's description is HTML: the summary's text, escaped, with no markup of its own.
      const description = textOf(item.description);
      assert.doesNotMatch(description, /[<>]/);
      assert.equal(htmlToText(description), summaryText(n));
    }

    const atomText = await read('feeds/news.atom');
    assert.equal(XMLValidator.validate(atomText), true);
    const feed = parser.parse(atomText).feed;
    assert.match(textOf(feed.updated), RFC3339);
    assert.equal(feed.updated, new Date(Date.UTC(2026, 5, 1) + (STORIES - 1) * 3_600_000).toISOString(), 'updated is the newest story, not the clock');
    assert.equal(feed.entry.length, 50);
    const top = feed.entry[0];
    assert.equal(top.title['@type'], 'text');
    assert.equal(textOf(top.title).trim(), `Story ${STORIES - 1} ${EVIL}`);
    assert.equal(top.summary['@type'], 'text');
    assert.equal(textOf(top.summary), summaryText(STORIES - 1));
    assert.match(textOf(top.published), RFC3339);
    assert.deepEqual(top.category.map((c: Record<string, string>) => c['@term']), ['R&D']);

    const json = JSON.parse(await read('feeds/news.json'));
    assert.equal(json.version, 'https://jsonfeed.org/version/1.1');
    assert.equal(json.feed_url, 'https://almanac.example.org/feeds/news.json');
    assert.equal(json.items.length, 50);
    assert.equal(json.items[0].title.trim(), `Story ${STORIES - 1} ${EVIL}`);
    assert.equal(json.items[0].content_html, undefined);
    assert.deepEqual(json.items.map((i: { content_text: string }) => i.content_text), newest.map(summaryText));
    assert.deepEqual(json.items.map((i: { url: string }) => i.url), newest.map((n) => `https://example.com/stories/${n}?a=1&b=2`));
    for (const item of json.items) assert.match(item.date_published, RFC3339);

    // Found from every page's head, and linked from the news page.
    for (const page of ['index.html', 'news/index.html', 'guides/index.html']) {
      const head = parse(await read(page)).querySelectorAll('link[rel=alternate]').map((l) => l.getAttribute('href'));
      assert.ok(head.some((h) => h?.endsWith('feeds/news.xml')), `${page} links the news RSS`);
      assert.ok(head.some((h) => h?.endsWith('feeds/news.atom')), `${page} links the news Atom feed`);
      assert.ok(head.some((h) => h?.endsWith('feeds/news.json')), `${page} links the news JSON Feed`);
    }
    const newsLinks = parse(await read('news/index.html')).querySelectorAll('main a').map((a) => a.getAttribute('href'));
    assert.deepEqual(newsLinks.filter((h) => h?.includes('feeds/news')), ['../feeds/news.xml', '../feeds/news.atom', '../feeds/news.json']);
  });
});
