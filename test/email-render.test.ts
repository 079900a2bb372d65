// The sample emails in real Chromium at 375 and 600 px, light and dark: screenshots kept in
// test-artifacts/, every run of visible text at WCAG contrast as Chromium paints it, and the static
// contrast check (the one `issue build` runs) seeing the same colours Chromium computes.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as csstree from 'css-tree';
import { parse } from 'node-html-parser';
import type { Browser } from 'playwright-core';
import { contrastPairs } from '../src/mail/contrast.ts';
import { NOW, PROJECT, tempSite } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { launchBrowser, serveStatic } from './helpers/browser.ts';

const ARTIFACTS = path.join(PROJECT, 'test-artifacts/screenshots/email');
// The Sunday issue has a top story and topic groups, the Midweek one a guide, and the Sunday of 26
// April the editor's notes (content/issues/2026-04-26-sunday.md): an intro with a link, a pin, a guide.
const ISSUES = [
  ['sunday', '2026-04-12'],
  ['midweek', '2026-04-15'],
  ['sunday', '2026-04-26'],
] as const;
const WITH_NOTES = '2026-04-26-sunday';

interface Painted {
  text: string;
  colour: string;
  background: string;
  ratio: number;
  required: number;
}

describe('the sample emails in Chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let root: string;

  before(async () => {
    root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    for (const [edition, date] of ISSUES) {
      const issue = await almanac(['issue', 'build', edition, '--date', date, '--root', root, '--now', NOW]);
      assert.equal(issue.code, 0, issue.stderr);
    }
    server = await serveStatic(path.join(root, 'dist'));
    browser = await launchBrowser();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('every dark-mode rule of the templates styles something in the sample emails', async () => {
    const docs = await Promise.all(ISSUES.map(async ([edition, date]) => parse(await readFile(path.join(root, 'dist/issues', `${date}-${edition}`, 'email.html'), 'utf8'), { comment: true })));
    const selectors: string[] = [];
    for (const style of docs[0]!.querySelectorAll('style')) {
      csstree.walk(csstree.parse(style.textContent), {
        visit: 'Atrule',
        enter(node) {
          if (node.name === 'media' && node.prelude && /prefers-color-scheme:\s*dark/.test(csstree.generate(node.prelude))) {
            csstree.walk(node, { visit: 'Selector', enter: (sel) => void selectors.push(csstree.generate(sel)) });
          }
        },
      });
    }
    assert.ok(selectors.length > 5, selectors.join(', '));
    assert.deepEqual(selectors.filter((sel) => docs.every((doc) => doc.querySelectorAll(sel).length === 0)), []);
  });

  for (const [edition, date] of ISSUES) {
    for (const width of [375, 600]) {
      for (const scheme of ['light', 'dark'] as const) {
        it(`${date}-${edition} at ${width} px (${scheme}): text at WCAG contrast as painted, and as the check computes it`, async () => {
          const page = await browser.newPage({ viewport: { width, height: 900 } });
          await page.emulateMedia({ colorScheme: scheme });
          await page.goto(`${server.url}/issues/${date}-${edition}/email.html`, { waitUntil: 'load' });
          const painted = (await page.evaluate(PAINTED_PAIRS)) as Painted[];
          await page.screenshot({ path: path.join(ARTIFACTS, `${date}-${edition}-${width}-${scheme}.png`), fullPage: true });
          await page.close();

          assert.ok(painted.length > 20, `text found: ${painted.length}`);
          const low = painted.filter((p) => p.ratio < p.required).map((p) => `${JSON.stringify(p.text)}: ${p.colour} on ${p.background}, ${p.ratio.toFixed(2)}:1`);
          assert.deepEqual(low, []);

          // The static check, on the same file, sees the colours Chromium paints.
          const html = await readFile(path.join(root, 'dist/issues', `${date}-${edition}`, 'email.html'), 'utf8');
          if (`${date}-${edition}` === WITH_NOTES) {
            // The intro is there, and its text and link were measured above like the rest.
            assert.ok(painted.some((p) => p.text.startsWith('A quieter week.')), JSON.stringify(painted.map((p) => p.text)));
            assert.ok(painted.some((p) => p.text === 'Muse Spark'), 'the link in the intro');
          }
          const computed = contrastPairs(parse(html, { comment: true })).filter((p) => p.scheme === scheme);
          assert.deepEqual(computed.filter((p) => p.ratio < p.required), []);
          const byText = new Map(painted.map((p) => [p.text, p]));
          let compared = 0;
          for (const p of computed) {
            const seen = byText.get(p.text);
            if (!seen) continue;
            compared++;
            assert.deepEqual([p.text, p.colour, p.background], [p.text, seen.colour, seen.background]);
          }
          assert.ok(compared >= computed.length * 0.9, `compared ${compared} of ${computed.length}`);
        });
      }
    }
  }
});

/**
 * Runs in the page: every element with its own visible text, its colour and the nearest painted
 * background. Plain JavaScript in a string: the test's compiler would wrap a function passed from here.
 */
const PAINTED_PAIRS = `(() => {
  const rgba = (css) => {
    const [r, g, b, a] = (css.match(/[\\d.]+/g) ?? []).map(Number);
    return { r: r ?? 0, g: g ?? 0, b: b ?? 0, a: a ?? 1 };
  };
  const over = (t, u) => ({ r: t.r * t.a + u.r * (1 - t.a), g: t.g * t.a + u.g * (1 - t.a), b: t.b * t.a + u.b * (1 - t.a), a: 1 });
  const lum = (c) => {
    const f = (x) => (x / 255 <= 0.04045 ? x / 255 / 12.92 : ((x / 255 + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const hex = (c) => '#' + [c.r, c.g, c.b].map((x) => Math.round(x).toString(16).padStart(2, '0')).join('');
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  const background = (el) => {
    const stack = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.a > 0) stack.push(c);
      if (c.a === 1) break;
    }
    // Chromium's own canvas behind everything when no element paints an opaque background.
    let base = stack.length && stack[stack.length - 1].a === 1 ? stack.pop() : rgba(dark ? 'rgb(18,18,18)' : 'rgb(255,255,255)');
    while (stack.length) base = over(stack.pop(), base);
    return base;
  };
  const squash = (t) => t.replace(/[\\s\\u00a0\\u200b-\\u200f\\ufeff]+/g, ' ').trim();
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = squash([...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent ?? '').join(''));
    if (!own || !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const style = getComputedStyle(el);
    const bg = background(el);
    const fg = over(rgba(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const px = parseFloat(style.fontSize);
    const large = px >= 24 || (Number(style.fontWeight) >= 700 && px >= 18.66);
    const text = squash(el.textContent ?? '');
    out.push({ text: text.length > 40 ? text.slice(0, 40) + '…' : text, colour: hex(fg), background: hex(bg), ratio: (hi + 0.05) / (lo + 0.05), required: large ? 3 : 4.5 });
  }
  return out;
})()`;
