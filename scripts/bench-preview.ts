// npm run bench (fourth part) — the preview on the 1,000-guide corpus: the time from saving one guide
// to the open page in Chromium showing the change, median of BENCH_PREVIEW_EDITS saves.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { corpusDir } from './corpus.ts';

const PROJECT = fileURLToPath(new URL('../', import.meta.url));
const EDITS = Number(process.env.BENCH_PREVIEW_EDITS ?? 15);
// The corpus the build benchmark (first part) wrote.
const SITE = path.join(corpusDir(1000, 10000), 'site');

async function main(): Promise<void> {
  const child = spawn(process.execPath, [path.join(PROJECT, 'bin/almanac.js'), 'preview', '--port', '0', '--root', SITE]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  while (!/Preview at (http:\S+)\//.test(out)) await new Promise((r) => setTimeout(r, 50));
  const base = /Preview at (http:\S+)\//.exec(out)![1]!;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
  const file = path.join(SITE, 'content/guides/guide-500/guide.md');
  const original = await readFile(file, 'utf8');
  const times: number[] = [];
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/guides/guide-500/`);
    for (let i = 0; i < EDITS; i++) {
      const marker = `Edit ${i} ${Date.now()}`;
      const started = performance.now();
      await writeFile(file, original.replace(/^title: "([^"]*)"/m, `title: "$1 ${marker}"`));
      await page.waitForFunction((m) => document.querySelector('h1')?.textContent?.includes(m), marker, { timeout: 20_000, polling: 'raf' });
      times.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await writeFile(file, original);
    await browser.close();
    child.kill('SIGTERM');
  }
  times.sort((a, b) => a - b);
  const reloads = [...out.matchAll(/guide-500\/guide\.md reloaded in (\d+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  process.stdout.write(
    [
      '',
      `preview: save one guide → the open page updated in Chromium (1,000 guides, 10,000 news items; ${EDITS} saves)`,
      `  median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, fastest ${times[0]!.toFixed(0)} ms, slowest ${times.at(-1)!.toFixed(0)} ms (aim < 100 ms)`,
      `  of which reloading the guide: median ${reloads[Math.floor(reloads.length / 2)] ?? '?'} ms`,
      '',
    ].join('\n'),
  );
}

await main();
