// The feeds: untrusted text (titles, TL;DRs, topics, subjects, preheaders) stays text in RSS, Atom
// and JSON Feed, and every feed is well-formed and valid for its format whatever the text holds.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { configSchema } from '../src/content/config-schema.ts';
import { renderFeeds, type FeedEntry } from '../src/site/feeds.ts';
import { feedText } from '../src/site/xml.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const PATHS = { rss: 'feeds/t.xml', atom: 'feeds/t.atom', json: 'feeds/t.json' };
// Characters XML 1.0 cannot carry in any form (not even as a reference).
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Numeric character references (&#xD;) decoded, as every conforming parser does.
  htmlEntities: true,
  isArray: (name) => ['item', 'entry', 'category'].includes(name),
});

/** The document, checked strictly: well-formed, and nothing XML 1.0 forbids anywhere in it. */
function parseXml(xml: string, label: string) {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `${label} is not well-formed: ${JSON.stringify(valid)}`);
  assert.ok(!NOT_XML.test(xml), `${label} holds a character XML 1.0 forbids`);
  return parser.parse(xml);
}

/** The text of an element, however the parser shaped it (plain string, or #text beside attributes). */
function textOf(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node;
  return ((node as Record<string, string>)['#text'] ?? '') as string;
}

/** What a reader shows for RSS's description, which is HTML: its text. */
function htmlToText(html: string): string {
  assert.ok(!/[<>]/.test(html), `markup in an RSS description: ${html}`);
  return html.replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
}

function checkFeeds(files: Map<string, string>, paths: typeof PATHS, entries: readonly { title: string; summary: string; categories: string[] }[], meta: { title: string; description: string }) {
  const rss = parseXml(files.get(paths.rss)!, 'RSS').rss;
  assert.equal(rss['@version'], '2.0');
  const channel = rss.channel;
  assert.equal(textOf(channel.title), feedText(meta.title));
  assert.equal(htmlToText(textOf(channel.description)), feedText(meta.description));
  assert.ok(textOf(channel.link).startsWith('http'));
  const items = channel.item ?? [];
  assert.equal(items.length, entries.length);
  entries.forEach((e, i) => {
    const item = items[i];
    assert.equal(textOf(item.title), feedText(e.title), 'RSS title');
    assert.equal(htmlToText(textOf(item.description)), feedText(e.summary), 'RSS description');
    assert.deepEqual((item.category ?? []).map(textOf), e.categories.map(feedText), 'RSS categories');
    assert.ok(!Number.isNaN(Date.parse(textOf(item.pubDate))));
  });

  const atom = parseXml(files.get(paths.atom)!, 'Atom').feed;
  assert.equal(atom['@xmlns'], 'http://www.w3.org/2005/Atom');
  for (const required of ['id', 'title', 'updated', 'author']) assert.ok(atom[required] !== undefined, `Atom feed needs <${required}>`);
  assert.equal(atom.title['@type'], 'text');
  assert.equal(textOf(atom.title), feedText(meta.title));
  const atomEntries = atom.entry ?? [];
  assert.equal(atomEntries.length, entries.length);
  entries.forEach((e, i) => {
    const entry = atomEntries[i];
    for (const required of ['id', 'title', 'updated']) assert.ok(entry[required] !== undefined, `Atom entry needs <${required}>`);
    assert.equal(entry.title['@type'], 'text');
    assert.equal(textOf(entry.title), feedText(e.title), 'Atom title');
    assert.equal(entry.summary['@type'], 'text');
    assert.equal(textOf(entry.summary), feedText(e.summary), 'Atom summary');
    assert.deepEqual((entry.category ?? []).map((c: Record<string, string>) => c['@term']), e.categories.map(feedText), 'Atom categories');
    assert.ok(!Number.isNaN(Date.parse(textOf(entry.updated))));
  });

  const json = JSON.parse(files.get(paths.json)!);
  assert.equal(json.version, 'https://jsonfeed.org/version/1.1');
  assert.equal(json.title, feedText(meta.title));
  assert.equal(json.items.length, entries.length);
  entries.forEach((e, i) => {
    const item = json.items[i];
    assert.equal(item.title, feedText(e.title), 'JSON title');
    assert.equal(item.content_text, feedText(e.summary), 'JSON content_text');
    assert.equal(item.content_html, undefined, 'no text is declared as HTML');
    assert.deepEqual(item.tags, e.categories.map(feedText));
    assert.equal(typeof item.id, 'string');
  });
}

