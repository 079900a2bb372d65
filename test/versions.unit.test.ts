// Guide versions as an editor uses them: new, publish, publish again, list; frozen and tamper-evident.
import assert from 'node:assert/strict';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'node-html-parser';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const read = (root: string, rel: string) => readFile(path.join(root, rel), 'utf8');
/** The part of a version page that comes from the frozen text: header to FAQ. */
const frozenPart = (html: string) => {
  const doc = parse(html);
  const article = doc.querySelector('article.guide-main')!;
  for (const sel of ['.breadcrumbs', '.notice', '.stay-current', '.versions', '.related-guides', '.more-on', '.guide-head .chips']) {
    for (const el of article.querySelectorAll(sel)) el.remove();
  }
  return article.outerHTML.replace(/\s+/g, ' ');
};

describe('guide versions', () => {
  it('new → publish → edit → publish: v1 stays frozen byte for byte, v2 goes live', async () => {
    const root = await tempSite();
    const created = await almanac(['guide', 'new', 'tidal-power', '--root', root]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created content\/guides\/tidal-power\/guide\.md/);
    // The scaffold is valid content: it builds and publishes as it is.
    const v1 = await almanac(['guide', 'publish', 'tidal-power', '--note', 'First edition', '--root', root, '--now', '2026-05-01T10:00:00Z']);
    assert.equal(v1.code, 0, v1.stderr);
    assert.equal(v1.stdout, 'Published tidal-power v1 → content/guides/tidal-power/versions/v1.md\n');
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const frozenV1 = await read(root, 'content/guides/tidal-power/versions/v1.md');
    const pageV1Before = await read(root, 'dist/guides/tidal-power/v1.html');

    await appendFile(path.join(root, 'content/guides/tidal-power/guide.md'), '\n## What changed\n\nA new section.\n');
    const v2 = await almanac(['guide', 'publish', 'tidal-power', '--note', 'Adds what changed', '--root', root, '--now', '2026-06-01T10:00:00Z']);
    assert.equal(v2.code, 0, v2.stderr);
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);

    assert.equal(await read(root, 'content/guides/tidal-power/versions/v1.md'), frozenV1, 'frozen file untouched');
    const pageV1After = await read(root, 'dist/guides/tidal-power/v1.html');
    assert.equal(frozenPart(pageV1After), frozenPart(pageV1Before), 'v1 page text unchanged');
    assert.match(parse(pageV1After).querySelector('.notice')!.textContent, /The latest is\s+v2/);
    const latest = await read(root, 'dist/guides/tidal-power/index.html');
    assert.match(latest, /id="what-changed"/);
    assert.doesNotMatch(pageV1After, /id="what-changed"/);

    const manifest = JSON.parse(await read(root, 'content/guides/tidal-power/versions.json'));
    assert.deepEqual(
      manifest.versions.map((v: { version: number; published: string; note: string }) => [v.version, v.published, v.note]),
      [[1, '2026-05-01T10:00:00.000Z', 'First edition'], [2, '2026-06-01T10:00:00.000Z', 'Adds what changed']],
    );

    const list = await almanac(['guide', 'versions', 'tidal-power', '--root', root]);
    assert.equal(list.code, 0);
    assert.equal(
      list.stdout,
      'Tidal Power (tidal-power)\n  v2  2026-06-01 10:00 UTC  live  Adds what changed\n  v1  2026-05-01 10:00 UTC  First edition\n',
    );
  });

  it('refuses to publish an unchanged guide; --all publishes only the changed ones', async () => {
    const root = await tempSite({ sample: true });
    const same = await almanac(['guide', 'publish', 'meta', '--note', 'Again', '--root', root]);
    assert.equal(same.code, 1);
    assert.match(same.stderr, /content\/guides\/meta\/guide\.md: expected changes since v1 to publish, found the same text as v1/);

    await appendFile(path.join(root, 'content/guides/meta/guide.md'), '\nOne more paragraph.\n');
    await appendFile(path.join(root, 'content/guides/muse-spark/guide.md'), '\nOne more paragraph.\n');
    const all = await almanac(['guide', 'publish', '--all', '--note', 'Small additions', '--root', root, '--now', NOW]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /Published meta v2/);
    assert.match(all.stdout, /Published muse-spark v2/);
    assert.match(all.stdout, /Unchanged since their latest version: llama-4, meta-ai-infrastructure, open-vs-closed-weights/);
    const again = await almanac(['guide', 'publish', '--all', '--note', 'x', '--root', root]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Nothing to publish\./);
  });

  it('publishes several guides at once, or none when one is invalid', async () => {
    const root = await tempSite();
    await almanac(['guide', 'new', 'one', '--root', root]);
    await almanac(['guide', 'new', 'two', '--root', root]);
    await writeFile(path.join(root, 'content/guides/two/guide.md'), '---\ntitle: Two\n---\n');
    const bad = await almanac(['guide', 'publish', 'one', 'two', '--note', 'First', '--root', root]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /content\/guides\/two\/guide\.md: level: expected one of beginner, intermediate, advanced, found nothing/);
    await assert.rejects(readFile(path.join(root, 'content/guides/one/versions.json')), 'nothing published');
    await rm(path.join(root, 'content/guides/two'), { recursive: true });
    const ok = await almanac(['guide', 'publish', 'one', '--note', 'First', '--root', root]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('usage errors: no note, bad slug, both slugs and --all, unknown guide, existing guide', async () => {
    const root = await tempSite({ sample: true });
    const noNote = await almanac(['guide', 'publish', 'meta', '--root', root]);
    assert.equal(noNote.code, 2);
    assert.match(noNote.stderr, /required option '--note <text>' not specified/);
    const badSlug = await almanac(['guide', 'new', 'Bad Slug', '--root', root]);
    assert.equal(badSlug.code, 2);
    const both = await almanac(['guide', 'publish', 'meta', '--all', '--note', 'x', '--root', root]);
    assert.equal(both.code, 2);
    const missing = await almanac(['guide', 'versions', 'nope', '--root', root]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /content\/guides\/nope\/guide\.md: expected the guide's working copy/);
    const exists = await almanac(['guide', 'new', 'meta', '--root', root]);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /content\/guides\/meta\/guide\.md: expected no guide with this slug yet, found an existing guide/);
  });

  it('a hand edit of a frozen version fails the build, naming the file', async () => {
    const root = await tempSite({ sample: true });
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const file = 'content/guides/llama-4/versions/v1.md';
    const text = await read(root, file);
    await writeFile(path.join(root, file), text.replace('Scout for cheap', 'Scout for inexpensive'));
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^content\/guides\/llama-4\/versions\/v1\.md: expected the text frozen as v1 on 2026-04-20 .*found a hand edit since it was published$/m);
    // Publishing is refused too: the history must be repaired first.
    await appendFile(path.join(root, 'content/guides/llama-4/guide.md'), '\nMore.\n');
    assert.equal((await almanac(['guide', 'publish', 'llama-4', '--note', 'x', '--root', root])).code, 1);
  });

  it('a missing or unlisted version file and a broken manifest are reported', async () => {
    const root = await tempSite({ sample: true });
    await rm(path.join(root, 'content/guides/llama-4/versions/v2.md'));
    await writeFiles(root, {
      'content/guides/meta/versions/v7.md': 'stray',
      'content/guides/muse-spark/versions.json': '{"versions": [{"version": 2, "published": "2026-04-12T09:00:00Z", "note": "", "sha256": "x"}]}',
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/guides\/llama-4\/versions\/v2\.md: expected v2 as listed in content\/guides\/llama-4\/versions\.json, found no such file/);
    assert.match(run.stderr, /content\/guides\/meta\/versions\/v7\.md: expected a version listed in content\/guides\/meta\/versions\.json, found a file that was never published/);
    assert.match(run.stderr, /content\/guides\/muse-spark\/versions\.json: versions\[0\]\.sha256: expected a SHA-256 hex digest, found "x"/);
  });
});
