// news add <url>: one page served on loopback becomes a news item filled from its metadata.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readNewsItem } from '../src/content/news-item.ts';
import { renderSummaryText } from '../src/render/markdown.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { redirect, serve, startFeedServer, type FeedServer } from './helpers/feed-server.ts';
import { json, runMain } from './helpers/main.ts';

const NOW = '2026-12-05T12:00:00Z';
const HTML = 'text/html; charset=utf-8';

const OG_PAGE = `<!doctype html><html><head>
<title>Fallback title | Meta</title>
<meta property="og:title" content="Introducing Muse Spark &amp; friends">
<meta property="og:description" content="A new model family &lt;b&gt;for everyone&lt;/b&gt;. Second sentence.">
<meta property="og:site_name" content="Meta Newsroom">
<meta property="article:published_time" content="2026-12-02T15:30:00+00:00">
<script>var og = '<meta property="og:title" content="from a script">';</script>
</head><body><h1>Body</h1></body></html>`;

const PLAIN_PAGE = `<html><head><meta charset="windows-1252"><title>Caf\u00e9 news \u2013 plain</title>
<meta name="description" content="Only a title and a description."></head><body></body></html>`;

const HOSTILE_PAGE = `<html><head><meta property="og:title" content="<script>alert(1)</script>Hostile --- title">
<meta property="og:description" content="[click](javascript:alert(1)) <img src=x onerror=alert(2)>"></head></html>`;

describe('news add', () => {
  let server: FeedServer;
  let root: string;
  before(async () => {
    server = await startFeedServer({
      '/og': serve(OG_PAGE, HTML),
      '/plain': serve(Buffer.from(PLAIN_PAGE.replace('\u2013', '\x96'), 'latin1'), 'text/html'),
      '/hostile': serve(HOSTILE_PAGE, HTML),
      '/site-name': serve(`<html><head><title>Odd site name</title><meta property="og:site_name" content="Wire&#1;\u001b[2J\u0085 ${'a'.repeat(90)}\u{1F600}\u{1F600}"></head></html>`, HTML),
      '/untitled': serve('<html><head></head><body>Nothing</body></html>', HTML),
      '/to-private': redirect('http://192.168.0.1/admin'),
    });
    root = await tempSite();
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ intake: { allowPrivateSources: true }, topicRules: { 'muse spark': 'Muse Spark' } }) });
  });
  after(() => server.close());

  const add = (url: string, ...args: string[]) => runMain(['news', 'add', url, '--root', root, '--now', NOW, ...args]);
  const item = (file: string) => readNewsItem(root, file.replace(/^content\/news\//, ''), 'UTC');

  it('fills title, summary, date, source and topics from Open Graph metadata', async () => {
    const run = await add(server.url('/og'), '--json', '--score', '8');
    assert.equal(run.code, 0, run.stderr);
    const added = json<{ file: string; undated: boolean }>(run);
    assert.equal(added.file, 'content/news/2026/12/introducing-muse-spark-and-friends.md');
    assert.equal(added.undated, false);
    const read = item(added.file);
    assert.ok(read.item, JSON.stringify(read.problems));
    assert.equal(read.item.title, 'Introducing Muse Spark & friends');
    assert.equal(read.item.source, 'Meta Newsroom');
    assert.equal(read.item.url, server.url('/og'));
    assert.equal(read.item.score, 8);
    assert.deepEqual(read.item.topics, ['Muse Spark']);
    assert.equal(read.item.published, Date.parse('2026-12-02T15:30:00Z'));
    assert.equal(read.item.summary, 'A new model family <b>for everyone</b>. Second sentence.');
  });

  it('falls back to <title>, the meta description, the host name and now; reads the page in its declared charset', async () => {
    const run = await add(server.url('/plain'));
    assert.equal(run.code, 0, run.stderr);
    const file = /^Created (\S+)/m.exec(run.stdout)![1]!;
    assert.match(run.stdout, /gives no publication date/);
    // The test server is on loopback http, a link no email may carry.
    assert.match(run.stdout, /emails link only to https/);
    const read = item(file);
    assert.equal(read.item?.title, 'Café news – plain');
    assert.equal(read.item?.summary, 'Only a title and a description.');
    assert.equal(read.item?.source, '127.0.0.1');
    assert.equal(read.item?.published, Date.parse(NOW));
  });

  it('a site name is one line of text, without control characters or half a character, at most 100 long', async () => {
    const run = await add(server.url('/site-name'));
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const source = item(/^Created (\S+)/m.exec(run.stdout)![1]!).item!.source;
    assert.match(source, /^Wire\[2J a{90}/);
    assert.ok(source.length <= 100, source);
    assert.doesNotMatch(source, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no lone surrogate');
  });

  it('keeps hostile metadata as text', async () => {
    const run = await add(server.url('/hostile'), '--json');
    assert.equal(run.code, 0, run.stderr);
    const file = json<{ file: string }>(run).file;
    const raw = await readFile(path.join(root, file), 'utf8');
    assert.match(raw, /^title: "<script>alert\(1\)<\/script>Hostile --- title"$/m);
    assert.equal(item(file).item?.title, '<script>alert(1)</script>Hostile --- title');
    // The description is text: shown as written, never as markup or a link.
    const html = renderSummaryText(item(file).item!.summary);
    assert.equal(html, '<p>[click](javascript:alert(1)) &lt;img src=x onerror=alert(2)&gt;</p>\n');
  });

  it('refuses a story already present, a page without a title, a redirect to a private address and a non-http URL', async () => {
    const again = await add(server.url('/og?utm_source=x'));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /content\/news\/2026\/12\/introducing-muse-spark-and-friends\.md: url: expected a story not yet in the news/);
    const untitled = await add(server.url('/untitled'));
    assert.equal(untitled.code, 1);
    assert.match(untitled.stderr, /expected a page with a title/);
    const privateHop = await add(server.url('/to-private'));
    assert.equal(privateHop.code, 1);
    assert.match(privateHop.stderr, /refused: 192\.168\.0\.1 is a private address/);
    const ftp = await add('ftp://example.org/x');
    assert.equal(ftp.code, 1);
    assert.match(ftp.stderr, /expected an absolute http\(s\) URL/);
    const score = await add(server.url('/og'), '--score', '11');
    assert.equal(score.code, 2);
  });
});
