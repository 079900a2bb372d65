// What a static page may say and link: dates that stay true, topics only with a page behind them,
// and a subscribe box that works wherever the pages are hosted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, type HTMLElement } from 'node-html-parser';
import { readConfig } from '../src/content/config-file.ts';
import { securityHeaders } from '../src/server/app.ts';
import { servedPage, styleSources } from '../src/server/served-page.ts';
import { countWords, readingTime } from '../src/words/reading-time.ts';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const text = (el: HTMLElement | null) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : '');

/** Every HTML page of a built site, by path below dist/. */
async function pages(root: string): Promise<Map<string, string>> {
  const dist = path.join(root, 'dist');
  const out = new Map<string, string>();
  for (const rel of await readdir(dist, { recursive: true })) {
    if (rel.endsWith('.html') && !rel.endsWith('email.html')) out.set(rel, await readFile(path.join(dist, rel), 'utf8'));
  }
  return out;
}

async function build(root: string, now = NOW): Promise<void> {
  const run = await almanac(['build', '--root', root, '--now', now]);
  assert.equal(run.code, 0, run.stderr);
}

async function publish(root: string, slug: string, at: string): Promise<void> {
  const run = await almanac(['guide', 'publish', slug, '--note', 'First edition', '--root', root, '--now', at]);
  assert.equal(run.code, 0, run.stderr);
}

const guide = (title: string, topics: string[], more = '') =>
  `---\ntitle: ${title}\nlevel: beginner\ntopics: [${topics.join(', ')}]\ntldr: A short summary.\ntakeaways: [One thing]\n${more}---\n\n## First\n\nBody text.\n`;

const news = (title: string, published: string, topics: string[]) =>
  `---\ntitle: ${title}\nurl: https://example.com/${encodeURIComponent(title)}\nsource: Example Wire\npublished: ${published}\nscore: 5\ntopics: [${topics.join(', ')}]\n---\nA summary.\n`;

/** A relative age as news sites write one: "3d ago", "just now", "in 2h". */
const RELATIVE = /\b\d+\s?(m|h|d|w|mo|y)\s+ago\b|\bjust now\b|\bin \d+(m|h|d|mo|y)\b|\bago\b/i;

const ZONES = ['UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kathmandu', 'Pacific/Auckland', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];

describe('dates on static pages', () => {
  it('a page shows the calendar date in the site time zone, in <time datetime>, and never an age', async () => {
    const root = await tempSite();
    const day = 86_400_000;
    const from = Date.parse('2024-01-01T00:00:00Z');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: 2 * 365 * day }),
        fc.integer({ min: 0, max: 2 * 365 * day }),
        fc.integer({ min: 0, max: 400 * day }),
        async (zone, guideAt, storyAt, later) => {
          const guideIso = new Date(from + guideAt).toISOString();
          const storyIso = new Date(from + storyAt).toISOString();
          const now = new Date(from + Math.max(guideAt, storyAt) + later).toISOString();
          await import('node:fs/promises').then((fs) => fs.rm(path.join(root, 'content'), { recursive: true, force: true }));
          await writeFiles(root, {
            'almanac.config.json': JSON.stringify({ timezone: zone }),
            'content/guides/g/guide.md': guide('G', ['Tides']),
            'content/news/one.md': news('One', storyIso, ['Tides']),
          });
          await publish(root, 'g', guideIso);
          await build(root, now);
          const all = await pages(root);
          for (const [rel, html] of all) {
            const words = parse(html).querySelector('body')!;
            assert.doesNotMatch(text(words), RELATIVE, `${rel} writes a relative age`);
          }
          const calendar = (iso: string) =>
            new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric' }).format(Date.parse(iso)).replace('Sept', 'Sep');
          const page = parse(all.get('guides/g/index.html')!);
          const published = page.querySelector('.guide-head time')!;
          assert.equal(text(published), calendar(guideIso), `guide published ${guideIso} in ${zone}`);
          assert.equal(Date.parse(published.getAttribute('datetime')!), Date.parse(guideIso));
          const story = parse(all.get('news/index.html')!).querySelector('.news-card time')!;
          assert.equal(text(story), calendar(storyIso), `story published ${storyIso} in ${zone}`);
          assert.equal(Date.parse(story.getAttribute('datetime')!), Date.parse(storyIso));
        },
      ),
      { numRuns: 8, seed: 1807 },
    );
  });

  it('no template or page module writes a relative age', async () => {
    for (const dir of ['templates/site', 'src/site']) {
      for (const rel of await readdir(dir, { recursive: true })) {
        if (!/\.(hbs|ts)$/.test(rel)) continue;
        const source = await readFile(path.join(dir, rel), 'utf8');
        assert.doesNotMatch(source, /\.ago\b|relativeAge/, `${dir}/${rel}`);
      }
    }
  });
});

