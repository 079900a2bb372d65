// An issue too large for the inbox: the build leaves out the lowest-ranked stories, names them in a
// warning, and goes out (a scheduled edition is not lost to a busy week).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const LONG = 'Ünïcödé ' + 'Ωλç '.repeat(95);

/** Words no other title has, so no two stories are taken for one told twice. */
const words = (i: number) => ['alpha', 'bravo', 'delta'].map((w) => `${w}${'xyzq'[i % 4]}${String.fromCharCode(97 + Math.floor(i / 4))}`).join(' ');

async function busyWeek(count: number): Promise<string> {
  const root = await tempSite();
  const files: Record<string, string> = { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', editions: { midweek: { label: 'Midweek', cron: '0 7 * * 3', maxItems: 40 } } }) };
  for (let i = 0; i < count; i++) {
    // Scores fall with i, so story 0 ranks first and story count-1 last.
    const score = 10 - Math.floor((i * 10) / count);
    const minute = String(59 - (i % 60)).padStart(2, '0');
    files[`content/news/n${String(i).padStart(2, '0')}.md`] =
      `---\ntitle: "Story ${String(i).padStart(2, '0')} ${words(i)} ${LONG.slice(0, 360)}"\nurl: https://news.example.com/${i}\nsource: "Source ${i} ${'Ж'.repeat(40)}"\npublished: 2026-04-13T08:${minute}:00Z\nscore: ${score}\ntopics: [Topic ${i % 7}]\n---\n${LONG}\n`;
  }
  await writeFiles(root, files);
  return root;
}

describe('an issue over the clipping size', () => {
  it('leaves out the lowest-ranked stories with a warning naming them, and builds', async () => {
    const root = await busyWeek(40);
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    const warning = /^warning: issue 2026-04-15-midweek: html-size: expected all 40 stories within 102,000 bytes of HTML \(Gmail clips beyond\), found (\d+) lowest-ranked stories left out to fit: “Story (\d\d) [^\n]*$/m.exec(run.stderr);
    assert.ok(warning, run.stderr);
    const cut = Number(warning[1]);
    assert.ok(cut > 0 && cut < 40);
    assert.equal(Number(warning[2]), 40 - cut, 'the first story named is the best ranked of those left out');

    const html = await readFile(path.join(root, '.almanac/issues/2026-04-15-midweek/email.html'), 'utf8');
    const text = await readFile(path.join(root, '.almanac/issues/2026-04-15-midweek/email.txt'), 'utf8');
    assert.ok(Buffer.byteLength(html) < 102_000, `${Buffer.byteLength(html)} bytes`);
    for (let i = 0; i < 40; i++) {
      const name = `Story ${String(i).padStart(2, '0')} `;
      const want = i < 40 - cut ? 1 : 0;
      assert.equal(text.split(name).length - 1, want, `${name} in the text part`);
    }
    const issue = JSON.parse(await readFile(path.join(root, '.almanac/issues/2026-04-15-midweek/issue.json'), 'utf8'));
    assert.equal(issue.available, 40, 'the window had 40 stories');
  });
});
