// The sample site, built as a user builds it, holds every element of the guide page readers know.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { parse, type HTMLElement } from 'node-html-parser';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

let root: string;
const page = async (rel: string): Promise<HTMLElement> => parse(await readFile(path.join(root, 'dist', rel), 'utf8'));
const text = (el: HTMLElement | null) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : '');

before(async () => {
  root = await tempSite({ sample: true });
  const run = await almanac(['build', '--root', root, '--now', NOW]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Built \d+ pages .* from 5 guides \(6 versions\) and 19 news items/);
});

describe('the Meta guide page has every element of the page readers see today', () => {
  let doc: HTMLElement;
  before(async () => {
    doc = await page('guides/meta/index.html');
  });

  it('kicker, title and chips (topic, level, status, version · live, date published)', () => {
    assert.equal(text(doc.querySelector('.kicker')), 'Guide · Beginner');
    assert.equal(text(doc.querySelector('h1')), 'Meta AI: The Open-Weights Giant Eyeing Superintelligence');
    const chips = doc.querySelectorAll('.guide-head .chip').map(text);
    assert.deepEqual(chips, ['Meta', 'Beginner', 'active', 'v1 · live', 'published 1 May 2026', '5 min read']);
    const age = doc.querySelector('.guide-head time')!;
    assert.equal(age.getAttribute('datetime'), '2026-05-01T09:00:00Z');
    assert.equal(age.getAttribute('title'), '1 May 2026, 09:00 UTC');
    assert.equal(doc.querySelector('.guide-head a.chip')!.getAttribute('href'), '../../topics/meta/index.html');
  });

  it('TL;DR and the six key takeaways come first', () => {
    assert.match(text(doc.querySelector('.tldr')), /^TL;DR Meta built its AI reputation by giving powerful models away for free/);
    const takeaways = doc.querySelectorAll('.takeaways li');
    assert.equal(takeaways.length, 6);
    assert.match(text(takeaways[4]!), /roughly 16% of automated AI internet traffic/);
    const order = ['.tldr', '.takeaways', '.toc', '.prose'].map((s) => doc.innerHTML.indexOf(doc.querySelector(s)!.outerHTML));
    assert.deepEqual([...order].sort((a, b) => a - b), order);
  });

  it('body sections with stable anchors and a table of contents', () => {
    const ids = doc.querySelectorAll('.prose h2').map((h) => h.getAttribute('id'));
    assert.deepEqual(ids, [
      'what-meta-is-in-ai',
      'why-it-matters-to-you',
      'the-llama-story-from-text-to-vision-to-the-edge',
      'the-pivot-muse-spark-and-superintelligence-labs',
      'building-the-infrastructure-underneath',
      'ai-in-the-real-world-and-the-risks',
      'where-meta-is-heading',
    ]);
    const toc = doc.querySelectorAll('.toc a').map((a) => a.getAttribute('href'));
    assert.deepEqual(toc, [...ids.map((id) => `#${id}`), '#timeline', '#faq']);
  });

  it('the timeline has the seven dated entries', () => {
    const items = doc.querySelectorAll('.timeline li');
    assert.equal(items.length, 7);
    assert.deepEqual(
      items.map((li) => li.querySelector('time')!.getAttribute('datetime')),
      ['2023-07-18', '2023-08-24', '2024-04-18', '2024-07-23', '2024-09-25', '2025-04-05', '2026-04-08'],
    );
    assert.equal(text(items[0]!.querySelector('time')), '18 July 2023');
    assert.match(text(items[6]!), /Muse Spark launched/);
  });

  it('related topics link to topic pages, and the FAQ has five entries', () => {
    const chips = doc.querySelectorAll('.related-topics .chip');
    assert.deepEqual(chips.map(text), ['Llama', 'Muse Spark', 'Meta Superintelligence Labs', 'Llama-4-Maverick', 'Hugging Face', 'OpenAI', 'Anthropic']);
    // Two of them have no active guide and no story: named, not linked to an empty page.
    const related = doc.querySelectorAll('.related-topics a');
    assert.deepEqual(related.map(text), ['Llama', 'Muse Spark', 'Meta Superintelligence Labs', 'OpenAI', 'Anthropic']);
    assert.equal(related[3]!.getAttribute('href'), '../../topics/openai/index.html');
    assert.equal(doc.querySelectorAll('.faq h3').length, 5);
    assert.equal(text(doc.querySelector('.faq h3')), 'What is the Llama family and why is it a big deal?');
  });

  it('the "Stay current" box holds the form serve shows, posting an address to /subscribe for Midweek and Sunday', () => {
    const box = doc.querySelector('.stay-current')!;
    assert.match(text(box), /Call Me Almanac pairs the week's AI news with guides like this one — Midweek & Sunday\./);
    const form = box.querySelector('template.subscribe-served form')!;
    assert.equal(form.getAttribute('method'), 'post');
    assert.equal(form.getAttribute('action'), '../../subscribe');
    assert.equal(form.querySelector('input[type=email]')!.getAttribute('name'), 'email');
    assert.deepEqual(form.querySelectorAll('input[name=editions]').map((i) => i.getAttribute('value')), ['midweek', 'sunday']);
  });

  it('the version list, related guides and "More on Meta" news cards', () => {
    const versions = doc.querySelectorAll('.versions li');
    assert.equal(versions.length, 1);
    assert.match(text(versions[0]!), /^v1 live 1 May 2026 \(this page\) First edition$/);

    const related = doc.querySelectorAll('.related-guides .guide-card h3').map(text);
    assert.equal(related.length, 4);
    assert.equal(text(doc.querySelector('.related-guides h2')), 'Related guides (4)');
    // Muse Spark shares three of Meta's topics, more than any other guide.
    assert.equal(related[0], "Muse Spark: Meta's First Closed-Weights Model, Explained");

    assert.equal(text(doc.querySelector('.more-on h2')), 'More on Meta (6)');
    const cards = doc.querySelectorAll('.more-on .news-card');
    assert.equal(cards.length, 6);
    const first = cards[0]!;
    assert.equal(text(first.querySelector('.score')), 'Importance 7 of 10');
    assert.ok(first.querySelector('.score')!.classList.contains('score-7'));
    assert.equal(text(first.querySelector('.source')), 'The Verge');
    assert.equal(text(first.querySelector('time')), '16 Jun 2026');
    assert.equal(first.querySelector('time')!.getAttribute('datetime'), '2026-06-16T17:00:00Z');
    const source = first.querySelectorAll('a').find((a) => text(a).startsWith('source ↗'))!;
    assert.equal(source.getAttribute('href'), 'https://www.theverge.com/2026/6/16/anduril-meta-military-ar-headset');
  });

  it('JSON-LD describes the Article and the FAQPage', () => {
    const blocks = doc.querySelectorAll('script[type="application/ld+json"]').map((s) => JSON.parse(s.textContent));
    assert.deepEqual(blocks.map((b) => b['@type']), ['Article', 'FAQPage']);
    assert.equal(blocks[0].headline, 'Meta AI: The Open-Weights Giant Eyeing Superintelligence');
    assert.equal(blocks[0].url, 'http://localhost:4000/guides/meta/');
    assert.equal(blocks[1].mainEntity.length, 5);
    assert.equal(blocks[1].mainEntity[0]['@type'], 'Question');
  });

  it('meta description, canonical URL and language', () => {
    assert.match(doc.querySelector('meta[name=description]')!.getAttribute('content')!, /^Meta built its AI reputation/);
    assert.equal(doc.querySelector('link[rel=canonical]')!.getAttribute('href'), 'http://localhost:4000/guides/meta/');
    assert.equal(doc.querySelector('html')!.getAttribute('lang'), 'en');
  });
});

describe('versions on the site', () => {
  it('the guide URL shows the latest; each version has its own page; older ones say so', async () => {
    const latest = await page('guides/llama-4/index.html');
    const v2 = await page('guides/llama-4/v2.html');
    const v1 = await page('guides/llama-4/v1.html');
    assert.equal(text(latest.querySelector('.prose')), text(v2.querySelector('.prose')));
    assert.match(text(latest.querySelector('.prose')), /How Llama 4 compares/);
    assert.doesNotMatch(text(v1.querySelector('.prose')), /How Llama 4 compares/);
    assert.ok(latest.querySelector('.chip-live'));
    assert.equal(latest.querySelector('.notice'), null);
    const notice = v1.querySelector('.notice')!;
    assert.match(text(notice), /You are reading v1 of this guide, published 20 Apr 2026\. The latest is v2, published 12 Jun 2026\./);
    assert.equal(notice.querySelector('a')!.getAttribute('href'), '../../guides/llama-4/index.html');
    assert.equal(v1.querySelector('link[rel=canonical]')!.getAttribute('href'), 'http://localhost:4000/guides/llama-4/v1.html');
    assert.equal(v1.querySelector('meta[name=robots]')!.getAttribute('content'), 'noindex');
    const list = latest.querySelectorAll('.versions li').map(text);
    assert.equal(list.length, 2);
    assert.match(list[0]!, /^v2 live 12 Jun 2026 /);
    assert.match(list[0]!, /Adds a comparison with Muse Spark/);
    assert.match(list[1]!, /^v1 20 Apr 2026 First edition$/);
  });
});

describe('the rest of the site', () => {
  it('home page: lead guide, top stories, topics, subscribe box', async () => {
    const home = await page('index.html');
    assert.equal(text(home.querySelector('title')), 'Call Me Almanac');
    assert.ok(home.querySelector('.card-lead'));
    assert.equal(home.querySelectorAll('.news-card').length, 6);
    const scores = home.querySelectorAll('.news-card .score').map((s) => Number(text(s).match(/\d+/)![0]));
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'top stories by importance');
    assert.ok(home.querySelector('#subscribe form'));
  });

  it('guides index with level filter pages', async () => {
    const all = await page('guides/index.html');
    assert.equal(all.querySelectorAll('.guide-card').length, 5);
    const levels = all.querySelectorAll('.filters a').slice(0, 4).map(text);
    assert.deepEqual(levels, ['All levels 5', 'Beginner 3', 'Intermediate 2', 'Advanced 0']);
    const beginner = await page('guides/level/beginner/index.html');
    assert.equal(beginner.querySelectorAll('.guide-card').length, 3);
    assert.equal(text(beginner.querySelector('a[aria-current=true]')), 'Beginner 3');
  });

  it('one page per topic with its guides and news', async () => {
    const topic = await page('topics/muse-spark/index.html');
    assert.equal(text(topic.querySelector('h1')), 'Muse Spark');
    assert.equal(topic.querySelectorAll('.guide-card').length, 3);
    assert.ok(topic.querySelectorAll('.news-card').length >= 7);
    const index = await page('topics/index.html');
    // Fourteen of the sample's topics have an active guide or a story; the rest have no page.
    assert.equal(index.querySelectorAll('.topic-list li').length, 14);
  });

  it('the news page shows one story per normalised URL, newest first', async () => {
    const news = await page('news/index.html');
    const titles = news.querySelectorAll('.news-card h2').map(text);
    assert.equal(titles.length, 18, 'the newsletter link with utm_* parameters is the launch story');
    assert.equal(titles.filter((t) => t.startsWith('Meta Introduces Muse Spark: First Model')).length, 1);
    const launch = news.querySelectorAll('.news-card').find((c) => text(c).includes('First Model from Meta Superintelligence Labs'))!;
    assert.match(text(launch.querySelector('.also')), /Also covered by Meta AI Newsletter/);
    const times = news.querySelectorAll('.news-card time').map((t) => Date.parse(t.getAttribute('datetime')!));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
  });

  it('404 page, sitemap, robots.txt', async () => {
    const notFound = await page('404.html');
    // Sent at any path and opened from disk alike: no one stylesheet address works from all of them.
    assert.equal(notFound.querySelectorAll('link[rel=stylesheet]').length, 0);
    assert.equal(notFound.querySelector('style')!.textContent, await readFile(path.join(root, 'dist/assets/style.css'), 'utf8'));
    const xml = new XMLParser().parse(await readFile(path.join(root, 'dist/sitemap.xml'), 'utf8'));
    const locs: string[] = xml.urlset.url.map((u: { loc: string }) => u.loc);
    assert.ok(locs.includes('http://localhost:4000/guides/meta/'));
    assert.ok(locs.includes('http://localhost:4000/topics/meta/'));
    assert.ok(!locs.some((l) => /\/v\d+\.html$/.test(l)), 'version pages are not indexed');
    assert.match(await readFile(path.join(root, 'dist/robots.txt'), 'utf8'), /Sitemap: http:\/\/localhost:4000\/sitemap.xml/);
  });

  it('RSS, Atom and JSON feeds of the guides', async () => {
    const xml = new XMLParser({ ignoreAttributes: false });
    const rss = xml.parse(await readFile(path.join(root, 'dist/feeds/guides.xml'), 'utf8'));
    assert.equal(rss.rss.channel.item.length, 5);
    assert.equal(rss.rss.channel.item[0].title, 'Llama 4: Scout, Maverick and the Still-Training Behemoth (v2: Adds a comparison with Muse Spark, Claude Opus 4.6 and GPT-5.4, and a decision tree for developers)');
    const atom = xml.parse(await readFile(path.join(root, 'dist/feeds/guides.atom'), 'utf8'));
    assert.equal(atom.feed.entry.length, 5);
    assert.equal(atom.feed.updated, '2026-06-12T09:00:00.000Z');
    const json = JSON.parse(await readFile(path.join(root, 'dist/feeds/guides.json'), 'utf8'));
    assert.equal(json.version, 'https://jsonfeed.org/version/1.1');
    // A version after the first: a new entry (the version's own page), linking to what changed in it.
    assert.equal(json.items[0].url, 'http://localhost:4000/guides/llama-4/#what_changed');
    assert.equal(json.items[0].id, 'http://localhost:4000/guides/llama-4/v2.html');
  });
});

