// Bad input: every kind is reported with file, field, expected and found; exit 1; no stack trace;
// and the previous dist/ stays exactly as it was.
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, before } from 'node:test';
import { GOOD_GUIDE, GOOD_NEWS, NOW, snapshot, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const guide = (front: string, body = '\n## Section\n\nText.\n') => `---\n${front}\n---\n${body}`;
const validGuideFront = 'title: T\nlevel: beginner\ntopics: [A]\ntldr: Sum.\ntakeaways: [One]';
const news = (front: string, body = 'Summary.\n') => `---\n${front}\n---\n${body}`;
const validNewsFront = 'title: T\nurl: https://example.com/a\nsource: S\npublished: 2026-06-01\nscore: 5';

/** Each case: files to add to a valid site, and lines the error output must contain. */
const CASES: { name: string; files: Record<string, string>; expect: string[] }[] = [
  {
    name: 'unknown guide field (a typo)',
    files: { 'content/guides/bad/guide.md': guide(`${validGuideFront}\ntakeaway: [typo]`) },
    expect: ['content/guides/bad/guide.md: takeaway: expected one of the known fields (title, level, topics, tldr, takeaways, status, timeline, related, faq), found an unknown field "takeaway"'],
  },
  {
    name: 'missing required guide field',
    files: { 'content/guides/bad/guide.md': guide('title: T\nlevel: beginner\ntopics: [A]\ntakeaways: [One]') },
    expect: ['content/guides/bad/guide.md: tldr: expected a TL;DR (text), found nothing'],
  },
  {
    name: 'guide level outside the list',
    files: { 'content/guides/bad/guide.md': guide(validGuideFront.replace('beginner', 'expert')) },
    expect: ['content/guides/bad/guide.md: level: expected one of beginner, intermediate, advanced, found "expert"'],
  },
  {
    name: 'empty topics',
    files: { 'content/guides/bad/guide.md': guide(validGuideFront.replace('topics: [A]', 'topics: []')) },
    expect: ['content/guides/bad/guide.md: topics: expected a list of at least one topic, found an empty list'],
  },
  {
    name: 'topics given as text instead of a list',
    files: { 'content/guides/bad/guide.md': guide(validGuideFront.replace('topics: [A]', 'topics: Meta')) },
    expect: ['content/guides/bad/guide.md: topics: expected a list of at least one topic, found "Meta"'],
  },
  {
    name: 'bad timeline date and FAQ entry',
    files: {
      'content/guides/bad/guide.md': guide(`${validGuideFront}\ntimeline:\n  - { date: April 2023, event: X }\nfaq:\n  - { q: Why? }`),
    },
    expect: [
      'content/guides/bad/guide.md: timeline[0].date: expected a date as YYYY, YYYY-MM or YYYY-MM-DD, found "April 2023"',
      'content/guides/bad/guide.md: faq[0].a: expected an answer (text), found nothing',
    ],
  },
  {
    name: 'status outside the list',
    files: { 'content/guides/bad/guide.md': guide(`${validGuideFront}\nstatus: draft`) },
    expect: ['content/guides/bad/guide.md: status: expected active or archived, found "draft"'],
  },
  {
    name: 'YAML syntax error, with its line',
    files: { 'content/guides/bad/guide.md': guide('title: T\nlevel: [beginner\ntopics: [A]') },
    expect: ['content/guides/bad/guide.md:4: expected valid YAML front matter, found missed comma'],
  },
  {
    name: 'no front matter at all',
    files: { 'content/news/w1/plain.md': 'Just text, no front matter.\n' },
    expect: ['content/news/w1/plain.md: expected front matter between two "---" lines at the top of the file, found none'],
  },
  {
    name: 'front matter in another language than YAML, which gray-matter would evaluate',
    files: { 'content/news/w1/js.md': '---js\n{ title: globalThis.almanacRan = "yes" }\n---\nBody.\n' },
    expect: ['content/news/w1/js.md: expected YAML front matter opened by a line of only "---", found "---js"'],
  },
  {
    name: 'front matter that is never closed',
    files: { 'content/news/w1/open.md': '---\ntitle: An open block\nscore: 5\n\nThe summary.\n' },
    expect: ['content/news/w1/open.md: expected a closing "---" line after the front matter, found none'],
  },
  {
    name: 'front matter closed by a line that only starts with "---", a "---" rule further down',
    files: { 'content/news/w1/dashes.md': `---\n${validNewsFront}\n----\nThe summary.\n\n---\n\nMore.\n` },
    expect: ['content/news/w1/dashes.md: expected a closing line of only "---" after the front matter, found "----"'],
  },
  {
    name: 'guide folder with no guide.md',
    files: { 'content/guides/empty/notes.txt': 'x' },
    expect: ['content/guides/empty/guide.md: expected the guide\'s working copy'],
  },
  {
    name: 'guide folder name that is not a slug',
    files: { 'content/guides/My Guide/guide.md': guide(validGuideFront) },
    expect: ['content/guides/My Guide: expected a folder name of lowercase letters, digits and hyphens'],
  },
  {
    name: 'news score out of range and not a number',
    files: {
      'content/news/a.md': news(validNewsFront.replace('score: 5', 'score: 11')),
      'content/news/b.md': news(validNewsFront.replace('score: 5', 'score: high').replace('/a', '/b')),
      'content/news/c.md': news(validNewsFront.replace('score: 5', 'score: 7.5').replace('/a', '/c')),
    },
    expect: [
      'content/news/a.md: score: expected a whole number from 1 to 10, found number 11',
      'content/news/b.md: score: expected a whole number from 1 to 10, found "high"',
      'content/news/c.md: score: expected a whole number from 1 to 10, found number 7.5',
    ],
  },
  {
    name: 'news URL not absolute http(s)',
    files: {
      'content/news/a.md': news(validNewsFront.replace('https://example.com/a', 'example.com/a')),
      'content/news/b.md': news(validNewsFront.replace('https://example.com/a', 'javascript:alert(1)')),
    },
    expect: [
      'content/news/a.md: url: expected an absolute http(s) URL, found "example.com/a"',
      'content/news/b.md: url: expected an absolute http(s) URL, found "javascript:alert(1)"',
    ],
  },
  {
    name: 'news published not ISO 8601, and an impossible date',
    files: {
      'content/news/a.md': news(validNewsFront.replace('2026-06-01', 'June 1, 2026')),
      'content/news/b.md': news(validNewsFront.replace('2026-06-01', '2026-02-30').replace('/a', '/b')),
    },
    expect: [
      'content/news/a.md: published: expected an ISO 8601 date or date-time, e.g. 2026-04-08 or 2026-04-08T09:30:00Z, found "June 1, 2026"',
      'content/news/b.md: published: expected a real calendar date or date-time, found "2026-02-30"',
    ],
  },
  {
    name: 'news item with no summary',
    files: { 'content/news/a.md': news(validNewsFront, '\n') },
    expect: ['content/news/a.md: (body): expected a summary of a few sentences below the front matter, found an empty body'],
  },
  {
    name: 'unknown news field',
    files: { 'content/news/a.md': news(`${validNewsFront}\nimportance: 3`) },
    expect: ['content/news/a.md: importance: expected one of the known fields (title, url, source, published, score, topics), found an unknown field "importance"'],
  },
  {
    name: 'configuration: invalid JSON',
    files: { 'almanac.config.json': '{ "title": "x", }' },
    expect: ['almanac.config.json: expected valid JSON, found'],
  },
  {
    name: 'configuration: unknown key, bad time zone, bad URL',
    files: { 'almanac.config.json': JSON.stringify({ titel: 'x', timezone: 'Mars/Olympus', baseUrl: 'localhost:4000' }) },
    expect: [
      'almanac.config.json: titel: expected one of the known fields',
      'almanac.config.json: timezone: expected an IANA time zone, e.g. "Europe/Berlin", found "Mars/Olympus"',
      'almanac.config.json: baseUrl: expected an absolute http(s) URL, found "localhost:4000"',
    ],
  },
  {
    name: 'configuration: edition maxItems not a whole number',
    files: { 'almanac.config.json': JSON.stringify({ editions: { midweek: { label: 'Midweek', cron: '0 7 * * 3', maxItems: 0 } } }) },
    expect: ['almanac.config.json: editions.midweek.maxItems: expected a whole number of at least 1, found number 0'],
  },
  {
    name: 'configuration: an edition of a new name without a cron, and a name that is not a slug',
    files: { 'almanac.config.json': JSON.stringify({ editions: { monthly: { label: 'Monthly' }, 'Big News': { cron: '0 9 1 * *' } } }) },
    expect: [
      'almanac.config.json: editions.Big News: expected an edition name of lower-case letters, digits and hyphens, starting with a letter, at most 15 characters, e.g. "monthly", found the name "Big News"',
      'almanac.config.json: editions.monthly.cron: expected a cron expression for when monthly goes out, e.g. "0 9 1 * *" (only midweek and sunday have a default), found nothing',
    ],
  },
  {
    name: 'template syntax error, with its line',
    files: { 'templates/site/partials/news-card.hbs': '<article>\n{{#if title}}\n<h3>{{title}}</h3>\n' },
    expect: ['templates/site/partials/news-card.hbs', 'expected a valid Handlebars template'],
  },
  {
    name: 'template calling a helper that does not exist, with its line',
    files: { 'templates/site/partials/news-card.hbs': '<article>\n<h3>{{shout title}}</h3>\n</article>\n' },
    expect: ['templates/site/partials/news-card.hbs:2: expected one of the helpers href, json, eq, concat, plural, upper, wrap, if, unless, each, with, lookup, log, found an unknown helper "shout"'],
  },
];

describe('bad input', () => {
  let base: string;
  let built: Map<string, Buffer>;
  before(async () => {
    base = await tempSite();
    await writeFiles(base, { 'content/guides/good/guide.md': GOOD_GUIDE, 'content/news/good.md': GOOD_NEWS });
    const first = await almanac(['build', '--root', base, '--now', NOW]);
    assert.equal(first.code, 0, first.stderr);
    built = await snapshot(path.join(base, 'dist'));
  });

  for (const c of CASES) {
    it(`reports ${c.name}, exits 1 and keeps the previous dist/`, async () => {
      // A copy of the site built once: its dist/ is the output a failed build must leave alone.
      const root = await tempSite();
      await cp(base, root, { recursive: true });
      const before = await snapshot(path.join(root, 'dist'));
      assert.deepEqual(before, built);

      await writeFiles(root, c.files);
      const run = await almanac(['build', '--root', root, '--now', NOW]);
      assert.equal(run.code, 1, `expected exit 1\n${run.stdout}\n${run.stderr}`);
      for (const line of c.expect) assert.ok(run.stderr.includes(line), `missing:\n  ${line}\nin:\n${run.stderr}`);
      assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
      assert.match(run.stderr, /nothing was written\.$/m);
      assert.equal((globalThis as { almanacRan?: string }).almanacRan, undefined, 'no front matter was run as code');
      assert.deepEqual(await snapshot(path.join(root, 'dist')), before, 'dist/ unchanged');
      await rm(root, { recursive: true, force: true });
    });
  }

  it('reports every problem in every file at once', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/guides/one/guide.md': guide('title: T\nlevel: expert\ntopics: [A]\ntldr: S\ntakeaways: [x]\nextra: 1'),
      'content/guides/two/guide.md': guide('level: beginner\ntopics: []\ntldr: S\ntakeaways: [x]'),
      'content/news/x.md': news('title: T\nurl: nope\nsource: S\npublished: yesterday\nscore: 0'),
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('content/'));
    assert.deepEqual(
      lines.map((l) => l.split(': expected')[0]),
      [
        'content/guides/one/guide.md: level',
        'content/guides/one/guide.md: extra',
        'content/guides/two/guide.md: title',
        'content/guides/two/guide.md: topics',
        'content/news/x.md: url',
        'content/news/x.md: published',
        'content/news/x.md: score',
      ],
    );
    assert.match(run.stderr, /7 problems in 3 files; nothing was written\./);
  });

  it('keeps a bad --now and unknown commands as usage errors (exit 2)', async () => {
    const badNow = await almanac(['build', '--root', base, '--now', 'yesterday']);
    assert.equal(badNow.code, 2);
    assert.match(badNow.stderr, /--now expects an ISO 8601 date-time/);
    const unknown = await almanac(['bulid']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'bulid'/);
  });

  it('accepts a bare year in a timeline and a date-time with offset in news', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'content/guides/g/guide.md': guide(`${validGuideFront}\ntimeline:\n  - { date: 2023, event: Founded }\n  - { date: 2024-07, event: Grew }`),
      'content/news/a.md': news(validNewsFront.replace('2026-06-01', '2026-06-01T09:30:00+02:00')),
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    await readFile(path.join(root, 'dist/index.html'), 'utf8');
    await writeFile(path.join(root, 'content/news/a.md'), news(validNewsFront.replace('2026-06-01', '2026-06-01 09:30')));
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
  });
});
