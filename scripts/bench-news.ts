// news fetch speed: SOURCES feeds of ENTRIES entries each, served on loopback, fetched and written
// by the command in this process (node --import tsx scripts/bench-news.ts); then a second run, in
// which every feed answers 304 Not Modified; then one in which no feed keeps validators, so every
// entry is read again and found already there.
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { main } from '../src/cli/main.ts';
import { scratchDir } from './scratch.ts';

const SOURCES = Number(process.env.BENCH_NEWS_SOURCES ?? 50);
const ENTRIES = Number(process.env.BENCH_NEWS_ENTRIES ?? 50);

/** Words no two headlines share by more than chance, so none is a near-duplicate of another. */
function word(n: number): string {
  let s = '';
  for (let x = n * 2654435761 >>> 0, i = 0; i < 7; i++, x = Math.imul(x ^ (x >>> 13), 1274126177) >>> 0) s += String.fromCharCode(97 + (x % 26));
  return s;
}

function feed(source: number): string {
  const items = Array.from({ length: ENTRIES }, (_, e) => {
    const n = source * ENTRIES + e;
    const date = new Date(Date.UTC(2026, 11, 1) + n * 60_000).toUTCString();
    return `<item><title>${word(n)} ${word(n + 100_000)} ${word(n + 200_000)} ${word(n + 300_000)}</title><link>https://s${source}.example/posts/${e}</link><pubDate>${date}</pubDate><description>&lt;p&gt;Entry ${e} of source ${source}: &lt;b&gt;bold&lt;/b&gt; and a &lt;a href="https://s${source}.example/more/${e}"&gt;link&lt;/a&gt;.&lt;/p&gt;</description></item>`;
  });
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Source ${source}</title>${items.join('')}</channel></rss>`;
}

let validators = true;
const bodies = Array.from({ length: SOURCES }, (_, i) => Buffer.from(feed(i)));
const server = http.createServer((req, res) => {
  const i = Number(/^\/feed-(\d+)\.xml$/.exec(req.url ?? '')?.[1] ?? -1);
  const body = bodies[i];
  if (!body) return void res.writeHead(404).end();
  const etag = `"f${i}"`;
  if (validators && req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
  res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-length': body.length, ...(validators ? { etag } : {}) }).end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;

const root = await scratchDir('almanac-bench-news-');
await mkdir(path.join(root, 'content'));
await writeFile(
  path.join(root, 'almanac.config.json'),
  JSON.stringify({ sources: bodies.map((_, i) => ({ name: `Source ${i}`, url: `http://127.0.0.1:${port}/feed-${i}.xml` })), intake: { allowPrivateSources: true } }),
);

async function timed(label: string): Promise<number> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const quiet = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  const code = await main(['news', 'fetch', '--root', root, '--now', '2026-12-05T12:00:00Z']).finally(() => (process.stdout.write = quiet));
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const summary = out.trim().split('\n').at(-1);
  // CPU time beside the wall time: on a busy machine the wall time measures the neighbours too.
  console.log(`${label.padEnd(34)} ${(ms / 1000).toFixed(2)} s (${((used.user + used.system) / 1e6).toFixed(2)} s CPU)   (exit ${code}; ${summary})`);
  return ms;
}

console.log(`news fetch: ${SOURCES} sources × ${ENTRIES} entries from a loopback server`);
await timed('first run (fetch, parse, write)');
const files = (await readdir(path.join(root, 'content/news'), { recursive: true })).filter((f) => f.endsWith('.md')).length;
console.log(`${''.padEnd(34)} ${files} item files written`);
await timed('second run (every feed 304)');
validators = false;
await timed('third run (no 304s, all present)');
server.close();
