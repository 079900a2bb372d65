// Social cards frozen with guide versions: `guide publish` draws the card of a version without a
// figure and records its hash; a build copies it and draws none (a rebuild copies nothing); a hand
// edit of a frozen card is refused like one of a frozen figure; a version published without a card
// gets one drawn at build, `check` says which guides, and `guide cards` freezes them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'node-html-parser';
import sharp from 'sharp';
import { OutputWriter } from '../src/output/staged.ts';
import { cardText, drawCard } from '../src/site/social-card.ts';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { png } from './helpers/images.ts';

const GUIDE = `---
title: Tides & <Currents>
level: advanced
topics: [Testing]
tldr: A short summary.
takeaways: [One thing.]
---

## Intro

Text.
`;
const FIGURE_GUIDE = `---
title: Harbours
level: beginner
topics: [Testing]
tldr: A short summary.
takeaways: [One thing.]
---

## Intro

![A chart of a harbour](chart.png)
`;

const CARD = 'content/guides/tides/versions/v1/card.png';
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const manifest = async (root: string, slug: string) => JSON.parse(await readFile(path.join(root, `content/guides/${slug}/versions.json`), 'utf8'));
const cardLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('almanac:figures') && /card/.test(l));

async function publishedSite(): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, {
    'content/guides/tides/guide.md': GUIDE,
    'content/guides/harbours/guide.md': FIGURE_GUIDE,
    // What check needs of a site that sends.
    'almanac.config.json': JSON.stringify({ baseUrl: 'https://almanac.example', from: 'Almanac <letters@almanac.example>' }),
  });
  await writeFile(path.join(root, 'content/guides/harbours/chart.png'), await png(600, 300));
  const run = await almanac(['guide', 'publish', '--all', '--note', 'First', '--root', root, '--now', '2026-06-01T10:00:00Z']);
  assert.equal(run.code, 0, run.stderr);
  return root;
}

const build = (root: string) => almanac(['build', '--root', root, '--now', NOW], { env: { ALMANAC_DEBUG: 'figures' } });

