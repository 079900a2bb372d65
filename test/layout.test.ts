// The reading layout in real Chromium at 375 and 1280 px, light and dark: the guide's contents stay
// in view and mark the section being read, body text keeps a readable measure, the home page's
// columns stay balanced, nothing scrolls sideways, and axe-core finds no violation.
// Screenshots go to test-artifacts/screenshots/site/.
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { NOW, PROJECT, tempSite } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { axeViolations, describeViolations } from './helpers/axe.ts';
import { launchBrowser, serveStatic } from './helpers/browser.ts';

const ARTIFACTS = path.join(PROJECT, 'test-artifacts/screenshots/site');
const PAGES = [
  ['home', '/'],
  ['guide', '/guides/meta/'],
  ['news', '/news/'],
  ['topic', '/topics/meta/'],
] as const;
const WIDTHS = [375, 1280] as const;
const SCHEMES = ['light', 'dark'] as const;
const HEIGHT = 800;
/** How long the page may take to mark a section after a scroll. */
const MARK_DEADLINE_MS = 5000;

describe('the reading layout in Chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let dist: string;

  before(async () => {
    const root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
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

  async function open(route: string, width: number, scheme: 'light' | 'dark', options: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width, height: HEIGHT }, colorScheme: scheme, ...options });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    const response = await page.goto(`${server.url}${route}`, { waitUntil: 'load' });
    assert.equal(response?.status(), 200, route);
    return { context, page, errors };
  }

  for (const [name, route] of PAGES) {
    for (const width of WIDTHS) {
      for (const scheme of SCHEMES) {
        it(`${name} at ${width} px (${scheme}): no sideways scroll, no axe violation`, async () => {
          const { context, page, errors } = await open(route, width, scheme);
          const overflow = await page.evaluate(() => {
            const doc = document.documentElement;
            const wide = [...document.querySelectorAll('body *')]
              .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
              .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
            return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide: wide.slice(0, 5) };
          });
          assert.ok(overflow.scrollWidth <= overflow.clientWidth, `horizontal overflow: ${JSON.stringify(overflow)}`);
          const violations = await axeViolations(page);
          assert.equal(violations.length, 0, describeViolations(violations));
          assert.deepEqual(errors, []);
          await page.screenshot({ path: path.join(ARTIFACTS, `layout-${name}-${width}-${scheme}.png`), fullPage: true });
          await context.close();
        });
      }
    }
  }

  for (const scheme of SCHEMES) {
    it(`guide at 1280 px (${scheme}): the contents stay in view after three screens and mark the section being read`, async () => {
      const { context, page, errors } = await open('/guides/meta/', 1280, scheme);
      assert.equal(await page.$eval('.toc details', (d) => (d as HTMLDetailsElement).open), true, 'open beside the text');
      const column = await page.evaluate(() => {
        const toc = document.querySelector('.toc')!.getBoundingClientRect();
        const prose = document.querySelector('.prose')!.getBoundingClientRect();
        return { tocLeft: toc.left, proseRight: prose.right };
      });
      assert.ok(column.tocLeft >= column.proseRight, `the contents sit beside the text: ${JSON.stringify(column)}`);
      for (const screens of [3, 5]) {
        await page.evaluate((y) => window.scrollTo(0, y), screens * HEIGHT);
        const rect = await page.$eval('.toc', (toc) => {
          const r = toc.getBoundingClientRect();
          return { top: r.top, bottom: r.bottom, height: window.innerHeight };
        });
        assert.ok(rect.top >= 0 && rect.bottom <= rect.height, `in view after ${screens} screens: ${JSON.stringify(rect)}`);
        // The section being read, worked out here from the headings' places: the last one above a
        // line 30% down the window.
        const expected = await page.evaluate(() => {
          const line = window.innerHeight * 0.3;
          const ids = [...document.querySelectorAll('.toc a')].map((a) => decodeURIComponent((a as HTMLAnchorElement).hash.slice(1)));
          let reading = ids[0]!;
          for (const id of ids) if (document.getElementById(id)!.getBoundingClientRect().top <= line) reading = id;
          return reading;
        });
        assert.notEqual(expected, 'what-meta-is-in-ai', 'three screens down is past the first section');
        await page.waitForFunction(
          (id) => {
            const marked = [...document.querySelectorAll('.toc a[aria-current="true"]')];
            return marked.length === 1 && (marked[0] as HTMLAnchorElement).hash === `#${id}`;
          },
          expected,
          { timeout: MARK_DEADLINE_MS },
        );
      }
      await page.screenshot({ path: path.join(ARTIFACTS, `layout-guide-sticky-1280-${scheme}.png`) });
      assert.deepEqual(errors, []);
      await context.close();
    });
  }

  it('guide at 375 px: the contents fold above the text and open on a tap', async () => {
    const { context, page } = await open('/guides/meta/', 375, 'light');
    assert.equal(await page.$eval('.toc details', (d) => (d as HTMLDetailsElement).open), false);
    assert.equal(await page.isVisible('.toc ol a'), false);
    await page.click('.toc summary');
    assert.equal(await page.isVisible('.toc ol a'), true);
    await context.close();
  });

  it('guide at 1280 px without the script: the contents are a plain list beside the text', async () => {
    const { context, page } = await open('/guides/meta/', 1280, 'light', { javaScriptEnabled: false });
    assert.equal(await page.isVisible('.toc ol li:first-child a'), true);
    assert.equal(await page.locator('.toc a[aria-current]').count(), 0);
    await context.close();
  });

  it('guide at 1280 px: body text runs 65 to 75 characters a line', async () => {
    const { context, page } = await open('/guides/meta/', 1280, 'light');
    const perLine = await page.evaluate(() => {
      // Characters on each line of the body's paragraphs, by where each character is drawn; a
      // paragraph's last line is usually short and is left out.
      const counts: number[] = [];
      const range = document.createRange();
      for (const p of document.querySelectorAll('.prose > p')) {
        const lines = new Map<number, number>();
        const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          for (let i = 0; i < node.textContent!.length; i++) {
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            const rect = range.getClientRects()[0];
            if (rect) lines.set(Math.round(rect.top), (lines.get(Math.round(rect.top)) ?? 0) + 1);
          }
        }
        counts.push(...[...lines.values()].slice(0, -1));
      }
      return counts;
    });
    assert.ok(perLine.length >= 20, `enough full lines to judge: ${perLine.length}`);
    const average = perLine.reduce((a, b) => a + b, 0) / perLine.length;
    assert.ok(average >= 65 && average <= 75, `average ${average.toFixed(1)} characters a line`);
    await context.close();
  });

  it('home at 1280 px: neither column runs empty for more than a screen', async () => {
    const { context, page } = await open('/', 1280, 'light');
    const columns = await page.evaluate(() => {
      const ends = [
        '.home-guides, .home-topics, .home-grid > .stay-current',
        '.home-news > *',
      ].map((selector) => Math.max(...[...document.querySelectorAll(selector)].map((el) => el.getBoundingClientRect().bottom + window.scrollY)));
      const left = document.querySelector('.home-guides')!.getBoundingClientRect();
      const right = document.querySelector('.home-news')!.getBoundingClientRect();
      return { side: right.left >= left.right, left: ends[0]!, right: ends[1]!, screen: window.innerHeight };
    });
    assert.ok(columns.side, 'two columns side by side');
    assert.ok(Math.abs(columns.left - columns.right) < columns.screen, `column ends: ${JSON.stringify(columns)}`);
    await context.close();
  });

  it('heading links: hidden until focused, named for their section', async () => {
    const { context, page } = await open('/guides/meta/', 1280, 'light');
    const link = page.locator('.prose .heading-anchor').first();
    assert.equal(await link.getAttribute('aria-label'), 'Link to section: What Meta is in AI');
    assert.equal(await link.evaluate((a) => getComputedStyle(a).opacity), '0');
    await link.focus();
    assert.equal(await link.evaluate((a) => getComputedStyle(a).opacity), '1');
    assert.equal(await link.getAttribute('href'), '#what-meta-is-in-ai');
    await context.close();
  });

  it('axe reports a violation when a page has one', async () => {
    // The check above means something only if axe, as injected, sees what is wrong.
    const { context, page } = await open('/news/', 1280, 'light');
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'text';
      document.querySelector('main')!.append(input);
    });
    const violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), ['label']);
    await context.close();
  });

  it('the 404 page opened from disk has the site\'s styles', async () => {
    for (const scheme of SCHEMES) {
      const context = await browser.newContext({ viewport: { width: 375, height: HEIGHT }, colorScheme: scheme });
      const page = await context.newPage();
      await page.goto(pathToFileURL(path.join(dist, '404.html')).href);
      assert.equal(await page.textContent('h1'), 'This page does not exist');
      assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), scheme === 'dark' ? 'rgb(21, 20, 18)' : 'rgb(251, 250, 247)');
      await page.screenshot({ path: path.join(ARTIFACTS, `layout-404-from-disk-375-${scheme}.png`) });
      await context.close();
    }
  });
});
