// The preview shows an issue's notes live: a saved intro reaches the viewer, and it lists what was
// pinned and dropped.
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { startPreview, type RunningPreview } from './helpers/preview.ts';

const news = (n: number, title: string, score: number) => [
  `content/news/n${n}.md`,
  `---\ntitle: ${JSON.stringify(title)}\nurl: "https://news.example.com/story-${n}"\nsource: Example Wire\npublished: "2026-04-13T0${n}:00:00Z"\nscore: ${score}\ntopics: [Meta]\n---\nSummary of ${title}.\n`,
];

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the preview and issue notes', () => {
  let preview: RunningPreview | undefined;
  after(() => preview?.stop());

  it('updates the viewer when the notes change, and lists pinned and dropped stories', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
      ...Object.fromEntries([news(1, 'Alpha leads', 9), news(2, 'Bravo second', 7), news(3, 'Charlie third', 5)]),
    });
    preview = await startPreview(['--root', root, '--now', '2026-04-14T12:00:00Z']);
    const page = async (p: string) => (await fetch(`${preview!.base}${p}`)).text();
    assert.doesNotMatch(await page('/issues/midweek/'), /id="pinned"/);

    await mkdir(path.join(root, 'content/issues'), { recursive: true });
    const notes = path.join(root, 'content/issues/2026-04-15-midweek.md');
    await writeFile(notes, `---\npin: [https://news.example.com/story-3]\ndrop: [https://news.example.com/story-2]\n---\nFirst draft of the intro.\n`);
    const viewer = await until('the notes in the viewer', async () => {
      const html = await page('/issues/midweek/');
      return html.includes('id="pinned"') ? html : undefined;
    });
    assert.match(viewer, /<dd id="pinned">Charlie third<\/dd>/);
    assert.match(viewer, /<dd id="dropped">Bravo second<\/dd>/);
    assert.match(await page('/issues/midweek/email.html'), /First draft of the intro\./);

    await writeFile(notes, `---\npin: [https://news.example.com/story-3]\n---\nSecond draft of the intro.\n`);
    const email = await until('the edited intro', async () => {
      const html = await page('/issues/midweek/email.html');
      return html.includes('Second draft') ? html : undefined;
    });
    assert.doesNotMatch(email, /First draft/);
    assert.match(await page('/issues/midweek/'), /<dd id="dropped">none<\/dd>/);
  });
});