describe('topics without a guide or a story', () => {
  it('get no page, no link and no sitemap entry; topics with either keep all three', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      // Live: a guide's topic (Tides) and a story's (Currents). Empty: a related topic only (Waves)
      // and the topic of an archived guide only (Kelp).
      'content/guides/live/guide.md': guide('Live', ['Tides'], 'related: [Waves, Currents]\n'),
      'content/guides/old/guide.md': guide('Old', ['Kelp'], 'status: archived\n'),
      'content/news/one.md': news('One', '2026-06-01', ['Currents']),
    });
    await publish(root, 'live', '2026-05-01T09:00:00Z');
    await publish(root, 'old', '2026-04-01T09:00:00Z');
    await build(root);
    const all = await pages(root);
    const sitemap = await readFile(path.join(root, 'dist/sitemap.xml'), 'utf8');
    for (const live of ['tides', 'currents']) {
      assert.ok(all.has(`topics/${live}/index.html`), live);
      assert.match(sitemap, new RegExp(`/topics/${live}/<`), live);
    }
    for (const empty of ['waves', 'kelp']) {
      assert.ok(!all.has(`topics/${empty}/index.html`), `${empty} has a page`);
      assert.doesNotMatch(sitemap, new RegExp(`/topics/${empty}/`), `${empty} is in the sitemap`);
      for (const [rel, html] of all) assert.ok(!html.includes(`topics/${empty}/`), `${rel} links to ${empty}`);
    }
    // Still named where a guide lists it, as text.
    const related = parse(all.get('guides/live/index.html')!).querySelectorAll('.related-topics .chip');
    assert.deepEqual(related.map((c) => [text(c), c.tagName]), [['Waves', 'SPAN'], ['Currents', 'A']]);
    const archived = parse(all.get('guides/old/index.html')!);
    assert.equal(archived.querySelector('.guide-head .chip')!.tagName, 'SPAN');
    assert.equal(text(archived.querySelector('.breadcrumbs')), 'Guides Kelp Old');
    const index = parse(all.get('topics/index.html')!).querySelectorAll('.topic-list a').map(text);
    assert.deepEqual(index, ['Currents', 'Tides']);
  });
});

