// npm run bench — build speed against Eleventy, both run here, on the same synthetic corpus.
//
//   Almanac: a full `almanac build` of N published guides and M news items (every page, listing and
//            feed, and the search index of the guides and the news).
//   Eleventy 3: the same N guide files turned into bare pages (its default Markdown pipeline).
//   Eleventy 3 + Pagefind: the same guide files in a minimal page layout (Pagefind indexes only
//            documents with a <body>), then the Pagefind CLI over Eleventy's pages (the way a site
//            without a built-in index gets search), for the second figure: search on both sides.
//   Eleventy 3 + Pagefind with the news: the guides and the M news items each a page in that layout,
//            all indexed, for the third figure: the same records searchable on both sides.
//
// Each tool runs RUNS times, interleaved, after a `sync` so that one's pending disk writes do not land
// on the other's clock; the median wall time and the peak RSS are reported. Two situations:
//   rebuild       both over their previous output with nothing changed, as in daily use (Eleventy
//                 overwrites its files; Almanac finds its output up to date and writes nothing), and
//                 Almanac forced (`--force`: it composes every page over its spare tree and its cache
//                 of parsed content and rendered Markdown, and renders none);
//   from scratch  no previous output and, for Almanac, no cache (the first build after a clone).
//                 The previous outputs are set aside, not deleted: a file system may make files more
//                 slowly just after many were deleted (see setAside), which a fresh clone never sees.
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusDir, writeCorpus } from './corpus.ts';

const PROJECT = fileURLToPath(new URL('../', import.meta.url));
const GUIDES = Number(process.env.BENCH_GUIDES ?? 1000);
const NEWS = Number(process.env.BENCH_NEWS ?? 10000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NOW = '2026-06-20T09:00:00Z';

interface Sample {
  ms: number;
  rssMb: number;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/**
 * The guides again, in a page layout that gives each a whole document, as a site Pagefind indexes has;
 * with `news`, the news items too, each a page of its own (so Pagefind indexes what Almanac does).
 */
async function prepareWithLayout(eleventyIn: string, news?: string): Promise<string> {
  const dir = path.join(path.dirname(eleventyIn), news ? 'eleventy-news-src' : 'eleventy-layout-src');
  if (await exists(path.join(dir, '.complete'))) return dir;
  await rm(dir, { recursive: true, force: true });
  await cp(eleventyIn, dir, { recursive: true });
  if (news) await cp(news, path.join(dir, 'news'), { recursive: true });
  await mkdir(path.join(dir, '_includes'), { recursive: true });
  await writeFile(
    path.join(dir, '_includes/page.liquid'),
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{{ title }}</title></head>\n<body><main><h1>{{ title }}</h1>\n{{ content }}</main></body>\n</html>\n',
  );
  await writeFile(path.join(dir, `${path.basename(dir)}.11tydata.json`), JSON.stringify({ layout: 'page.liquid' }));
  await writeFile(path.join(dir, '.complete'), '');
  return dir;
}

async function prepare(): Promise<{ site: string; eleventyIn: string }> {
  const base = corpusDir(GUIDES, NEWS);
  const site = path.join(base, 'site');
  const eleventyIn = path.join(base, 'eleventy-src');
  if (!(await exists(path.join(base, '.complete')))) {
    process.stdout.write(`Writing a corpus of ${GUIDES} guides and ${NEWS} news items to ${base} …\n`);
    await rm(base, { recursive: true, force: true });
    await writeCorpus(site, GUIDES, NEWS);
    await mkdir(eleventyIn, { recursive: true });
    for (const slug of await readdir(path.join(site, 'content/guides'))) {
      await cp(path.join(site, 'content/guides', slug, 'guide.md'), path.join(eleventyIn, `${slug}.md`));
    }
    // Emails need an https baseUrl; the corpus's news runs from March to June 2026.
    await writeFile(path.join(site, 'almanac.config.json'), JSON.stringify({ baseUrl: 'https://bench.example.org' }));
    await writeFile(path.join(base, '.complete'), '');
  }
  return { site, eleventyIn };
}

function timed(args: string[], cwd: string): Promise<Sample> {
  spawnSync('sync');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', path.join(PROJECT, 'scripts/report-rss.mjs'), ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}\n${stderr}`));
      const kb = Number(/@@maxrss-kb (\d+)/.exec(stderr)?.[1] ?? 0);
      resolve({ ms, rssMb: kb / 1024 });
    });
  });
}

