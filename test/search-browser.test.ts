// Site search in real Chromium, by keyboard only, at 375 and 1280 px in both colour schemes: a word
// found only in the body of one guide's latest version leads to that guide; a word of an old story,
// in another shard of the index than the guides, is found too, and results from several shards come
// in one list; a word in one shard only gives that shard's hits and no near match of another shard,
// and a word found nowhere gives what one Pagefind index of the whole site gives; text from content
// stays text in the results; dist/ opened from disk says that search needs a server.
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadSite } from '../src/content/load.ts';
import { sitePages } from '../src/site/pages.ts';
import { pagefindIndexer } from '../src/site/search-index.ts';
import { searchRecords } from '../src/site/search-records.ts';
import { NOW, PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { launchBrowser, serveStatic } from './helpers/browser.ts';

const ARTIFACTS = path.join(PROJECT, 'test-artifacts/screenshots/site');
// In the body of llama-4's v2 and of no other guide, version or story (v1 does not have it).
const WORD = 'fireworks';
const HOSTILE_TITLE = '<img src=x onerror="window.__injected=1">Qwzyx launch <b>bold</b>';

/** Console errors, page errors, failed requests and the hosts asked, for one page. */
function watch(page: Page): { problems: string[]; hosts: Set<string> } {
  const problems: string[] = [];
  const hosts = new Set<string>();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // A request the page itself cancels by going on to the next page (its icon, say) is no fault.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('request', (r) => hosts.add(new URL(r.url()).host));
  return { problems, hosts };
}

describe('search in Chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let dist: string;

  before(async () => {
    const root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    await writeFile(
      path.join(root, 'content/news/hostile-search.md'),
      `---\ntitle: ${JSON.stringify(HOSTILE_TITLE)}\nurl: https://example.org/qwzyx\nsource: "<i>Src</i>"\npublished: 2026-06-01\nscore: 3\n---\nQwzyx <script>window.__injected=2</script> summary.\n`,
    );
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    dist = path.join(root, 'dist');
    server = await serveStatic(dist);
    browser = await launchBrowser();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const width of [375, 1280]) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`finds a guide by a word of its body and opens it, by keyboard, at ${width} px (${scheme})`, async () => {
        const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
        const page = await context.newPage();
        const { problems, hosts } = watch(page);
        await page.goto(`${server.url}/guides/`, { waitUntil: 'load' });

        // Tab from the top of the page to the header's search box (a bounded number of steps).
        let reached = false;
        for (let i = 0; i < 20 && !reached; i++) {
          await page.keyboard.press('Tab');
          reached = await page.evaluate(() => document.activeElement?.id === 'site-search-q');
        }
        assert.ok(reached, 'the header search box is reachable with Tab');
        const box = await page.evaluate(() => {
          const r = document.getElementById('site-search-q')!.getBoundingClientRect();
          return { left: r.left, right: r.right, width: r.width };
        });
        assert.ok(box.left >= 0 && box.right <= width && box.width >= 120, `search box inside the viewport: ${JSON.stringify(box)}`);
        await page.keyboard.type(WORD);
        await Promise.all([page.waitForURL(/\/search\/index\.html\?q=fireworks$/), page.keyboard.press('Enter')]);

        const status = page.locator('#search-status');
        await status.filter({ hasText: /result/ }).waitFor({ timeout: 15_000 });
        const links = page.locator('#search-results a');
        assert.equal(await status.textContent(), `${await links.count()} ${(await links.count()) === 1 ? 'result' : 'results'} for “${WORD}”.`);
        // The only record with the word, and nothing else.
        assert.equal(await links.first().textContent(), 'Llama 4: Scout, Maverick and the Still-Training Behemoth');
        assert.match((await links.first().getAttribute('href'))!, /\/guides\/llama-4\/index\.html$/);
        assert.equal(await page.locator('#search-results .kicker').first().textContent(), 'Guide · Intermediate');
        assert.equal(await links.count(), 1);
        assert.match((await page.locator('#search-results mark').first().textContent())!, /fireworks/i);

        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `no horizontal overflow (${overflow} px)`);
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bg, scheme === 'dark' ? 'rgb(21, 20, 18)' : 'rgb(251, 250, 247)');
        await page.screenshot({ path: path.join(ARTIFACTS, `search-${width}-${scheme}.png`), fullPage: true });
        await page.addScriptTag({ path: path.join(PROJECT, 'node_modules/axe-core/axe.min.js') });
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
          return (await axe.run()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        });
        assert.deepEqual(violations, [], 'axe-core finds nothing on the search page with its results');

        // The search page's box has the focus: an arrow key moves to the result, Enter opens it.
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'search-page-q');
        await page.keyboard.press('ArrowDown');
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Llama 4: Scout, Maverick and the Still-Training Behemoth');
        await Promise.all([page.waitForURL(/\/guides\/llama-4\/index\.html$/), page.keyboard.press('Enter')]);
        assert.equal(await page.locator('h1').first().textContent(), 'Llama 4: Scout, Maverick and the Still-Training Behemoth');

        assert.deepEqual(problems, []);
        assert.deepEqual([...hosts], [new URL(server.url).host], 'no request to any other host');
        await context.close();
      });
    }
  }

  it('finds a guide\'s word and an old story\'s word (another shard), and ranks results of both shards in one list', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const { problems } = watch(page);
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(`${server.url}/search/index.html?q=${WORD}`, { waitUntil: 'load' });
    const status = page.locator('#search-status');
    await status.filter({ hasText: /result/ }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#search-results a').first().textContent(), 'Llama 4: Scout, Maverick and the Still-Training Behemoth');
    assert.equal(await page.locator('#search-results .kicker').first().textContent(), 'Guide · Intermediate');

    // In March's shard only: the guides' index knows nothing of it.
    const input = page.locator('#search-page-q');
    await input.fill('moltbook');
    await status.filter({ hasText: /moltbook/ }).waitFor({ timeout: 15_000 });
    assert.match((await status.textContent())!, /^\d+ results? for “moltbook”\.$/);
    assert.equal(await page.locator('#search-results a').first().textContent(), 'Meta Acquires Moltbook, the Social Network Where AI Agents Talk to Each Other');
    assert.equal(await page.locator('#search-results .kicker').first().textContent(), 'News · Meta Newsroom');

    // In two guides and in a March story: one list with both kinds.
    await input.fill('mtia');
    await status.filter({ hasText: /mtia/ }).waitFor({ timeout: 15_000 });
    const kickers = await page.locator('#search-results .kicker').allTextContents();
    const titles = await page.locator('#search-results a').allTextContents();
    assert.ok(kickers.some((k) => k.startsWith('Guide · ')), kickers.join(' | '));
    assert.ok(titles.includes('Meta Announces Four MTIA AI Chip Generations in Two Years: MTIA 300–500 Roadmap'), titles.join(' | '));
    assert.equal(await status.textContent(), `${titles.length} results for “mtia”.`);

    // The manifest was read, Pagefind's script loaded from the words index only, and the shards
    // with a match loaded for their index.
    assert.ok(requested.includes('/pagefind/shards.json'));
    assert.ok(requested.includes('/pagefind/words/pagefind.js'));
    for (const shard of ['guides', 'news-2026-03']) assert.ok(requested.includes(`/pagefind/${shard}/pagefind-entry.json`), shard);
    for (const shard of ['guides', 'news-2026-06', 'news-2026-05', 'news-2026-04', 'news-2026-03']) {
      assert.ok(!requested.includes(`/pagefind/${shard}/pagefind.js`), shard);
    }
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('a word in one shard gives exactly its hits there, best first; a word found nowhere, what one index of the whole site gives', async () => {
    const root = await tempSite();
    const story = (title: string, published: string, body: string) =>
      `---\ntitle: ${JSON.stringify(title)}\nurl: https://example.org/${encodeURIComponent(title)}\nsource: Example\npublished: ${published}\nscore: 4\n---\n${body}\n`;
    await writeFiles(root, {
      // March: the only stories with "fireworks".
      'content/news/fireworks-1.md': story('Fireworks over the harbour', '2026-03-04', 'Fireworks and more fireworks lit the harbour.'),
      'content/news/fireworks-2.md': story('A quiet night', '2026-03-10', 'Some fireworks were seen far away, on a long and quiet night by the sea with little else going on at all, as the town slept.'),
      // May: words that begin "fireworks" ("gas-fired" is indexed as "fire" too), which one index never shows for it.
      'content/news/gas.md': story('A gas-fired plant opens', '2026-05-20', 'The gas-fired plant opens.'),
      'content/news/depot.md': story('Trouble at the depot', '2026-05-22', 'A fire at the depot.'),
      'content/news/quolls.md': story('Quolls in June', '2026-06-01', 'Quolls.'),
    });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    // One Pagefind index of the same records, beside the shards: what a single index answers.
    const site = await loadSite(root);
    const records = searchRecords(sitePages(site, Date.parse(NOW)).pages, site.config.language, site.config.timezone);
    for (const [file, data] of await pagefindIndexer.index(records)) {
      await mkdir(path.dirname(path.join(root, 'dist/one', file)), { recursive: true });
      await writeFile(path.join(root, 'dist/one', file), data);
    }
    const local = await serveStatic(path.join(root, 'dist'));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const { problems } = watch(page);
      /** The titles the search page shows for `q`, and its status line. */
      const shown = async (q: string) => {
        await page.goto(`${local.url}/search/index.html?q=${encodeURIComponent(q)}`, { waitUntil: 'load' });
        const status = page.locator('#search-status');
        await status.filter({ hasText: /results? for/ }).waitFor({ timeout: 15_000 });
        return { titles: await page.locator('#search-results a').allTextContents(), status: await status.textContent() };
      };
      /** The titles one Pagefind index (`dir` below the site) gives for `q`, best first. */
      const answers = (dir: string, q: string) =>
        page.evaluate(
          async ([dir, q, script]) => {
            const pf = await import(new URL(script!, location.href).href);
            const found = await pf.createInstance({ basePath: dir, noWorker: true }).search(q);
            return Promise.all(found.results.map(async (r: { data(): Promise<{ meta: { title: string } }> }) => (await r.data()).meta.title));
          },
          [dir, q, '/pagefind/words/pagefind.js'],
        );

      // The trap: May's shard alone answers "fireworks" with its near words.
      await page.goto(`${local.url}/search/index.html`, { waitUntil: 'load' });
      assert.deepEqual((await answers('/pagefind/news-2026-05/', 'fireworks')).sort(), ['A gas-fired plant opens', 'Trouble at the depot']);

      const fireworks = await shown('fireworks');
      assert.deepEqual(fireworks.titles, await answers('/pagefind/news-2026-03/', 'fireworks'), "March's hits, in its order");
      assert.deepEqual(fireworks.titles, ['Fireworks over the harbour', 'A quiet night']);
      assert.deepEqual([...fireworks.titles].sort(), (await answers('/one/', 'fireworks')).sort());
      assert.equal(fireworks.status, '2 results for “fireworks”.');

      // Found nowhere, but begun by a word of the site: one index matches the longest such word of
      // the whole site ("firework", not May's "fire"), and so does the search page.
      const near = await shown('fireworkz');
      assert.deepEqual([...near.titles].sort(), (await answers('/one/', 'fireworkz')).sort());
      assert.deepEqual([...near.titles].sort(), ['A quiet night', 'Fireworks over the harbour']);
      // Begun by no word of the site: one index finds nothing, and the page says so.
      assert.deepEqual(await answers('/one/', 'qqzzyx'), []);
      assert.deepEqual(await shown('qqzzyx'), { titles: [], status: 'No results for “qqzzyx”.' });
      // A pasted page of text is repeated shortened, whole characters only.
      const long = `${'🔥'.repeat(79)}qqzzyx ${'word '.repeat(2000)}`;
      assert.deepEqual(await shown(long), { titles: [], status: `No results for “${'🔥'.repeat(79)}q…”.` });
      // A character of several code points (a family emoji, a flag, a letter and its accent) is kept whole.
      const family = '👩\u200d👩\u200d👧';
      const mixed = `${family.repeat(40)}${'🇫🇷'.repeat(39)}e\u0301e\u0301 qqzzyx`;
      assert.deepEqual(await shown(mixed), { titles: [], status: `No results for “${family.repeat(40)}${'🇫🇷'.repeat(39)}e\u0301…”.` });
      // A word in two shards: the hits of both, as one index gives them.
      const fire = await shown('fire');
      assert.deepEqual([...fire.titles].sort(), (await answers('/one/', 'fire')).sort());
      assert.equal(fire.titles.length, 4);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await local.close();
    }
  });

  it('shows markup from a news item as text, and runs none of it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const { problems } = watch(page);
    await page.goto(`${server.url}/search/index.html?q=qwzyx`, { waitUntil: 'load' });
    await page.locator('#search-status').filter({ hasText: /result/ }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#search-results a').first().textContent(), HOSTILE_TITLE);
    assert.equal(await page.locator('#search-results .kicker').first().textContent(), 'News · <i>Src</i>');
    assert.equal(await page.locator('#search-results img, #search-results b, #search-results i, #search-results script').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected), undefined);
    assert.equal(await page.locator('#search-results a').first().getAttribute('href'), 'https://example.org/qwzyx');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('a site with news and no guide: its stories are found', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/news/numbat.md': '---\ntitle: "A story about numbats"\nurl: https://example.org/numbat\nsource: Example\npublished: 2026-05-20\nscore: 4\n---\nNumbats.\n',
      'content/news/quoll.md': '---\ntitle: "An older story about quolls"\nurl: https://example.org/quoll\nsource: Example\npublished: 2026-03-02\nscore: 4\n---\nQuolls.\n',
    });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const local = await serveStatic(path.join(root, 'dist'));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const { problems } = watch(page);
      for (const [word, title] of [['numbats', 'A story about numbats'], ['quolls', 'An older story about quolls']]) {
        await page.goto(`${local.url}/search/index.html?q=${word}`, { waitUntil: 'load' });
        await page.locator('#search-status').filter({ hasText: /result/ }).waitFor({ timeout: 15_000 });
        assert.equal(await page.locator('#search-results a').first().textContent(), title);
      }
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await local.close();
    }
  });

  it('opened from disk, says that search needs a server, without an error', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 900 } });
    const page = await context.newPage();
    const { problems } = watch(page);
    const url = pathToFileURL(path.join(dist, 'search/index.html'));
    url.search = '?q=fireworks';
    await page.goto(url.href, { waitUntil: 'load' });
    await page.locator('#search-status').filter({ hasText: /served over HTTP/ }).waitFor({ timeout: 5_000 });
    assert.equal(await page.locator('#search-results li').count(), 0);
    // The page itself still reads: styled, with its header form.
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(251, 250, 247)');
    assert.equal(await page.locator('form[role="search"]').count(), 2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'search-file-375.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
