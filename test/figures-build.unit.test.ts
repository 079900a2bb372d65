// Figures through the build: real images made by sharp in a temporary site, their sizes and formats
// in dist/, the markup that keeps the page from moving, the cache that makes a rebuild process none,
// versions that keep their own images, and the lead image in an email's guide card.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'node-html-parser';
import sharp from 'sharp';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { png, pngDeclaring } from './helpers/images.ts';
import { deflateSync } from 'node:zlib';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveFile } from '../src/server/static.ts';

const GUIDE = `---
title: Tides, Drawn
level: beginner
topics: [Testing]
tldr: A short summary.
takeaways: [One thing.]
---

## Intro

![A wide blue chart of the tides](chart.png "High and low water over a day")

Some text between the figures.

![A small photo of a harbour](photo.jpg)
`;

const NOW = '2026-06-20T09:00:00Z';
const figureLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('almanac:figures') && l.includes('images'));

async function siteWithFigures(): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, { 'content/guides/tides/guide.md': GUIDE });
  await writeFile(path.join(root, 'content/guides/tides/chart.png'), await png(1000, 500));
  const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#884422' } }).jpeg().toBuffer();
  await writeFile(path.join(root, 'content/guides/tides/photo.jpg'), jpeg);
  return root;
}

async function build(root: string): Promise<{ code: number; stderr: string }> {
  return almanac(['build', '--root', root, '--now', NOW], { env: { ALMANAC_DEBUG: 'figures' } });
}

const imgs = (html: string) => parse(html).querySelectorAll('figure img');