// On ext4 without a journal, making a file passes over every inode freed in the last minutes (the
// kernel prefers not to reuse them), one lookup each: a build that makes thousands of files just after
// thousands were deleted spends a second or more in the kernel doing so. So nothing is deleted while
// anything is timed: outputs are moved into set-aside/ and deleted by the last step of `npm run bench`
// (--remove-set-aside), and a run started within those minutes of that deletion says that its
// from-scratch figures pay for it.
const RECENT_MINUTES = 6;

async function setAside(base: string, ...paths: string[]): Promise<void> {
  const dir = path.join(base, 'set-aside', String(Date.now()));
  await mkdir(dir, { recursive: true });
  for (const [i, p] of paths.entries()) await rename(p, path.join(dir, `${i}-${path.basename(p)}`)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
}

/** Deletes what was set aside, and notes when. */
async function removeSetAside(base: string): Promise<void> {
  await rm(path.join(base, 'set-aside'), { recursive: true, force: true });
  await writeFile(path.join(base, 'set-aside-deleted'), `${Date.now()}\n`);
}

async function warnOfRecentDeletion(base: string): Promise<void> {
  const at = Number(await readFile(path.join(base, 'set-aside-deleted'), 'utf8').catch(() => '0'));
  const minutes = (Date.now() - at) / 60_000;
  if (minutes < RECENT_MINUTES) {
    process.stdout.write(
      `  (an earlier run deleted its outputs ${Math.round(minutes * 60)} s ago: on a file system that makes files slowly just after many were deleted,\n` +
        `   the from-scratch figures of this run include that; wait ${RECENT_MINUTES} minutes between runs for comparable figures)\n`,
    );
  }
  // Left by a run that was stopped before it deleted them.
  if (await exists(path.join(base, 'set-aside'))) process.stdout.write(`  (outputs set aside by an earlier run are in ${path.join(base, 'set-aside')}: deleted at the end of this run)\n`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { site, eleventyIn } = await prepare();
  const base = path.dirname(site);
  await warnOfRecentDeletion(base);
  const eleventy = (input: string, output: string) => [path.join(PROJECT, 'node_modules/@11ty/eleventy/cmd.cjs'), `--input=${input}`, `--output=${output}`, '--quiet'];
  const pagefind = (dir: string) => [path.join(PROJECT, 'node_modules/pagefind/lib/runner/bin.cjs'), '--site', dir, '--silent'];
  const eleventyOut = path.join(path.dirname(eleventyIn), 'eleventy-out');
  const almanacArgs = [path.join(PROJECT, 'bin/almanac.js'), 'build', '--root', site, '--now', NOW];
  const forcedArgs = [...almanacArgs, '--force'];
  const eleventyArgs = eleventy(eleventyIn, eleventyOut);
  const layoutIn = await prepareWithLayout(eleventyIn);
  const layoutOut = path.join(path.dirname(eleventyIn), 'eleventy-layout-out');
  const layoutArgs = eleventy(layoutIn, layoutOut);
  const pagefindArgs = pagefind(layoutOut);
  // The same work as Almanac's search: every guide and every news item a page, all of them indexed.
  const newsIn = await prepareWithLayout(eleventyIn, path.join(site, 'content/news'));
  const newsOut = path.join(path.dirname(eleventyIn), 'eleventy-news-out');
  const newsArgs = eleventy(newsIn, newsOut);
  const newsPagefindArgs = pagefind(newsOut);
  // One warm-up each (disk cache, output folders), not counted.
  await timed(almanacArgs, site);
  await timed(eleventyArgs, PROJECT);
  await timed(layoutArgs, PROJECT);
  await timed(pagefindArgs, PROJECT);
  await timed(newsArgs, PROJECT);
  await timed(newsPagefindArgs, PROJECT);
  const rebuild = { almanac: [] as Sample[], forced: [] as Sample[], eleventy: [] as Sample[], layout: [] as Sample[], pagefind: [] as Sample[], news: [] as Sample[], newsPagefind: [] as Sample[] };
  for (let i = 0; i < RUNS; i++) {
    rebuild.eleventy.push(await timed(eleventyArgs, PROJECT));
    rebuild.layout.push(await timed(layoutArgs, PROJECT));
    rebuild.pagefind.push(await timed(pagefindArgs, PROJECT));
    rebuild.news.push(await timed(newsArgs, PROJECT));
    rebuild.newsPagefind.push(await timed(newsPagefindArgs, PROJECT));
    rebuild.forced.push(await timed(forcedArgs, site));
    rebuild.almanac.push(await timed(almanacArgs, site));
    process.stdout.write(
      `  rebuild ${i + 1}/${RUNS}: almanac ${rebuild.almanac.at(-1)!.ms.toFixed(0)} ms (forced ${rebuild.forced.at(-1)!.ms.toFixed(0)} ms), eleventy ${rebuild.eleventy.at(-1)!.ms.toFixed(0)} ms; with a layout ${rebuild.layout.at(-1)!.ms.toFixed(0)} ms + pagefind ${rebuild.pagefind.at(-1)!.ms.toFixed(0)} ms; with the news ${rebuild.news.at(-1)!.ms.toFixed(0)} ms + pagefind ${rebuild.newsPagefind.at(-1)!.ms.toFixed(0)} ms\n`,
    );
  }
  // A rebuild after one news item arrived, the most common change: its listings change, and the
  // search index is made again (Pagefind cannot add a record to an index).
  const arrival: Sample[] = [];
  const arrivals = Array.from({ length: RUNS }, (_, i) => path.join(site, 'content/news', `bench-arrival-${i}.md`));
  for (const [i, file] of arrivals.entries()) {
    await writeFile(file, `---\ntitle: "Bench arrival ${i}"\nurl: https://bench.example.org/arrival-${i}\nsource: Bench\npublished: 2026-06-19T0${i % 10}:00:00Z\nscore: 5\n---\nA story that arrived.\n`);
    arrival.push(await timed(almanacArgs, site));
    process.stdout.write(`  one news item added ${i + 1}/${RUNS}: almanac ${arrival.at(-1)!.ms.toFixed(0)} ms\n`);
  }
  for (const file of arrivals) await rm(file, { force: true });
  // From scratch: no previous output at all (the first build after a clone).
  const scratch = { almanac: [] as Sample[], eleventy: [] as Sample[], layout: [] as Sample[], pagefind: [] as Sample[], news: [] as Sample[], newsPagefind: [] as Sample[] };
  for (let i = 0; i < Math.max(1, Math.ceil(RUNS / 2)); i++) {
    await setAside(base, eleventyOut);
    scratch.eleventy.push(await timed(eleventyArgs, PROJECT));
    await setAside(base, layoutOut);
    scratch.layout.push(await timed(layoutArgs, PROJECT));
    scratch.pagefind.push(await timed(pagefindArgs, PROJECT));
    await setAside(base, newsOut);
    scratch.news.push(await timed(newsArgs, PROJECT));
    scratch.newsPagefind.push(await timed(newsPagefindArgs, PROJECT));
    await setAside(base, ...['dist', '.dist.spare', '.dist.pages', '.dist.made-from', '.almanac/cache'].map((name) => path.join(site, name)));
    scratch.almanac.push(await timed(almanacArgs, site));
    process.stdout.write(
      `  from scratch ${i + 1}: almanac ${scratch.almanac.at(-1)!.ms.toFixed(0)} ms, eleventy ${scratch.eleventy.at(-1)!.ms.toFixed(0)} ms; with a layout ${scratch.layout.at(-1)!.ms.toFixed(0)} ms + pagefind ${scratch.pagefind.at(-1)!.ms.toFixed(0)} ms; with the news ${scratch.news.at(-1)!.ms.toFixed(0)} ms + pagefind ${scratch.newsPagefind.at(-1)!.ms.toFixed(0)} ms\n`,
    );
  }

  // One Sunday issue of 20 stories (the edition's cap) from the same corpus.
  const issueRuns: { wall: number; issue: number }[] = [];
  for (let i = 0; i < 3; i++) {
    spawnSync('sync');
    const started = performance.now();
    const run = spawnSync(process.execPath, [path.join(PROJECT, 'bin/almanac.js'), 'issue', 'build', 'sunday', '--date', '2026-05-03', '--root', site, '--now', NOW], { encoding: 'utf8' });
    const wall = performance.now() - started;
    if (run.status !== 0) throw new Error(run.stderr);
    issueRuns.push({ wall, issue: Number(/issue ([\d.]+) s/.exec(run.stderr)?.[1]) * 1000 });
  }
  const files = (await readdir(path.join(site, 'dist'), { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).length;
  const line = (label: string, samples: Sample[]) =>
    `  ${label.padEnd(34)} ${median(samples.map((x) => x.ms)).toFixed(0).padStart(6)} ms   peak RSS ${median(samples.map((x) => x.rssMb)).toFixed(0)} MB`;
  const ratio = (m: { almanac: Sample[]; eleventy: Sample[] }) =>
    (median(m.almanac.map((x) => x.ms)) / median(m.eleventy.map((x) => x.ms))).toFixed(2);
  // Eleventy then Pagefind, run by run: the time a site waits for both.
  const withPagefind = (m: { layout: Sample[]; pagefind: Sample[] }): Sample[] =>
    m.layout.map((e, i) => ({ ms: e.ms + m.pagefind[i]!.ms, rssMb: Math.max(e.rssMb, m.pagefind[i]!.rssMb) }));
  const withNews = (m: { news: Sample[]; newsPagefind: Sample[] }) => withPagefind({ layout: m.news, pagefind: m.newsPagefind });
  const searchRebuild = { almanac: rebuild.almanac, eleventy: withPagefind(rebuild) };
  const searchScratch = { almanac: scratch.almanac, eleventy: withPagefind(scratch) };
  const pagefindPages = (await readdir(layoutOut, { recursive: true })).filter((f) => String(f).endsWith('.html')).length;
  const newsPages = (await readdir(newsOut, { recursive: true })).filter((f) => String(f).endsWith('.html')).length;
  process.stdout.write(
    [
      '',
      `build: ${GUIDES} guides, ${NEWS} news items → ${files} files (almanac) vs ${GUIDES} bare pages (eleventy); wall time with process start, medians`,
      line('almanac build, nothing changed', rebuild.almanac),
      line('eleventy 3.1.8, over its last output', rebuild.eleventy),
      `  ratio ${ratio(rebuild)} (target ≤ 0.50; almanac finds its output up to date and writes nothing)`,
      line('almanac build --force, output + cache', rebuild.forced),
      `  ratio ${ratio({ almanac: rebuild.forced, eleventy: rebuild.eleventy })} (composes every page and checks it against its spare; renders none)`,
      line('almanac build, no output, no cache', scratch.almanac),
      line('eleventy 3.1.8, from scratch', scratch.eleventy),
      `  ratio ${ratio(scratch)} (target: no higher than before search and figures)`,
      '',
      `build with search: almanac (its index of ${GUIDES} guides and ${NEWS} news items, made while it renders) vs eleventy then the`,
      `Pagefind CLI over its ${pagefindPages} pages (in a minimal layout); medians; peak RSS is each Node process's own (Pagefind's binary not counted)`,
      line('almanac build, nothing changed', searchRebuild.almanac),
      line('eleventy with a layout + pagefind', searchRebuild.eleventy),
      `  ratio ${ratio(searchRebuild)} (target ≤ 0.70)`,
      line('almanac build, one news item added', arrival),
      `  ratio ${ratio({ almanac: arrival, eleventy: searchRebuild.eleventy })} (against the same eleventy + pagefind rebuild; target ≤ 0.70)`,
      line('almanac build, no output, no cache', searchScratch.almanac),
      line('the same, from scratch', searchScratch.eleventy),
      `  ratio ${ratio(searchScratch)} (target ≤ 0.70)`,
      '',
      `the same records searchable on both sides: eleventy makes a page of each guide and each news item (${newsPages} pages in`,
      `the minimal layout; almanac lists the news on its listing pages instead) and the Pagefind CLI indexes them all,`,
      `as almanac indexes its ${GUIDES + NEWS} records; medians`,
      line('almanac build, nothing changed', rebuild.almanac),
      line('eleventy + pagefind, over output', withNews(rebuild)),
      `  ratio ${ratio({ almanac: rebuild.almanac, eleventy: withNews(rebuild) })} (nothing changed: almanac reuses its index, pagefind makes its own again)`,
      line('almanac build, one news item added', arrival),
      `  ratio ${ratio({ almanac: arrival, eleventy: withNews(rebuild) })} (almanac indexes the news item's month again)`,
      line('almanac build, no output, no cache', scratch.almanac),
      line('eleventy + pagefind, from scratch', withNews(scratch)),
      `  ratio ${ratio({ almanac: scratch.almanac, eleventy: withNews(scratch) })}`,
      '',
      `issue build sunday (20 stories, MJML once, checks on the sample MIME; median of 3):`,
      `  compose + render + checks + store  ${median(issueRuns.map((r) => r.issue)).toFixed(0).padStart(6)} ms (after the site is loaded; MJML included)`,
      `  whole command, with the site rebuild ${median(issueRuns.map((r) => r.wall)).toFixed(0).padStart(6)} ms`,
      '',
    ].join('\n'),
  );
  process.stdout.write(`(the outputs set aside are in ${path.join(base, 'set-aside')}: the last step of \`npm run bench\` deletes them, after every benchmark is timed)\n`);
}

// The last step of `npm run bench`: the other benchmarks make files too.
if (process.argv.includes('--remove-set-aside')) await removeSetAside(corpusDir(GUIDES, NEWS));
else await main();
