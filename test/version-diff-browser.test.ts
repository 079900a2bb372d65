// A version's "what changed" in real Chromium at 375 and 1280 px, light and dark: long words, URLs
// and code lines wrap inside the column (no horizontal scroll), added and removed text is marked by
// more than colour, and axe-core finds no violation in the section. Screenshots are kept in
// test-artifacts/screenshots/site/diff-*.png.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { NOW, PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { launchBrowser, serveStatic } from './helpers/browser.ts';

const ARTIFACTS = path.join(PROJECT, 'test-artifacts/screenshots/site');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const LONG_WORD = 'Supercalifragilisticexpialidocious'.repeat(4);
const LONG_URL = `https://example.org/${'very-long-path-segment/'.repeat(8)}`;
const LONG_CODE = `const answer = compute(${Array.from({ length: 30 }, (_, i) => `argument${i}`).join(', ')});`;

const front = (takeaways: string[]) => `---
title: "Tidal Power"
level: beginner
topics: [Energy]
tldr: "Power from the tides."
takeaways:
${takeaways.map((t) => `  - "${t}"`).join('\n')}
faq:
  - q: Is it renewable?
    a: Yes.
---
`;

const V1 = `${front(['Tides are predictable.', 'Barrages are costly.'])}
## How it works

Water flows through turbines as the tide rises and falls, twice a day, every day.

\`\`\`
turbine.start();
\`\`\`

## Old sites

La Rance in France.
`;

const V2 = `${front(['Tides are predictable.', `Lagoons are cheaper than ${LONG_WORD}.`])}
## How it works

Water flows through bidirectional turbines as the tide rises and falls, twice a day, every day, see ${LONG_URL}.

\`\`\`
turbine.start();
${LONG_CODE}
\`\`\`

## New projects

A lagoon in Swansea, ${LONG_WORD}.
`;

describe('what changed in Chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };

  before(async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/guides/tidal-power/guide.md': V1 });
    const publish = async (note: string, at: string) => {
      const r = await almanac(['guide', 'publish', 'tidal-power', '--note', note, '--root', root, '--now', at]);
      assert.equal(r.code, 0, r.stderr);
    };
    await publish('First edition', '2026-05-01T10:00:00Z');
    await writeFiles(root, { 'content/guides/tidal-power/guide.md': V2 });
    await publish('Adds new projects and the two-way turbines', '2026-06-01T10:00:00Z');
    const built = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(built.code, 0, built.stderr);
    server = await serveStatic(path.join(root, 'dist'));
    browser = await launchBrowser();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const width of [375, 1280]) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`v2's changes at ${width} px (${scheme})`, async () => {
        // The page runs no script of its own; axe-core is added to it for the check.
        const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, bypassCSP: true });
        try {
          const page = await context.newPage();
          const problems: string[] = [];
          page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
          page.on('response', (r) => {
            if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
          });
          const response = await page.goto(`${server.url}/guides/tidal-power/v2.html#what_changed`, { waitUntil: 'load' });
          assert.equal(response?.status(), 200);

          const layout = await page.evaluate(() => {
            const doc = document.documentElement;
            const section = document.getElementById('what_changed')!;
            const box = section.getBoundingClientRect();
            // (Text for screen readers only is clipped to a pixel by design.)
            const wide = [...section.querySelectorAll('*:not(.visually-hidden)')]
              .filter((el) => el.getBoundingClientRect().right > box.right + 1 || el.scrollWidth > el.clientWidth + 1)
              .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
            const page = [...document.querySelectorAll('body *')]
              .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
              .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.outerHTML.slice(0, 60)} ${Math.round(el.getBoundingClientRect().right)}`)
              .slice(0, 8);
            return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, sectionRight: box.right, wide, page, top: box.top };
          });
          assert.ok(layout.scrollWidth <= layout.clientWidth, `horizontal overflow: ${JSON.stringify(layout)}`);
          assert.ok(layout.sectionRight <= layout.clientWidth, JSON.stringify(layout));
          assert.deepEqual(layout.wide, [], 'nothing in the section is wider than it, nor scrolls sideways');
          assert.ok(Math.abs(layout.top) < 2, `the link lands on the section (top at ${layout.top})`);

          // Marked by more than colour: underlined, struck through, and said in words to a screen reader.
          const marks = await page.evaluate(() =>
            [...document.querySelectorAll('#what_changed .wc-item ins, #what_changed .wc-item del')].map((el) => ({
              tag: el.tagName.toLowerCase(),
              line: getComputedStyle(el).textDecorationLine,
              said: el.querySelector('.visually-hidden')?.textContent ?? '',
            })),
          );
          assert.ok(marks.some((m) => m.tag === 'ins') && marks.some((m) => m.tag === 'del'), JSON.stringify(marks));
          for (const m of marks) {
            assert.equal(m.line, m.tag === 'ins' ? 'underline' : 'line-through');
          }
          assert.ok(marks.filter((m) => m.tag === 'ins').every((m) => m.said === '[added: '));

          await page.addScriptTag({ path: AXE });
          const violations = await page.evaluate(async () => {
            const axe = (window as unknown as { axe: { run(context: string): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
            const result = await axe.run('#what_changed');
            return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
          });
          assert.deepEqual(violations, []);
          assert.deepEqual(problems, []);
          await page.locator('#what_changed').screenshot({ path: path.join(ARTIFACTS, `diff-${width}-${scheme}.png`) });
        } finally {
          await context.close();
        }
      });
    }
  }
});