describe('feeds', () => {
  it('keep any text as text, and stay well-formed (property)', () => {
    const config = configSchema.parse({ title: 'Almanac & Co <b>', baseUrl: 'https://example.org' });
    // Full Unicode, lone surrogates and C0 controls included, plus the characters that matter to XML.
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('&', '<', '>', ']]>', '"', "'", '\r', '\n', '\t', '\u0000', '\u0008', '\u001f', '\uFFFE', '\uD800', '😀', 'שלום', '\u202E', 'a', ' ', '&amp;', '<img src=x onerror=alert(1)>') }),
    );
    const entry = fc.record({
      title: text,
      summary: text,
      categories: fc.array(text, { maxLength: 3 }),
      date: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      published: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      slug: fc.stringMatching(/^[a-z0-9-]{1,12}$/),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), text, text, (raw, title, description) => {
        const entries: FeedEntry[] = raw.map((e) => ({ ...e, url: `${config.baseUrl}/guides/${e.slug}/` }));
        const meta = { title, description, home: 'guides/' };
        checkFeeds(renderFeeds(config, PATHS, meta, entries), PATHS, entries, meta);
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });

  it('a topic "R&D" and markup in titles, subjects and preheaders: well-formed feeds, text stays text', async () => {
    const root = await tempSite();
    const evil = '<img src=x onerror=alert(1)>';
    const guide = (title: string, tldr: string) => `---\ntitle: "${title}"\nlevel: beginner\ntopics: ["R&D"]\ntldr: "${tldr}"\ntakeaways: [x]\n---\n\n## S\n\nBody.\n`;
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://almanac.example.org' }),
      'content/guides/rd/guide.md': guide('Labs & more', 'Ideas & odd'),
      'content/news/rd.md': `---\ntitle: "Breakthrough at the R&D lab: 1 < 2"\nurl: https://example.com/rd\nsource: Wire\npublished: 2026-06-04\nscore: 9\ntopics: ["R&D"]\n---\nA summary.\n`,
      // The lead story is the top; the topics of the others are the categories.
      'content/news/rd2.md': `---\ntitle: "Second story"\nurl: https://example.com/rd2\nsource: Wire\npublished: 2026-06-04\nscore: 5\ntopics: ["R&D"]\n---\nAnother.\n`,
    });
    const NOW = '2026-06-05T09:00:00Z';
    const run = async (args: string[]) => {
      const r = await almanac([...args, '--root', root, '--now', NOW]);
      assert.equal(r.code, 0, r.stderr);
    };
    await run(['guide', 'publish', 'rd', '--note', 'First']);
    await run(['issue', 'build', 'sunday', '--date', '2026-06-07']);
    // Markup in a guide's title only after the issue is built: the issue's own checks would refuse it.
    await writeFiles(root, { 'content/guides/rd/guide.md': guide(`Labs ${evil} & more`, 'Ideas <b>bold</b> & ]]> odd') });
    await run(['guide', 'publish', 'rd', '--note', 'Second']);
    const built = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(built.code, 0, built.stderr);
    const read = (rel: string) => readFile(path.join(root, 'dist', rel), 'utf8');
    // The issue's own checks keep markup out of a subject; an ampersand and a "<" are enough there.
    for (const [kind, shown] of [['guides', evil], ['issues', 'R&D lab: 1 < 2']] as const) {
      const paths = { rss: `feeds/${kind}.xml`, atom: `feeds/${kind}.atom`, json: `feeds/${kind}.json` };
      const files = new Map(await Promise.all(Object.values(paths).map(async (p) => [p, await read(p)] as const)));
      const atom = parseXml(files.get(paths.atom)!, `${kind}.atom`).feed;
      const entry = atom.entry[0];
      assert.ok(entry.category.some((c: Record<string, string>) => c['@term'] === 'R&D'), `${kind}.atom has the topic R&D`);
      assert.equal(entry.title['@type'], 'text');
      assert.ok(textOf(entry.title).includes(shown), `${kind}.atom: the title is text, as written`);
      const rss = parseXml(files.get(paths.rss)!, `${kind}.xml`).rss.channel;
      assert.ok(!/</.test(textOf(rss.item[0].description)), `${kind}.xml: the description is not markup`);
      const json = JSON.parse(files.get(paths.json)!);
      assert.equal(json.version, 'https://jsonfeed.org/version/1.1');
      assert.ok(json.items[0].title.includes(shown));
      assert.equal(json.items[0].content_html, undefined);
      assert.equal(typeof json.items[0].content_text, 'string');
    }
  });

  it('every link is a valid absolute URL, whatever characters the site\'s address is written with', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'HTTPS://Almanac.Example.org/our "letters"', from: 'Almanac <letters@example.org>' }),
      'content/guides/rd/guide.md': `---\ntitle: Labs\nlevel: beginner\ntopics: [R]\ntldr: Ideas\ntakeaways: [x]\n---\n\n## S\n\nBody.\n`,
    });
    const NOW = '2026-06-05T09:00:00Z';
    assert.equal((await almanac(['guide', 'publish', 'rd', '--note', 'First', '--root', root, '--now', NOW])).code, 0);
    const built = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(built.code, 0, built.stderr);
    const base = 'https://almanac.example.org/our%20%22letters%22';
    const links: string[] = [];
    const rss = parseXml(await readFile(path.join(root, 'dist', 'feeds/guides.xml'), 'utf8'), 'guides.xml').rss.channel;
    links.push(textOf(rss.link), textOf(rss.item[0].link));
    const atom = parseXml(await readFile(path.join(root, 'dist', 'feeds/guides.atom'), 'utf8'), 'guides.atom').feed;
    links.push(textOf(atom.id), ...[atom.entry[0].link].flat().map((l: Record<string, string>) => l['@href']!));
    const json = JSON.parse(await readFile(path.join(root, 'dist', 'feeds/guides.json'), 'utf8'));
    links.push(json.home_page_url, json.feed_url, json.items[0].url, json.authors[0].url);
    for (const link of links) {
      assert.ok(link.startsWith(`${base}/`), link);
      assert.equal(new URL(link).href, link, 'written as the URL standard spells it');
    }
    const refused = await almanac(['check', '--root', root]);
    assert.equal(refused.code, 0, refused.stderr);
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://almanac.example.org/?ref=feed' }) });
    const query = await almanac(['check', '--root', root]);
    assert.equal(query.code, 1);
    assert.match(query.stderr, /almanac\.config\.json: baseUrl: expected the site's address with no query, fragment or user name/);
  });
});
