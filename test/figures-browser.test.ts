// A guide's figure in real Chromium at a phone's and a desktop's width: the browser picks the AVIF
// size that fits, the image stays inside the page, and nothing moves as it loads (its box was
// reserved by width and height). Screenshots in test-artifacts/screenshots/site/figure-*.png.
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { NOW, PROJECT, tempSite } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { launchBrowser, serveStatic } from './helpers/browser.ts';

const ARTIFACTS = path.join(PROJECT, 'test-artifacts/screenshots/site');

describe('a figure in Chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };

  before(async () => {
    const root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    server = await serveStatic(path.join(root, 'dist'));
    browser = await launchBrowser();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [width, scheme, chosen] of [[375, 'dark', 480], [1280, 'light', 960]] as const) {
    it(`at ${width} px (${scheme}): the ${chosen} px AVIF, inside the page, no layout shift`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const failed: string[] = [];
      page.on('requestfailed', (r) => failed.push(r.url()));
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      await page.addInitScript(() => {
        const w = window as unknown as { shifts: number };
        w.shifts = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]) if (!entry.hadRecentInput) w.shifts += entry.value;
        }).observe({ type: 'layout-shift', buffered: true });
      });
      await page.goto(`${server.url}/guides/meta/`, { waitUntil: 'load' });
      const figure = page.locator('figure.figure').first();
      await figure.scrollIntoViewIfNeeded();
      const img = figure.locator('img');
      await img.evaluate((el: HTMLImageElement) => (el.complete ? undefined : new Promise((resolve) => el.addEventListener('load', resolve, { once: true }))));
      const facts = await page.evaluate(() => {
        const el = document.querySelector('figure.figure img') as HTMLImageElement;
        const box = el.getBoundingClientRect();
        const doc = document.documentElement;
        return {
          currentSrc: el.currentSrc,
          naturalWidth: el.naturalWidth,
          box: { left: box.left, right: box.right, width: box.width, height: box.height },
          clientWidth: doc.clientWidth,
          scrollWidth: doc.scrollWidth,
          caption: document.querySelector('figure.figure figcaption')?.textContent,
          shifts: (window as unknown as { shifts: number }).shifts,
        };
      });
      assert.match(facts.currentSrc, new RegExp(`/figures/[0-9a-f]{16}-${chosen}\\.avif$`));
      // naturalWidth is in CSS pixels of the chosen candidate (its width over the slot's), so only "decoded" is checked.
      assert.ok(facts.naturalWidth > 0, 'the AVIF decoded');
      assert.ok(facts.box.left >= 0 && facts.box.right <= facts.clientWidth, `figure inside the page: ${JSON.stringify(facts)}`);
      assert.ok(facts.scrollWidth <= facts.clientWidth, `no horizontal overflow: ${JSON.stringify(facts)}`);
      // Shown at the source's proportions (1440 × 640).
      assert.ok(Math.abs(facts.box.height - (facts.box.width * 640) / 1440) < 1.5, JSON.stringify(facts.box));
      assert.equal(facts.caption, "Meta's AI model lineage: from Llama 2 to Muse Spark");
      assert.ok(facts.shifts < 0.01, `layout shift ${facts.shifts}`);
      assert.deepEqual(failed, []);
      await figure.screenshot({ path: path.join(ARTIFACTS, `figure-${width}.png`) });
      await page.screenshot({ path: path.join(ARTIFACTS, `figure-${width}-page.png`) });
      await context.close();
    });
  }
});