describe('figures in the built site', () => {
  it('makes each width no wider than the source, in AVIF, WebP and a fallback, and a second build processes none', async () => {
    const root = await siteWithFigures();
    assert.equal((await almanac(['guide', 'publish', 'tides', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z'])).code, 0);
    const first = await build(root);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(figureLines(first.stderr), ['almanac:figures 2 of 2 images processed, 0 reused']);

    const dist = path.join(root, 'dist');
    const html = await readFile(path.join(dist, 'guides/tides/index.html'), 'utf8');
    const [chart, photo] = imgs(html);
    assert.ok(chart && photo, 'two figures on the page');
    assert.equal(chart.getAttribute('width'), '1000');
    assert.equal(chart.getAttribute('height'), '500');
    assert.equal(photo.getAttribute('width'), '300');
    assert.equal(photo.getAttribute('height'), '200');
    assert.equal(chart.getAttribute('loading'), undefined, 'the first figure loads at once');
    assert.equal(photo.getAttribute('loading'), 'lazy');
    assert.equal(chart.getAttribute('alt'), 'A wide blue chart of the tides');
    assert.equal(parse(html).querySelector('figure figcaption')!.textContent, 'High and low water over a day');

    // Every file a srcset names exists, is the width it says and the format its type says.
    const doc = parse(html);
    const named: { file: string; width: number; format: string }[] = [];
    for (const el of doc.querySelectorAll('figure source, figure img')) {
      const type = el.getAttribute('type');
      for (const entry of el.getAttribute('srcset')!.split(', ')) {
        const [url, w] = entry.split(' ');
        const ext = path.extname(url!).slice(1);
        named.push({ file: path.join(dist, 'guides/tides', url!), width: Number(w!.slice(0, -1)), format: type ? type.slice(6) : ext === 'jpg' ? 'jpeg' : ext });
      }
    }
    const widths = (ext: string) => named.filter((n) => n.file.endsWith(`.${ext}`)).map((n) => n.width);
    assert.deepEqual(widths('avif'), [480, 960, 1000, 300]);
    assert.deepEqual(widths('webp'), [480, 960, 1000, 300]);
    assert.deepEqual(widths('png'), [480, 960, 1000], 'a PNG source falls back to PNG');
    assert.deepEqual(widths('jpg'), [300], 'a JPEG source falls back to JPEG, only at its own width');
    for (const n of named) {
      const meta = await sharp(await readFile(n.file)).metadata();
      assert.equal(meta.width, n.width, n.file);
      assert.equal(meta.format === 'heif' ? 'avif' : meta.format, n.format, n.file);
    }
    // Named by content hash.
    assert.ok(named.every((n) => /\/figures\/[0-9a-f]{16}-\d+\.(avif|webp|png|jpg)$/.test(n.file)));

    // serve gives each format its type: browsers pick a <source> by it, and refuse octet-stream under nosniff.
    const server = http.createServer((req, res) => void serveFile(req, res, dist, new URL(req.url!, 'http://x').pathname));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const [ext, type] of [['avif', 'image/avif'], ['webp', 'image/webp'], ['png', 'image/png'], ['jpg', 'image/jpeg']]) {
        const n = named.find((x) => x.file.endsWith(`.${ext}`))!;
        const res = await fetch(`http://127.0.0.1:${port}/${path.relative(dist, n.file)}`);
        assert.equal(res.headers.get('content-type'), type);
        await res.arrayBuffer();
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }

    const figuresBefore = await readdir(path.join(dist, 'figures'));
    const second = await build(root);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(figureLines(second.stderr), ['almanac:figures 0 of 2 images processed, 2 reused']);
    assert.deepEqual(await readdir(path.join(root, 'dist/figures')), figuresBefore);
    // The third build writes into the first one's output (the spare): the figures there are kept, not written again.
    const changed = (output: string) => Promise.all(figuresBefore.map(async (name) => (await stat(path.join(root, output, 'figures', name))).ctimeMs));
    const firstOutput = await changed('.dist.spare');
    assert.equal((await build(root)).code, 0);
    assert.deepEqual(await changed('dist'), firstOutput);
  });

  it('a published version keeps its images when the working copy\'s image changes', async () => {
    const root = await siteWithFigures();
    assert.equal((await almanac(['guide', 'publish', 'tides', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z'])).code, 0);
    const original = await readFile(path.join(root, 'content/guides/tides/chart.png'));
    assert.deepEqual(await readFile(path.join(root, 'content/guides/tides/versions/v1/chart.png')), original, 'frozen copy beside v1');

    // Only the image changes: that is a change to publish.
    await writeFile(path.join(root, 'content/guides/tides/chart.png'), await png(800, 400, '#cc3333'));
    const v2 = await almanac(['guide', 'publish', 'tides', '--note', 'New chart', '--root', root, '--now', '2026-06-10T10:00:00Z']);
    assert.equal(v2.code, 0, v2.stderr);
    assert.equal((await build(root)).code, 0);

    const dist = path.join(root, 'dist');
    const v1 = imgs(await readFile(path.join(dist, 'guides/tides/v1.html'), 'utf8'))[0]!;
    const latest = imgs(await readFile(path.join(dist, 'guides/tides/index.html'), 'utf8'))[0]!;
    assert.equal(v1.getAttribute('width'), '1000');
    assert.equal(latest.getAttribute('width'), '800');
    assert.notEqual(v1.getAttribute('src'), latest.getAttribute('src'));
    // v1's file is the old image, resized: its pixels are blue, not the new red.
    const v1File = path.join(dist, 'guides/tides', v1.getAttribute('src')!);
    const { data } = await sharp(await readFile(v1File)).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([data[0], data[1], data[2]], [0x33, 0x66, 0xcc]);

    // A hand edit of a frozen image is caught like a hand edit of frozen text.
    await writeFile(path.join(root, 'content/guides/tides/versions/v1/chart.png'), await png(10, 10));
    const tampered = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /content\/guides\/tides\/versions\/v1\/chart\.png: expected the image frozen with v1 on 2026-06-01 .*found a changed or missing file/);
  });

  it('an image that is not what its first bytes say is refused by publish, so no version is frozen with it', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/guides/tides/guide.md': GUIDE.replace(/\n!\[A small photo[^\n]*\n/, '\n') });
    // A PNG signature followed by nothing sharp can decode.
    await writeFile(path.join(root, 'content/guides/tides/chart.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]));
    const published = await almanac(['guide', 'publish', 'tides', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z']);
    assert.equal(published.code, 1);
    assert.match(published.stderr, /content\/guides\/tides\/chart\.png: expected an image file sharp can read, found an image that cannot be decoded/);
    assert.deepEqual(await readdir(path.join(root, 'content/guides/tides')), ['chart.png', 'guide.md']);
  });

  it('a truncated PNG and one declaring 100000 × 100000 pixels are refused by publish', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/guides/tides/guide.md': GUIDE.replace('photo.jpg', 'bomb.png') });
    const whole = await png(1000, 500);
    await writeFile(path.join(root, 'content/guides/tides/chart.png'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    await writeFile(path.join(root, 'content/guides/tides/bomb.png'), pngDeclaring(100_000, 100_000));
    const published = await almanac(['guide', 'publish', 'tides', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z']);
    assert.equal(published.code, 1);
    assert.match(published.stderr, /tides\/chart\.png: expected an image file sharp can read/);
    assert.match(published.stderr, /tides\/bomb\.png: expected an image file sharp can read, found .*pixel limit/);
  });

  it('checking a small file that declares a huge image does not hold the image in memory', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/guides/tides/guide.md': GUIDE.replace(/\n!\[A small photo[^\n]*\n/, '\n') });
    // 16000 × 16000 grey pixels of zeros: about 250 kB on disk, 256 MB decoded, under sharp's pixel limit.
    const row = Buffer.alloc(16_001);
    await writeFile(path.join(root, 'content/guides/tides/chart.png'), pngDeclaring(16_000, 16_000, deflateSync(Buffer.concat(Array.from({ length: 16_000 }, () => row)), { level: 9 })));
    const before = process.resourceUsage().maxRSS;
    const published = await almanac(['guide', 'publish', 'tides', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z']);
    assert.equal(published.code, 0, published.stderr);
    // Held whole, the grey image alone is 256 MB (and four times that in colour).
    assert.ok(process.resourceUsage().maxRSS - before < 200_000, `peak memory grew by ${process.resourceUsage().maxRSS - before} kB`);
  });

  it('an issue whose featured guide was frozen with an image that cannot be decoded names the file', async () => {
    const root = await siteWithFigures();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://almanac.example' }),
      'content/news/one.md': '---\ntitle: A story\nurl: https://example.com/a\nsource: Wire\npublished: 2026-06-18\nscore: 5\ntopics: [Testing]\n---\nSummary.\n',
      'content/issues/2026-06-21-sunday.md': '---\nguides: [tides]\n---\n',
    });
    assert.equal((await almanac(['guide', 'publish', 'tides', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z'])).code, 0);
    // As a version published before publish decoded its images would hold it.
    const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
    const manifestFile = path.join(root, 'content/guides/tides/versions.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { versions: { figures: Record<string, string> }[] };
    manifest.versions[0]!.figures['chart.png'] = createHash('sha256').update(broken).digest('hex');
    await writeFile(manifestFile, JSON.stringify(manifest));
    await writeFile(path.join(root, 'content/guides/tides/versions/v1/chart.png'), broken);
    await writeFile(path.join(root, 'content/guides/tides/chart.png'), broken);
    const run = await almanac(['issue', 'build', 'sunday', '--date', '2026-06-21', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /content\/guides\/tides\/versions\/v1\/chart\.png: expected an image file sharp can read/);
  });

  it('the email shows a featured guide\'s lead image from the https site, sized for its column', async () => {
    const root = await siteWithFigures();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://almanac.example' }),
      'content/news/one.md': '---\ntitle: A story\nurl: https://example.com/a\nsource: Wire\npublished: 2026-06-18\nscore: 5\ntopics: [Testing]\n---\nSummary.\n',
      'content/issues/2026-06-21-sunday.md': '---\nguides: [tides]\n---\n',
    });
    assert.equal((await almanac(['guide', 'publish', 'tides', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z'])).code, 0);
    const run = await almanac(['issue', 'build', 'sunday', '--date', '2026-06-21', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    const email = parse(await readFile(path.join(root, 'dist/issues/2026-06-21-sunday/email.html'), 'utf8'));
    const img = email.querySelectorAll('img').find((i) => i.getAttribute('src')?.includes('/figures/'));
    assert.ok(img, 'the lead image is in the email');
    // The widest size up to twice the column: the source's own 1000 px.
    assert.match(img.getAttribute('src')!, /^https:\/\/almanac\.example\/figures\/[0-9a-f]{16}-1000\.png$/);
    assert.equal(img.getAttribute('alt'), 'A wide blue chart of the tides');
    assert.equal(img.getAttribute('width'), '544');
    assert.equal(img.getAttribute('height'), '272');
    // The file it names is in the site the issue build wrote.
    const file = path.join(root, 'dist', new URL(img.getAttribute('src')!).pathname);
    assert.equal((await sharp(await readFile(file)).metadata()).width, 1000);
  });
});
