// Content files are UTF-8: a byte order mark is dropped, and anything else is an error that says
// which file and where, whichever kind of content file it is.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readConfig } from '../src/content/config-file.ts';
import { loadGuide } from '../src/content/guide-files.ts';
import { loadSite } from '../src/content/load.ts';
import { readNewsItem } from '../src/content/news-item.ts';
import { decodeText } from '../src/content/text.ts';
import { renderSite } from '../src/site/build.ts';
import { BIN, GOOD_GUIDE, GOOD_NEWS, NOW, snapshot, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Where a decoder that accepts everything first gives up: the longest prefix that is UTF-8. */
function oracleOffset(bytes: Uint8Array): number {
  let p = bytes.length;
  while (p > 0 && !isUtf8(bytes.subarray(0, p))) p--;
  return p;
}

function expectedProblem(bytes: Uint8Array, file: string) {
  const offset = oracleOffset(bytes);
  const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
  const shown = [...bytes.subarray(offset, offset + 4)].map((b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
  return { file, expected: 'UTF-8 text (save the file as UTF-8)', found: `bytes that are not UTF-8 at byte offset ${offset} (line ${line}): ${shown}` };
}

/** Bytes that are not UTF-8: valid text, then arbitrary bytes with at least one bad sequence among them. */
const notUtf8 = fc
  .tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.boolean())
  .map(([text, tail, bom]) => Buffer.concat([bom ? BOM : Buffer.alloc(0), Buffer.from(text), Buffer.from(tail)]))
  .filter((bytes) => !isUtf8(bytes));

/** Text as an editor may type it in a YAML double-quoted value: no line breaks or control characters. */
const words = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
  .map((s) => s.replace(/[\p{Cc}\p{Zl}\p{Zp}\u0085\uFEFF\uFFFD]/gu, '').trim())
  .filter((s) => s.length > 0);

describe('content encoding', () => {
  it('decodes UTF-8 with and without a byte order mark to the same text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const plain = decodeText(Buffer.from(text), 'x.md');
        const marked = decodeText(Buffer.concat([BOM, Buffer.from(text)]), 'x.md');
        // Only the first mark is the file's: a text that itself starts with U+FEFF keeps that one.
        assert.equal(marked.text, text);
        assert.equal(plain.text, text.replace(/^\uFEFF/, ''));
      }),
      { numRuns: 500, examples: [['\uFEFFtwice'], ['']] },
    );
  });

  it('reports any file that is not UTF-8 with its name and the offset of the first bad sequence, whatever the kind of file', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-encoding-'));
    await mkdir(path.join(root, 'content/news'), { recursive: true });
    await mkdir(path.join(root, 'content/guides/g/versions'), { recursive: true });
    const good = Buffer.from(GOOD_GUIDE);
    await fc.assert(
      fc.asyncProperty(notUtf8, async (bytes) => {
        await writeFile(path.join(root, 'content/news/bad.md'), bytes);
        assert.deepEqual(readNewsItem(root, 'bad.md', 'UTC'), { problems: [expectedProblem(bytes, 'content/news/bad.md')] });

        await writeFile(path.join(root, 'content/guides/g/guide.md'), bytes);
        await rm(path.join(root, 'content/guides/g/versions.json'), { force: true });
        assert.deepEqual(loadGuide(root, 'g'), { problems: [expectedProblem(bytes, 'content/guides/g/guide.md')] });

        // A frozen version, listed with the hash of what it holds.
        await writeFile(path.join(root, 'content/guides/g/guide.md'), good);
        await writeFile(path.join(root, 'content/guides/g/versions/v1.md'), bytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        await writeFile(path.join(root, 'content/guides/g/versions.json'), JSON.stringify({ versions: [{ version: 1, published: '2026-06-01T09:00:00Z', note: 'n', sha256 }] }));
        assert.deepEqual(loadGuide(root, 'g').problems, [expectedProblem(bytes, 'content/guides/g/versions/v1.md')]);

        await writeFile(path.join(root, 'content/guides/g/versions.json'), bytes);
        assert.deepEqual(loadGuide(root, 'g').problems, [expectedProblem(bytes, 'content/guides/g/versions.json')]);

        await writeFile(path.join(root, 'almanac.config.json'), bytes);
        assert.deepEqual((await readConfig(root)).problems, [expectedProblem(bytes, 'almanac.config.json')]);
      }),
      { numRuns: 150 },
    );
  });

  it('builds the same site from any content whether its files start with a byte order mark or not', async () => {
    const plainRoot = await mkdtemp(path.join(os.tmpdir(), 'almanac-plain-'));
    const markedRoot = await mkdtemp(path.join(os.tmpdir(), 'almanac-marked-'));
    const content = fc.record({ title: words, source: words, summary: words, guideTitle: words, tldr: words, section: words, topic: words });
    await fc.assert(
      fc.asyncProperty(content, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), async (c, marks) => {
        const q = (s: string) => JSON.stringify(s);
        const guide = `---\ntitle: ${q(c.guideTitle)}\nlevel: beginner\ntopics: [${q(c.topic)}]\ntldr: ${q(c.tldr)}\ntakeaways: [${q(c.tldr)}]\n---\n\n## ${c.section}\n\n${c.summary}\n`;
        const files: Record<string, string> = {
          'almanac.config.json': JSON.stringify({ title: c.title }),
          'content/news/item.md': `---\ntitle: ${q(c.title)}\nurl: https://example.com/a\nsource: ${q(c.source)}\npublished: 2026-06-01\nscore: 5\ntopics: [${q(c.topic)}]\n---\n${c.summary}\n`,
          'content/guides/g/guide.md': guide,
          'content/guides/g/versions/v1.md': guide,
          'content/guides/g/versions.json': JSON.stringify({
            versions: [{ version: 1, published: '2026-05-01T09:00:00Z', note: 'First', sha256: createHash('sha256').update(guide).digest('hex') }],
          }),
        };
        for (const [i, [rel, text]] of Object.entries(files).entries()) {
          await mkdir(path.dirname(path.join(plainRoot, rel)), { recursive: true });
          await mkdir(path.dirname(path.join(markedRoot, rel)), { recursive: true });
          await writeFile(path.join(plainRoot, rel), text);
          await writeFile(path.join(markedRoot, rel), marks[i] ? Buffer.concat([BOM, Buffer.from(text)]) : text);
        }
        const now = Date.parse(NOW);
        const plain = await renderSite(await loadSite(plainRoot), now);
        const marked = await renderSite(await loadSite(markedRoot), now);
        assert.deepEqual(marked.files, plain.files);
        assert.ok(String(plain.files.get('news/index.html')).includes('example.com/a'));
      }),
      { numRuns: 25 },
    );
  });

  it('build: files with a byte order mark build; a Latin-1 file is an error naming it and nothing is written', async () => {
    const root = await tempSite();
    const plain = await tempSite();
    const files = { 'content/guides/good/guide.md': GOOD_GUIDE, 'content/news/good.md': GOOD_NEWS, 'almanac.config.json': '{ "title": "Marked" }\n' };
    await writeFiles(plain, files);
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), Buffer.concat([BOM, Buffer.from(text)]));
    }
    for (const site of [root, plain]) {
      const run = await almanac(['build', '--root', site, '--now', NOW]);
      assert.equal(run.code, 0, run.stderr);
    }
    assert.deepEqual(await snapshot(path.join(root, 'dist')), await snapshot(path.join(plain, 'dist')));
    const before = await snapshot(path.join(root, 'dist'));
    const latin1 = Buffer.from(GOOD_NEWS.replace('A Good Story', 'Café crème'), 'latin1');
    await writeFile(path.join(root, 'content/news/latin1.md'), latin1);
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    const offset = latin1.indexOf(0xe9);
    assert.match(run.stderr, new RegExp(`^content/news/latin1\\.md: expected UTF-8 text \\(save the file as UTF-8\\), found bytes that are not UTF-8 at byte offset ${offset} \\(line 2\\): 0xE9 `, 'm'));
    assert.doesNotMatch(run.stderr, /^\s+at /m);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), before);
  });

  it('publishes a working copy that starts with a byte order mark, and the version reads back unchanged', async () => {
    const root = await tempSite();
    await mkdir(path.join(root, 'content/guides/g'), { recursive: true });
    await writeFile(path.join(root, 'content/guides/g/guide.md'), Buffer.concat([BOM, Buffer.from(GOOD_GUIDE)]));
    const published = await almanac(['guide', 'publish', 'g', '--note', 'First', '--root', root, '--now', NOW]);
    assert.equal(published.code, 0, published.stderr);
    const versions = await almanac(['guide', 'versions', 'g', '--root', root]);
    assert.equal(versions.code, 0, versions.stderr);
    assert.match(versions.stdout, /v1 .* First/);
    assert.doesNotMatch(versions.stdout, /not yet published/);
    const build = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(build.code, 0, build.stderr);
  });

  it('preview: a byte order mark added to a published working copy shows no change', async () => {
    const root = await tempSite({ sample: true });
    const dir = path.join(root, 'content/guides/meta');
    const { readFile, readdir } = await import('node:fs/promises');
    const latest = (await readdir(path.join(dir, 'versions'))).sort().at(-1)!;
    await writeFile(path.join(dir, 'guide.md'), Buffer.concat([BOM, await readFile(path.join(dir, 'versions', latest))]));
    const child = spawn(process.execPath, [BIN, 'preview', '--port', '0', '--root', root, '--now', NOW]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 20_000;
      while (!/Preview at (http:\/\/127\.0\.0\.1:\d+)\//.test(out)) {
        if (Date.now() > deadline) throw new Error(`preview did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const base = /Preview at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)![1]!;
      const res = await fetch(`${base}/guides/meta/`, { signal: AbortSignal.timeout(20_000) });
      assert.equal(res.status, 200);
      const html = await res.text();
      const diff = /<pre class="diff">([\s\S]*?)<\/pre>/.exec(html)?.[1];
      assert.ok(diff !== undefined, 'the page has its diff against the latest version');
      assert.doesNotMatch(diff, /^@@/m, `no change:\n${diff}`);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
