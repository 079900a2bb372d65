// Figures as content: each image reference is checked where the guide is read, and every mistake is a
// problem naming the file and line, what was expected and what was found.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadGuide } from '../src/content/guide-files.ts';
import { imageFormat, insidePath } from '../src/content/figures.ts';
import { formatProblem } from '../src/content/problems.ts';
import { FIGURE_MARK, renderGuideBody } from '../src/render/markdown.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { png } from './helpers/images.ts';

const FRONT = `---
title: A Guide With Figures
level: beginner
topics: [Testing]
tldr: A short summary.
takeaways: [One thing.]
---
`;

async function siteWith(body: string, files: Record<string, Buffer> = {}): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, { 'content/guides/figs/guide.md': `${FRONT}\n${body}` });
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), bytes);
  }
  return root;
}

const problemsOf = (root: string) => loadGuide(root, 'figs').problems.map(formatProblem);

describe('figures in a guide', () => {
  it('reads a figure with its alt text, caption and hash', async () => {
    const root = await siteWith('## Intro\n\n![A blue box](box.png "The box, drawn")\n', { 'content/guides/figs/box.png': await png(40, 20) });
    const { guide, problems } = loadGuide(root, 'figs');
    assert.deepEqual(problems, []);
    const [figure] = guide!.working.figures!;
    assert.equal(figure!.alt, 'A blue box');
    assert.equal(figure!.caption, 'The box, drawn');
    assert.equal(figure!.file, 'content/guides/figs/box.png');
    assert.equal(figure!.format, 'png');
    assert.match(figure!.sha256, /^[0-9a-f]{64}$/);
  });

  it('a blank title is no caption', async () => {
    const root = await siteWith('## Intro\n\n![A blue box](box.png "   ")\n', { 'content/guides/figs/box.png': await png(40, 20) });
    assert.equal(loadGuide(root, 'figs').guide!.working.figures![0]!.caption, undefined);
  });

  it('alt text written over two lines keeps a space between its words', async () => {
    const root = await siteWith('## Intro\n\n![A blue\nbox beside  \na red one](box.png)\n', { 'content/guides/figs/box.png': await png(40, 20) });
    const { guide, problems } = loadGuide(root, 'figs');
    assert.deepEqual(problems, []);
    assert.equal(guide!.working.figures![0]!.alt, 'A blue box beside a red one');
  });

  it('the mark of a figure\'s place, written in the guide\'s own HTML, places no figure', async () => {
    const root = await siteWith(`## Intro\n\n${FIGURE_MARK}\n\nText <span>${FIGURE_MARK}</span>\nmore.\n\n![A blue box](box.png)\n`, { 'content/guides/figs/box.png': await png(40, 20) });
    const { guide } = loadGuide(root, 'figs');
    const html = renderGuideBody(guide!.working).html;
    assert.equal(html.split(FIGURE_MARK).length - 1, 1);
    assert.ok(html.indexOf(FIGURE_MARK) > html.indexOf('more.'), 'the mark is where the image was written');
  });

  it('an image without alt text is an error naming the file and line', async () => {
    // Front matter is 7 lines and a blank line; "## Intro" is line 9, the image line 11.
    const root = await siteWith('## Intro\n\n![](box.png)\n', { 'content/guides/figs/box.png': await png(40, 20) });
    assert.deepEqual(problemsOf(root), [
      'content/guides/figs/guide.md:11: image "box.png": expected alt text saying what the image shows, as in ![A diagram of …](file.png), found no alt text',
    ]);
    const blank = await siteWith('## Intro\n\nText.\n\n![   ](box.png)\n', { 'content/guides/figs/box.png': await png(40, 20) });
    assert.match(problemsOf(blank)[0]!, /^content\/guides\/figs\/guide\.md:13: .*found no alt text$/);
  });

  it('paths that leave the guide folder, absolute paths and links are errors', async () => {
    const outside = await png(10, 10);
    const root = await siteWith(
      ['![Secret](../../secret.png)', '![Abs](/etc/passwd)', '![Far](https://example.com/x.png)', '![Nested](a/../../b.png)'].join('\n\n'),
      { 'content/secret.png': outside },
    );
    const found = problemsOf(root);
    assert.equal(found.length, 4, found.join('\n'));
    assert.match(found[0]!, /guide\.md:9: image "\.\.\/\.\.\/secret\.png": expected the name of an image file in the guide's folder.*found a path that leaves the guide's folder/);
    assert.match(found[1]!, /guide\.md:11: .*found an absolute path/);
    assert.match(found[2]!, /guide\.md:13: .*found a link/);
    assert.match(found[3]!, /guide\.md:15: .*found a path that leaves/);
  });

  it('an image of a javascript:, file: or data: address is an error, not text left on the page', async () => {
    const root = await siteWith(['![Run](javascript:alert(1))', '![File](file:///etc/passwd)', '![Page](data:text/html,<b>x</b>)'].join('\n\n'));
    const found = problemsOf(root);
    assert.equal(found.length, 3, found.join('\n'));
    assert.match(found[0]!, /guide\.md:9: image "javascript:alert\(1\)": .*found a link/);
    assert.match(found[1]!, /guide\.md:11: image "file:\/\/\/etc\/passwd": .*found a link/);
    assert.match(found[2]!, /guide\.md:13: .*found a link/);
  });

  it('a version frozen with such an image as text is no error of its own: only the working copy, which an editor can fix, is reported', async () => {
    const text = `${FRONT}\n![Run](javascript:alert(1))\n`;
    const root = await siteWith('');
    await writeFiles(root, {
      'content/guides/figs/guide.md': text,
      'content/guides/figs/versions/v1.md': text,
      'content/guides/figs/versions.json': JSON.stringify({ versions: [{ version: 1, published: '2026-01-01T00:00:00.000Z', note: 'First', sha256: createHash('sha256').update(text).digest('hex') }] }),
    });
    const { guide, problems } = loadGuide(root, 'figs');
    assert.equal(problems.length, 1, problems.map(formatProblem).join('\n'));
    assert.match(formatProblem(problems[0]!), /^content\/guides\/figs\/guide\.md:9: .*found a link/);
    assert.equal(guide, undefined);
  });

  it('an image in a takeaway, a timeline event or an FAQ answer is an error: figures go in the body', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/guides/figs/guide.md': [
        '---',
        'title: A Guide With Figures',
        'level: beginner',
        'topics: [Testing]',
        'tldr: A short summary.',
        'takeaways: ["One thing.", "![A logo](logo.png) Another."]',
        'timeline: [{ date: 2026-01, event: "![Launch](https://example.com/p.png)" }]',
        'faq: [{ q: Why?, a: "Because ![x](x.png)." }]',
        '---',
        '',
        'Body.',
        '',
      ].join('\n'),
    });
    assert.deepEqual(problemsOf(root), [
      "content/guides/figs/guide.md: takeaways[1]: expected text without images (a figure goes in the guide's body, alone in its paragraph), found an image",
      "content/guides/figs/guide.md: timeline[0].event: expected text without images (a figure goes in the guide's body, alone in its paragraph), found an image",
      "content/guides/figs/guide.md: faq[0].a: expected text without images (a figure goes in the guide's body, alone in its paragraph), found an image",
    ]);
  });

  it('a symbolic link out of the guide folder, a missing file and a non-image are errors', async () => {
    const root = await siteWith('![Linked](linked.png)\n\n![Missing](gone.png)\n\n![Text](notes.png)\n', {
      'content/other.png': await png(10, 10),
      'content/guides/figs/notes.png': Buffer.from('not an image at all'),
    });
    await symlink(path.join(root, 'content/other.png'), path.join(root, 'content/guides/figs/linked.png'));
    const found = problemsOf(root);
    assert.equal(found.length, 3, found.join('\n'));
    assert.match(found[0]!, /guide\.md:9: image "linked\.png": .*found content\/guides\/figs\/linked\.png, a link to a file outside the guide's folder/);
    assert.match(found[1]!, /guide\.md:11: .*found no such file content\/guides\/figs\/gone\.png/);
    assert.match(found[2]!, /guide\.md:13: .*found content\/guides\/figs\/notes\.png, which is not a PNG, JPEG, WebP, GIF or AVIF image/);
  });

  it('an image inside a sentence is not a figure', async () => {
    const root = await siteWith('Look at ![A box](box.png) here.\n', { 'content/guides/figs/box.png': await png(10, 10) });
    assert.match(problemsOf(root)[0]!, /guide\.md:9: .*expected an image alone in its own paragraph/);
  });

  it('images in code are text, not figures', async () => {
    const root = await siteWith('```md\n![](nothing.png)\n```\n\n    ![](indented.png)\n');
    const { guide, problems } = loadGuide(root, 'figs');
    assert.deepEqual(problems, []);
    assert.equal(guide!.working.figures, undefined);
  });

  it('tells image formats by their first bytes, and refuses SVG', async () => {
    assert.equal(imageFormat(await png(2, 2)), 'png');
    assert.equal(imageFormat(await sharp(await png(2, 2)).jpeg().toBuffer()), 'jpeg');
    assert.equal(imageFormat(await sharp(await png(2, 2)).webp().toBuffer()), 'webp');
    assert.equal(imageFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')), undefined);
  });

  it('keeps paths below the guide folder', () => {
    assert.equal(insidePath('./img/a.png'), 'img/a.png');
    assert.equal(insidePath('a.png'), 'a.png');
    for (const bad of ['..', '../a.png', 'img/../../a.png', '/a.png', 'C:/a.png', 'a\\b.png', 'file:///a.png', '//host/a.png', 'a.png?x=1', '.', 'img/']) {
      assert.equal(typeof insidePath(bad), 'object', bad);
    }
  });
});
