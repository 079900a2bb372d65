// The built pages in real Chromium: no horizontal scroll at 375 and 1280 px, no console errors,
// no failed requests, no request to another host, light and dark. Screenshots are kept in test-artifacts/.
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { NOW, PROJECT, tempSite } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { launchBrowser, serveStatic } from './helpers/browser.ts';

const ARTIFACTS = path.join(PROJECT, 'test-artifacts/screenshots/site');
const PAGES = [
  ['home', '/'],
  ['guides', '/guides/'],
  ['guide-meta', '/guides/meta/'],
  ['guide-llama-4-v1', '/guides/llama-4/v1.html'],
  ['guide-llama-4', '/guides/llama-4/'],
  ['topic-meta', '/topics/meta/'],
  ['topics', '/topics/'],
  ['news', '/news/'],
  ['level-beginner', '/guides/level/beginner/'],
  ['issues', '/issues/'],
  ['issue-sunday', '/issues/2026-04-12-sunday/'],
] as const;

describe('pages in Chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };

  before(async () => {
    const root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    for (const [edition, date] of [['sunday', '2026-04-12'], ['midweek', '2026-04-15']]) {
      const issue = await almanac(['issue', 'build', edition!, '--date', date!, '--root', root, '--now', NOW]);
      assert.equal(issue.code, 0, issue.stderr);
    }
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    server = await serveStatic(path.join(root, 'dist'));
    browser = await launchBrowser();
    await mkdir(ARTIFACTS, { recursive: true });
    await mkdir(path.join(ARTIFACTS, '../email'), { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [name, route] of PAGES) {
    for (const width of [375, 1280]) {
      const scheme = width === 375 ? 'dark' : 'light';
      it(`${name} at ${width} px (${scheme})`, async () => {
        const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
        const page = await context.newPage();
        const problems: string[] = [];
        const hosts = new Set<string>();
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('request', (r) => hosts.add(new URL(r.url()).host));
        page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
        page.on('response', (r) => {
          if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
        });
        // The only script (a guide's contents) makes no request, so every request has ended when 'load' fires.
        const response = await page.goto(`${server.url}${route}`, { waitUntil: 'load' });
        assert.equal(response?.status(), 200);

        const overflow = await page.evaluate(() => {
          const doc = document.documentElement;
          const wide = [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
            .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
          return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide: wide.slice(0, 5) };
        });
        assert.ok(overflow.scrollWidth <= overflow.clientWidth, `horizontal overflow: ${JSON.stringify(overflow)}`);
        assert.deepEqual(problems, []);
        assert.deepEqual([...hosts], [new URL(server.url).host], 'no request to any other host');

        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bg, scheme === 'dark' ? 'rgb(21, 20, 18)' : 'rgb(251, 250, 247)');
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
        await context.close();
      });
    }
  }

  for (const width of [375, 600]) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`the email at ${width} px (${scheme}): one column, no horizontal scroll, no request`, async () => {
        const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
        const page = await context.newPage();
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`${server.url}/issues/2026-04-12-sunday/email.html`, { waitUntil: 'load' });
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          buttonHeights: [...document.querySelectorAll('a')].filter((a) => a.textContent?.trim() === 'Read the story').map((a) => a.getBoundingClientRect().height),
          text: document.body.innerText,
        }));
        assert.ok(layout.scrollWidth <= layout.clientWidth, JSON.stringify(layout).slice(0, 200));
        assert.deepEqual(requests, [`${server.url}/issues/2026-04-12-sunday/email.html`], 'nothing loaded but the email');
        // every() holds on an empty list: the buttons must be there before their size means anything.
        assert.ok(layout.buttonHeights.length > 0, 'the top story has its "Read the story" button');
        assert.ok(layout.buttonHeights.every((h) => h >= 44), `tap targets ≥ 44 px: ${layout.buttonHeights}`);
        assert.match(layout.text, /Meta Introduces Muse Spark/);
        await page.screenshot({ path: path.join(ARTIFACTS, `../email/sunday-${width}-${scheme}.png`), fullPage: true });
        await context.close();
      });
    }
  }

  it('keyboard focus is visible, starting with the skip link', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/guides/meta/`);
    await page.keyboard.press('Tab');
    const skip = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { text: el.textContent, outline: style.outlineStyle, width: style.outlineWidth, left: el.getBoundingClientRect().left };
    });
    assert.equal(skip.text, 'Skip to content');
    assert.equal(skip.outline, 'solid');
    assert.equal(skip.width, '3px');
    assert.ok(skip.left >= 0, 'the skip link comes into view when focused');
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.equal(next, 'solid');
    await page.close();
  });

  it('headings descend in order on the guide page', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/guides/meta/`);
    const levels = await page.$$eval('main h1, main h2, main h3, main h4', (hs) => hs.map((h) => Number(h.tagName[1])));
    assert.equal(levels.filter((l) => l === 1).length, 1);
    levels.reduce((prev, l) => {
      assert.ok(l <= prev + 1, `heading jumps from h${prev} to h${l}`);
      return l;
    }, 1);
    await page.close();
  });

  it('the 404 page is served with its styles for a missing path', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/no/such/page')) failed.push(r.url());
    });
    const response = await page.goto(`${server.url}/no/such/page`);
    assert.equal(response?.status(), 404);
    assert.equal(await page.textContent('h1'), 'This page does not exist');
    assert.deepEqual(failed, []);
    // Its styles applied: the site's background, not the browser's white.
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(251, 250, 247)');
    await page.close();
  });
});
