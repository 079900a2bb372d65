// Dates in an email are days in the site's time zone: an age ("3d ago") would be wrong by the time the
// email is read, and would differ with the moment the issue happened to be built.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { shortDay } from '../src/words/dates.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

describe('the short day an email dates a story with', () => {
  it('is the day in the named zone, around midnight', () => {
    const late = Date.parse('2026-11-24T23:30:00Z');
    assert.equal(shortDay(late, 'UTC'), 'Tue 24 Nov');
    assert.equal(shortDay(late, 'Europe/Berlin'), 'Wed 25 Nov', 'already the next day at 00:30 CET');
    assert.equal(shortDay(Date.parse('2026-11-25T04:59:00Z'), 'America/New_York'), 'Tue 24 Nov', '23:59 EST');
    assert.equal(shortDay(Date.parse('2026-11-25T05:00:00Z'), 'America/New_York'), 'Wed 25 Nov', 'midnight EST');
    assert.equal(shortDay(Date.parse('2026-11-25T10:30:00Z'), 'Pacific/Kiritimati'), 'Thu 26 Nov', 'UTC+14');
  });
});

describe('dates in an issue', () => {
  // Published 22:30 UTC on Monday 13 April: already Tuesday in Berlin.
  const files = {
    'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', timezone: 'Europe/Berlin' }),
    'content/news/a.md': '---\ntitle: A story from late at night\nurl: https://news.example.com/a\nsource: Wire\npublished: 2026-04-13T22:30:00Z\nscore: 7\n---\nA summary.\n',
    'content/news/b.md': '---\ntitle: A story from the morning\nurl: https://news.example.com/b\nsource: Wire\npublished: 2026-04-12T08:00:00Z\nscore: 5\n---\nA summary.\n',
  };

  async function build(now: string): Promise<{ text: string; html: string }> {
    const root = await tempSite();
    await writeFiles(root, files);
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', now]);
    assert.equal(run.code, 0, run.stderr);
    const dir = path.join(root, '.almanac/issues/2026-04-15-midweek');
    return { text: await readFile(path.join(dir, 'email.txt'), 'utf8'), html: await readFile(path.join(dir, 'email.html'), 'utf8') };
  }

  it('are absolute days in the site\'s zone, the same whenever the issue is built', async () => {
    const early = await build('2026-04-13T23:00:00Z');
    const late = await build('2026-04-15T05:00:00Z');
    for (const part of [early.text, early.html]) {
      assert.match(part, /Wire · (<span[^>]*>)?Tue 14 Apr/, 'the late story is dated by the day in Berlin');
      assert.match(part, /Wire · (<span[^>]*>)?Sun 12 Apr/);
      assert.doesNotMatch(part, /\b\d+(m|h|d|mo|y) ago\b|just now/, 'no relative age');
    }
    const dates = (s: string) => s.match(/\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w* \d{1,2} [A-Z][a-z]+\b/g);
    assert.deepEqual(dates(late.text), dates(early.text));
    assert.deepEqual(dates(late.html), dates(early.html));
  });

  it("reach a site's own template that still reads {{ago}}: it gets the day, not an age", async () => {
    const root = await tempSite();
    await writeFiles(root, { ...files, 'templates/email/partials/story-text.txt.hbs': '{{titleText}} ({{sourceText}}, {{ago}})\n{{url}}\n' });
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T05:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    const text = await readFile(path.join(root, '.almanac/issues/2026-04-15-midweek/email.txt'), 'utf8');
    assert.match(text, /A story from late at night \(Wire, Tue 14 Apr\)/);
  });
});