describe('the "Stay current" box', () => {
  const box = (html: string) => parse(html).querySelector('.stay-current')!;

  it('with subscribeUrl: a form that posts there, on every page that has the box', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ subscribeUrl: 'https://letters.example.org/subscribe' }),
      'content/guides/g/guide.md': guide('G', ['Tides']),
    });
    await publish(root, 'g', '2026-05-01T09:00:00Z');
    await build(root);
    const all = await pages(root);
    let boxes = 0;
    for (const [rel, html] of all) {
      if (!html.includes('class="stay-current"')) continue;
      boxes++;
      const form = box(html).querySelector('form')!;
      assert.equal(form.getAttribute('action'), 'https://letters.example.org/subscribe', rel);
      assert.equal(form.getAttribute('method'), 'post', rel);
      assert.ok(!html.includes('<template'), rel);
      assert.equal(servedPage(html), html, `${rel}: serve leaves it as it is`);
    }
    assert.ok(boxes >= 2, 'home and guide pages have the box');
  });

  it('with neither subscribeUrl nor serve: words on how to subscribe, and no form that cannot work', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ from: 'Tidal Letters <letters@tides.example>' }),
      'content/guides/g/guide.md': guide('G', ['Tides']),
    });
    await publish(root, 'g', '2026-05-01T09:00:00Z');
    await build(root);
    const html = (await pages(root)).get('guides/g/index.html')!;
    const section = box(html);
    const how = section.querySelector('.subscribe-how')!;
    assert.match(text(how), /write to letters@tides\.example/);
    assert.equal(how.querySelector('a')!.getAttribute('href'), 'mailto:letters@tides.example?subject=Subscribe');
    // The only form is inert, inside a <template>, which a browser neither shows nor submits.
    const forms = section.querySelectorAll('form');
    assert.equal(forms.length, 1);
    assert.equal(forms[0]!.parentNode?.tagName, 'TEMPLATE');
  });

  it('served by `serve`: its form, posting to its own /subscribe, in place of the words', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/guides/g/guide.md': guide('G', ['Tides']) });
    await publish(root, 'g', '2026-05-01T09:00:00Z');
    await build(root);
    for (const [rel, html] of await pages(root)) {
      if (!html.includes('class="stay-current"')) continue;
      const served = box(servedPage(html));
      assert.equal(served.querySelector('.subscribe-how'), null, rel);
      assert.equal(served.querySelector('template'), null, rel);
      const form = served.querySelector('form')!;
      assert.equal(form.getAttribute('action'), `${'../'.repeat(rel.split('/').length - 1)}subscribe`, rel);
      assert.equal(form.querySelector('input[type=email]')!.getAttribute('name'), 'email', rel);
    }
  });

  it('subscribeUrl must be https, or http on this machine', async () => {
    const root = await tempSite();
    const cases: [string, boolean][] = [
      ['https://letters.example.org/subscribe', true],
      ['http://localhost:4000/subscribe', true],
      ['http://127.0.0.1:4000/subscribe', true],
      ['http://letters.example.org/subscribe', false],
      ['javascript:alert(1)', false],
      ['https://user:pw@letters.example.org/subscribe', false],
      ['https://letters.example.org/subscribe#x', false],
      ['/subscribe', false],
    ];
    for (const [url, ok] of cases) {
      await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ subscribeUrl: url }));
      const { config, problems } = await readConfig(root);
      assert.deepEqual(problems.map((p) => p.field), ok ? [] : ['subscribeUrl'], url);
      if (ok) assert.equal(config.subscribeUrl, new URL(url).href);
      else assert.match(problems[0]!.expected, /https URL, or http on this machine/);
    }
  });
});

describe('reading time and breadcrumbs', () => {
  it('reading time is the words at 230 a minute, rounded, never under a minute; markup is not words', () => {
    assert.equal(readingTime(0), '1 min read');
    assert.equal(readingTime(344), '1 min read');
    assert.equal(readingTime(345), '2 min read');
    assert.equal(readingTime(1840), '8 min read');
    assert.equal(countWords('<div class="heading"><h2 id="a-b">Big &amp; small</h2><a href="#a-b" aria-label="Link">#</a></div><p>It’s 2026, isn\'t it?</p>'), 6);
  });

  it('a guide page shows its reading time and Guides › topic › guide as a BreadcrumbList', async () => {
    const root = await tempSite();
    const body = Array.from({ length: 40 }, (_, i) => `Sentence ${i} has exactly seven words in it.`).join(' ');
    await writeFiles(root, { 'content/guides/g/guide.md': guide('Deep Tides', ['Tides']).replace('Body text.', `${body}\n\n${body}\n\n${body}`) });
    await publish(root, 'g', '2026-05-01T09:00:00Z');
    await build(root);
    const doc = parse((await pages(root)).get('guides/g/index.html')!);
    // 3 × 40 × 8 words of body, and the title of the section, TL;DR and takeaway: about 4 minutes.
    assert.ok(doc.querySelectorAll('.guide-head .chip').map(text).includes('4 min read'));
    const nav = doc.querySelector('nav.breadcrumbs')!;
    assert.equal(nav.getAttribute('aria-label'), 'Breadcrumb');
    const items = nav.querySelectorAll('ol[itemtype="https://schema.org/BreadcrumbList"] > li[itemprop=itemListElement]');
    assert.deepEqual(
      items.map((li) => [li.querySelector('[itemprop=name]')!.textContent, li.querySelector('a')?.getAttribute('href'), li.querySelector('meta[itemprop=position]')!.getAttribute('content')]),
      [
        ['Guides', '../../guides/index.html', '1'],
        ['Tides', '../../topics/tides/index.html', '2'],
        ['Deep Tides', '../../guides/g/index.html', '3'],
      ],
    );
    assert.equal(items[2]!.querySelector('a')!.getAttribute('aria-current'), 'page');
  });
});