describe('social cards frozen with versions', () => {
  it('publish draws the card of a version without a figure and records its hash; a version with a figure gets none', async () => {
    const root = await publishedSite();
    const frozen = await readFile(path.join(root, CARD));
    assert.deepEqual(frozen, await drawCard(cardText({ title: 'Tides & <Currents>', level: 'advanced' })));
    const meta = await sharp(frozen).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 1200, 630]);
    assert.equal((await manifest(root, 'tides')).versions[0].card, sha(frozen));
    assert.equal((await manifest(root, 'harbours')).versions[0].card, undefined);
    await assert.rejects(stat(path.join(root, 'content/guides/harbours/versions/v1/card.png')), { code: 'ENOENT' });
  });

  it('a build copies the frozen card and draws none, and a rebuild writes no card bytes and leaves the frozen file as it was', async () => {
    const root = await publishedSite();
    const run = await build(root);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(cardLines(run.stderr), ['almanac:figures 1 social cards frozen with their versions, copied without drawing', 'almanac:figures 0 of 0 social cards drawn, 0 reused']);
    const frozen = await readFile(path.join(root, CARD));
    const image = parse(await readFile(path.join(root, 'dist/guides/tides/index.html'), 'utf8')).querySelector('meta[property="og:image"]')!.getAttribute('content')!;
    const file = `social/${sha(frozen).slice(0, 16)}.png`;
    assert.equal(image, `https://almanac.example/${file}`);
    assert.deepEqual(await readFile(path.join(root, 'dist', file)), frozen);
    // The frozen file is only read: its ctime is part of what tells the content cache the guide is unchanged.
    const source = await stat(path.join(root, CARD));
    const copy = await stat(path.join(root, 'dist', file));
    assert.ok(Math.abs(copy.mtimeMs - source.mtimeMs) < 1, 'the copy carries the time of the frozen file');
    // The second rebuild writes into the first build's output (the spare): the copy there is kept as it is.
    assert.equal((await build(root)).code, 0);
    assert.equal((await build(root)).code, 0);
    assert.equal((await stat(path.join(root, 'dist', file))).ctimeMs, copy.ctimeMs, 'not written again');
    assert.equal((await stat(path.join(root, CARD))).ctimeMs, source.ctimeMs, 'the frozen card was not touched');
    assert.deepEqual(await readFile(path.join(root, CARD)), frozen, 'the frozen card is untouched');
  });

  it('on two threads the second one copies the frozen card, whole and with its time', async () => {
    const root = await publishedSite();
    const run = await almanac(['build', '--root', root, '--now', NOW, '--threads', '2']);
    assert.equal(run.code, 0, run.stderr);
    const frozen = await readFile(path.join(root, CARD));
    const file = path.join(root, 'dist', `social/${sha(frozen).slice(0, 16)}.png`);
    assert.deepEqual(await readFile(file), frozen);
    assert.ok(Math.abs((await stat(file)).mtimeMs - (await stat(path.join(root, CARD))).mtimeMs) < 1);
  });

  it('a hand-edited or missing frozen card fails the build, naming the file', async () => {
    const root = await publishedSite();
    await writeFile(path.join(root, CARD), await png(1200, 630, '#000000'));
    const edited = await build(root);
    assert.equal(edited.code, 1);
    assert.match(edited.stderr, /^content\/guides\/tides\/versions\/v1\/card\.png: expected the social card frozen with v1 on 2026-06-01 .*found a changed or missing file$/m);
    await rm(path.join(root, CARD));
    const missing = await build(root);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^content\/guides\/tides\/versions\/v1\/card\.png: expected the social card frozen with v1/m);
  });

  it('a version published without a card gets one drawn at build; check names it; guide cards freezes it without a new version', async () => {
    const root = await publishedSite();
    // As a version published before cards were frozen looks.
    const before = await manifest(root, 'tides');
    delete before.versions[0].card;
    await writeFile(path.join(root, 'content/guides/tides/versions.json'), `${JSON.stringify(before, null, 2)}\n`);
    await rm(path.join(root, 'content/guides/tides/versions/v1'), { recursive: true });

    const drawn = await build(root);
    assert.equal(drawn.code, 0, drawn.stderr);
    assert.deepEqual(cardLines(drawn.stderr), [
      'almanac:figures cards to draw, their versions published without one (run "almanac guide cards"): tides',
      'almanac:figures 0 social cards frozen with their versions, copied without drawing',
      'almanac:figures 1 of 1 social cards drawn, 0 reused',
    ]);
    const check = await almanac(['check', '--json', '--root', root, '--now', NOW]);
    assert.equal(check.code, 0, check.stderr);
    const warnings = (JSON.parse(check.stdout) as { warnings: { file: string; field?: string; found: string }[] }).warnings.filter((w) => w.field === 'card');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.file, 'content/guides/tides/versions.json');
    assert.match(warnings[0]!.found, /1 guide without one, .*: tides$/);

    const cards = await almanac(['guide', 'cards', '--root', root]);
    assert.equal(cards.code, 0, cards.stderr);
    assert.equal(cards.stdout, 'Froze the card of tides v1\n');
    const after = await manifest(root, 'tides');
    assert.deepEqual(after.versions.map((v: { version: number }) => v.version), [1], 'no new version');
    assert.deepEqual({ ...after.versions[0], card: undefined }, { ...before.versions[0], card: undefined }, 'the version line is otherwise as it was');
    assert.equal(after.versions[0].card, sha(await readFile(path.join(root, CARD))));
    assert.equal((await almanac(['guide', 'cards', 'tides', '--root', root])).stdout, 'Every published version has its card (or a figure).\n');

    const rechecked = JSON.parse((await almanac(['check', '--json', '--root', root, '--now', NOW])).stdout) as { warnings: { field?: string }[] };
    assert.deepEqual(rechecked.warnings.filter((w) => w.field === 'card'), []);
    assert.deepEqual(cardLines((await build(root)).stderr).at(-1), 'almanac:figures 0 of 0 social cards drawn, 0 reused');
  });

  it('a frozen file replaces whatever an older output had at its path, as a copy', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-frozen-'));
    const source = path.join(dir, 'card.png');
    await writeFile(source, 'frozen bytes');
    const out = path.join(dir, 'out');
    await writeFiles(out, { 'social/a.png': 'stale bytes of the same size?' });
    new OutputWriter(out).copyFrozen('social/a.png', source);
    assert.equal(await readFile(path.join(out, 'social/a.png'), 'utf8'), 'frozen bytes');
    const copied = await stat(path.join(out, 'social/a.png'));
    assert.notEqual(copied.ino, (await stat(source)).ino, 'a copy, not the frozen file itself');
    // Whether a copy is in place already is for the page record to tell (see up-to-date.test.ts).
    await writeFiles(out, { 'social/a.png': 'frozen BYTES' });
    new OutputWriter(out).copyFrozen('social/a.png', source);
    assert.equal(await readFile(path.join(out, 'social/a.png'), 'utf8'), 'frozen bytes', 'copied again over bytes of the same size');
    await rm(dir, { recursive: true });
  });
});