describe('untrusted news text stays text', () => {
  it('escapes titles, drops raw HTML and unsafe links in summaries', async () => {
    const site = await tempSite();
    await writeFiles(site, {
      'content/guides/g/guide.md': `---\ntitle: G\nlevel: beginner\ntopics: [Security]\ntldr: T\ntakeaways: [x]\n---\n\n## S\n\nBody.\n`,
      'content/news/evil.md': [
        '---',
        'title: "<script>alert(1)</script><img src=x onerror=alert(2)>"',
        'url: https://example.com/evil',
        'source: "Evil <b>Wire</b>"',
        'published: 2026-06-01',
        'score: 9',
        'topics: [Security]',
        '---',
        'Click [here](javascript:alert(3)) or <a href="javascript:alert(4)" onclick="x()">there</a>.',
        '<img src=x onerror=alert(5)> <iframe src="https://evil.example"></iframe>',
        '[fine](https://example.com/ok)',
      ].join('\n'),
    });
    assert.equal((await almanac(['guide', 'publish', 'g', '--note', 'First', '--root', site, '--now', NOW])).code, 0);
    const run = await almanac(['build', '--root', site, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    for (const rel of ['news/index.html', 'topics/security/index.html', 'guides/g/index.html']) {
      const html = await readFile(path.join(site, 'dist', rel), 'utf8');
      const doc = parse(html);
      // The site's own scripts only (the guide's table of contents), never one from the content.
      const scripts = doc.querySelectorAll('script:not([type="application/ld+json"])').map((s) => s.getAttribute('src'));
      assert.deepEqual(scripts, rel.startsWith('guides/') ? ['../../assets/toc.js'] : [], rel);
      assert.equal(doc.querySelectorAll('img').length, 0, rel);
      assert.equal(doc.querySelectorAll('iframe').length, 0, rel);
      assert.ok(!doc.querySelectorAll('[onerror],[onclick]').length, rel);
      assert.ok(!doc.querySelectorAll('a').some((a) => /^javascript:/i.test(a.getAttribute('href') ?? '')), rel);
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), rel);
      assert.ok(doc.querySelectorAll('a').some((a) => a.getAttribute('href') === 'https://example.com/ok'), rel);
    }
  });
});