describe('heading anchors and the contents', () => {
  it('a heading named like a part of the page gets an id of its own; the contents name headings as they read', async () => {
    const root = await tempSite();
    const headings = ['Timeline', 'FAQ', 'Main', 'Subscribe', 'Versions title', 'Using `npm` with **care** and <em>HTML</em>', '🚀', 'Dup', 'Dup'];
    const more = 'timeline:\n  - { date: 2026-01, event: Started }\nfaq:\n  - q: Why?\n    a: Because.\n';
    const body = headings.map((h, i) => `## ${h}\n\nText ${i}.\n`).join('\n');
    await writeFiles(root, { 'content/guides/g/guide.md': guide('Ids', ['Tides'], more).replace('## First\n\nBody text.\n', body) });
    await publish(root, 'g', '2026-05-01T09:00:00Z');
    await build(root);
    const doc = parse((await pages(root)).get('guides/g/index.html')!);
    const ids = doc.querySelectorAll('[id]').map((el) => el.id);
    assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'every id once');
    // The page's own targets are still what their links and labels mean.
    assert.equal(doc.getElementById('main')!.tagName, 'MAIN');
    assert.equal(doc.getElementById('subscribe')!.classList.contains('stay-current'), true);
    assert.equal(doc.getElementById('timeline'), doc.querySelector('section.timeline > h2'));
    assert.equal(doc.getElementById('faq'), doc.querySelector('section.faq > h2'));
    // Each of the guide's sections in the contents leads to its heading in the text, named as it reads.
    const toc = doc.querySelectorAll('.toc a').slice(0, headings.length);
    assert.deepEqual(toc.map(text), ['Timeline', 'FAQ', 'Main', 'Subscribe', 'Versions title', 'Using npm with care and HTML', '🚀', 'Dup', 'Dup']);
    for (const a of toc) {
      const target = doc.getElementById(a.getAttribute('href')!.slice(1))!;
      assert.equal(target.tagName, 'H2', a.getAttribute('href'));
      assert.ok(target.closest('.prose'), `${a.getAttribute('href')} is in the text`);
      assert.equal(text(target), text(a));
    }
  });
});

describe('what serve allows', () => {
  it('scripts and styles from the site only; inline styles by their hash; forms to the site and subscribeUrl', () => {
    const own = securityHeaders(undefined)['content-security-policy']!;
    assert.match(own, /script-src 'self' 'wasm-unsafe-eval';/, 'scripts from the site itself, and WebAssembly for search');
    assert.match(own, /form-action 'self';/);
    const elsewhere = securityHeaders('https://letters.example.org/subscribe')['content-security-policy']!;
    assert.match(elsewhere, /form-action 'self' https:\/\/letters\.example\.org;/);
    assert.deepEqual(styleSources('<style>body{color:red}</style><p>x</p>'), ["'sha256-" + createHash('sha256').update('body{color:red}').digest('base64') + "'"]);
    assert.deepEqual(styleSources('<link rel="stylesheet" href="a.css">'), []);
  });
});
