// The search page against one Pagefind index of the same records, query by query, each typed on a
// fresh page (so that it is the first search of the page): words with hyphens, apostrophes, accents,
// CJK and numbers, stemming, several words, and quoted phrases alone or beside other words; and the
// words index is searched without downloading its records.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadSite } from '../src/content/load.ts';
import { sitePages } from '../src/site/pages.ts';
import { pagefindIndexer } from '../src/site/search-index.ts';
import { searchRecords } from '../src/site/search-records.ts';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { launchBrowser, serveStatic } from './helpers/browser.ts';

const story = (title: string, published: string, body: string, source = 'Example') =>
  `---\ntitle: ${JSON.stringify(title)}\nurl: https://example.org/${encodeURIComponent(title)}\nsource: ${source}\npublished: ${published}\nscore: 4\n---\n${body}\n`;

describe('the search page gives what one index of the site gives', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let page: Page;
  const problems: string[] = [];
  const requested: string[] = [];

  before(async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/news/a.md': story('Harbour fireworks', '2026-03-04', "Fireworks at the state-of-the-art harbour. Don't panic. Café Zürich 東京タワー 3.5 GPT-4o.", 'Wombatpress'),
      'content/news/b.md': story('Quiet night', '2026-03-10', 'Some fireworks were seen far away on a quiet night.'),
      'content/news/c.md': story('Gas plant', '2026-05-20', 'The gas-fired plant opens. state art. cafe zurich. 東京 GPT 4o running runner, a quiet evening'),
      'content/news/d.md': story('Depot', '2026-05-22', 'A fire at the depot. Wombat sighting. quiet, night'),
      // Its words, once each in the order first met, no longer hold "quiet night" side by side.
      'content/news/f.md': story('Owls', '2026-04-02', 'the night owls are quiet and then on a quiet night'),
      'content/news/e.md': story('Older', '2025-05-22', 'An older story about the depot fire and runs on a quiet night. Wombatpressing'),
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    // One Pagefind index of the same records, beside the shards.
    const site = await loadSite(root);
    const records = searchRecords(sitePages(site, Date.parse(NOW)).pages, site.config.language, site.config.timezone);
    for (const [file, data] of await pagefindIndexer.index(records)) {
      await mkdir(path.dirname(path.join(root, 'dist/one', file)), { recursive: true });
      await writeFile(path.join(root, 'dist/one', file), data);
    }
    server = await serveStatic(path.join(root, 'dist'));
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (m) => problems.push(`console ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The titles the search page shows for `q` as the first search of a fresh page, and its status. */
  async function shown(q: string): Promise<{ titles: string[]; status: string }> {
    await page.goto(`${server.url}/search/index.html?q=${encodeURIComponent(q)}`, { waitUntil: 'load' });
    const status = page.locator('#search-status');
    await status.filter({ hasText: /results? for|not available/ }).waitFor({ timeout: 20_000 });
    return { titles: (await page.locator('#search-results a').allTextContents()).sort(), status: (await status.textContent())! };
  }

  /** The titles one Pagefind index of the whole site gives for `q`. */
  async function one(q: string): Promise<string[]> {
    await page.goto(`${server.url}/404.html`, { waitUntil: 'load' });
    const titles = await page.evaluate(async ([q]) => {
      const pf = await import(new URL('/pagefind/words/pagefind.js', location.href).href);
      const found = await pf.createInstance({ basePath: '/one/', noWorker: true }).search(q);
      return Promise.all(found.results.map(async (r: { data(): Promise<{ meta: { title: string } }> }) => (await r.data()).meta.title));
    }, [q]);
    return titles.sort();
  }

  const queries = [
    'fireworks', 'state-of-the-art', "don't", 'café', 'cafe', '東京', '3.5', 'gpt-4o', 'running', 'quiet fireworks', 'fire depot',
    'fireworkz quiet', 'wombat', 'wombatpress', 'news', 'example', 'examples', 'harbou', 'zzqq fireworks',
    '"quiet night"', '"fire at"', '"quiet night" fireworks', 'depot "quiet night"', '"quiet night" owls',
    // The first search of a page being a phrase: several times, as it failed only now and then.
    ...Array.from({ length: 5 }, () => '"quiet night"'),
  ];
  for (const [n, q] of queries.entries()) {
    it(`${q} (${n})`, async () => {
      const expected = await one(q);
      problems.length = 0;
      requested.length = 0;
      const got = await shown(q);
      assert.deepEqual(got.titles, expected, got.status);
      assert.deepEqual(problems, []);
      // The words index's records (each all the words of a shard: large for a guide of many distinct
      // words) are never downloaded: the shards come from the counts of its filter.
      assert.deepEqual(requested.filter((p) => p.startsWith('/pagefind/words/fragment/')), []);
    });
  }

  it('a site with nothing to search says there is no result, without an error', async () => {
    const root = await tempSite();
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const empty = await serveStatic(path.join(root, 'dist'));
    try {
      problems.length = 0;
      await page.goto(`${empty.url}/search/index.html?q=anything`, { waitUntil: 'load' });
      const status = page.locator('#search-status');
      await status.filter({ hasText: /results? for|not available/ }).waitFor({ timeout: 20_000 });
      assert.equal(await status.textContent(), 'No results for “anything”.');
      assert.deepEqual(problems, []);
    } finally {
      await empty.close();
    }
  });
});
