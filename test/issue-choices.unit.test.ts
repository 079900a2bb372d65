// Choices an issue makes when the editor says nothing: no story told twice, a guide once per issue with its update note as
// a sentence, and "also covered by" linking only to other outlets' own articles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'node-html-parser';
import { buildCatalog } from '../src/compose/catalog.ts';
import { composeIssue, noteSentence, type ComposedIssue } from '../src/compose/issue.ts';
import { loadSite } from '../src/content/load.ts';
import { prepareIssue } from '../src/issue/prepare.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteLedger } from '../src/store/ledger.ts';

const GUIDE = (title: string, extra = '') =>
  `---\ntitle: ${title}\nlevel: beginner\ntopics: [Meta]\ntldr: What ${title} is, in two sentences.\ntakeaways: [One thing]\n---\n\n## Section\n\nBody.${extra}\n`;

function news(name: string, f: { title: string; url: string; source: string; published: string; score?: number; body?: string }): [string, string] {
  return [
    `content/news/${name}.md`,
    `---\ntitle: ${JSON.stringify(f.title)}\nurl: ${JSON.stringify(f.url)}\nsource: ${f.source}\npublished: ${JSON.stringify(f.published)}\nscore: ${f.score ?? 5}\ntopics: [Meta]\n---\n${f.body ?? `Summary of ${f.title}.`}\n`,
  ];
}

async function siteWith(files: Record<string, string>): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }), ...files });
  return root;
}

async function prepared(root: string, edition: 'midweek' | 'sunday', date: string) {
  const site = await loadSite(root);
  return prepareIssue({ site, catalog: buildCatalog(site), templates: await TemplateSet.load(root, 'email'), edition, date, number: 1, now: Date.parse('2026-04-19T06:00:00Z') });
}

describe('a guide in an issue', () => {
  it('an updated guide featured in a Sunday issue is one block, "Updated · v2" with its note as a sentence', async () => {
    const root = await siteWith({
      'content/guides/meta/guide.md': GUIDE('Meta explained'),
      ...Object.fromEntries([news('a', { title: 'Meta news', url: 'https://news.example.com/a', source: 'Wire', published: '2026-04-16T08:00:00Z' })]),
    });
    assert.equal((await almanac(['guide', 'publish', 'meta', '--note', 'First edition', '--root', root, '--now', '2026-04-01T10:00:00Z'])).code, 0);
    await writeFiles(root, { 'content/guides/meta/guide.md': GUIDE('Meta explained', '\n\n## Chips\n\nMore.') });
    assert.equal((await almanac(['guide', 'publish', 'meta', '--note', 'adds a section on chips', '--root', root, '--now', '2026-04-17T10:00:00Z'])).code, 0);

    const { issue, email } = await prepared(root, 'sunday', '2026-04-19');
    assert.deepEqual(issue.guides.map((g) => [g.slug, g.label, g.note]), [['meta', 'Updated · v2', 'Adds a section on chips.']]);
    assert.deepEqual(issue.weekGuides, [], 'not listed a second time in the week round-up');
    const links = parse(email.html).querySelectorAll('a').filter((a) => a.getAttribute('href') === 'https://letters.example.org/guides/meta/');
    assert.equal(new Set(links.map((a) => a.textContent.trim())).size, 2, 'its title and its button, in one block');
    assert.equal(email.text.split('https://letters.example.org/guides/meta/').length - 1, 1, 'the text part names it once');
    assert.match(email.text, /Updated · v2: Meta explained\nAdds a section on chips\.\n/);
    // The label is shown as written, not set in capitals.
    const kicker = parse(email.html).querySelectorAll('.kicker strong').find((s) => s.textContent.includes('Updated'))!;
    assert.equal(kicker.textContent, 'Updated · v2');
    assert.doesNotMatch(kicker.getAttribute('style') ?? '', /uppercase/);
    assert.doesNotMatch(email.html, /Updated · v2 — /);
  });

  it('a note becomes one sentence', () => {
    assert.equal(noteSentence('  adds a section\n on chips '), 'Adds a section on chips.');
    assert.equal(noteSentence('Fixes the FAQ!'), 'Fixes the FAQ!');
    assert.equal(noteSentence('see “Chips.”'), 'See “Chips.”');
    assert.equal(noteSentence('   '), '');
  });
});

describe('also covered by', () => {
  it('links each other outlet to its own article; a same-URL variant names the outlet without a link', async () => {
    const root = await siteWith(Object.fromEntries([
      news('lead', { title: 'Meta ships Muse Spark model', url: 'https://ai.meta.com/blog/muse-spark/', source: 'Meta AI Blog', score: 9, published: '2026-04-13T08:00:00Z' }),
      news('utm', { title: 'Muse Spark is out', url: 'http://ai.meta.com/blog/muse-spark?utm_source=newsletter&utm_medium=email', source: 'Tracker Weekly', score: 5, published: '2026-04-13T09:00:00Z' }),
      news('batch', { title: 'Meta ships Muse Spark model to everyone', url: 'https://www.deeplearning.ai/the-batch/muse-spark/', source: 'The Batch', score: 7, published: '2026-04-14T08:00:00Z' }),
    ]));
    const site = await loadSite(root);
    const composed = composeIssue(site, buildCatalog(site), 'midweek', '2026-04-15');
    assert.ok(composed.ok);
    const top = (composed.issue as Omit<ComposedIssue, 'id'>).top;
    assert.deepEqual(top.also, [{ source: 'Tracker Weekly' }, { source: 'The Batch', url: 'https://www.deeplearning.ai/the-batch/muse-spark/' }]);

    const { email } = await prepared(root, 'midweek', '2026-04-15');
    const line = parse(email.html).querySelectorAll('p.meta').find((p) => p.textContent.startsWith('Also covered by'))!;
    assert.equal(line.textContent, 'Also covered by Tracker Weekly, The Batch');
    assert.deepEqual(line.querySelectorAll('a').map((a) => [a.textContent, a.getAttribute('href')]), [['The Batch', 'https://www.deeplearning.ai/the-batch/muse-spark/']]);
    assert.doesNotMatch(email.html, /utm_source/);
    assert.match(email.text, /^Also covered by Tracker Weekly$/m);
    assert.match(email.text, /^Also covered by The Batch: https:\/\/www\.deeplearning\.ai\/the-batch\/muse-spark\/$/m);
  });
});

describe('a story that went out', () => {
  const LAUNCH = { title: 'Meta ships Muse Spark model', url: 'https://ai.meta.com/blog/muse-spark/', source: 'Meta AI Blog', score: 9, published: '2026-04-17T08:00:00Z' };

  async function build(root: string, edition: 'midweek' | 'sunday', date: string, now: string): Promise<string[]> {
    const run = await almanac(['issue', 'build', edition, '--date', date, '--root', root, '--now', now]);
    assert.equal(run.code, 0, run.stderr);
    const issue = JSON.parse(await readFile(path.join(root, `.almanac/issues/${date}-${edition}/issue.json`), 'utf8')) as ComposedIssue;
    return [issue.top, ...issue.groups.flatMap((g) => g.stories)].map((st) => st.title);
  }

  it("is not in the next issue of another edition, unless its item was edited; an issue that never went out does not count", async () => {
    const root = await siteWith(Object.fromEntries([news('launch', LAUNCH)]));
    assert.deepEqual(await build(root, 'sunday', '2026-04-19', '2026-04-19T06:00:00Z'), [LAUNCH.title]);

    // Another outlet's copy of the same story, under the same URL with tracking parameters; a third
    // outlet's own write-up of it under nearly the same headline; and a new story.
    await writeFiles(root, Object.fromEntries([
      news('batch', { title: 'Meta ships Muse Spark model to developers', url: 'https://www.deeplearning.ai/the-batch/muse-spark/', source: 'The Batch', score: 6, published: '2026-04-20T10:00:00Z' }),
      news('copy', { title: 'Muse Spark arrives', url: 'https://ai.meta.com/blog/muse-spark?utm_source=feed', source: 'Tracker Weekly', score: 8, published: '2026-04-20T08:00:00Z' }),
      news('other', { title: 'Llama Guard 5 released', url: 'https://news.example.com/guard', source: 'Wire', score: 4, published: '2026-04-20T09:00:00Z' }),
    ]));
    assert.deepEqual(await build(root, 'midweek', '2026-04-22', '2026-04-22T06:00:00Z'), ['Muse Spark arrives', 'Meta ships Muse Spark model to developers', 'Llama Guard 5 released'], 'Sunday was built but never sent');

    // Sunday starts going out: a row in the send ledger.
    assert.equal((await almanac(['subscribers', 'add', 'reader@example.com', '--root', root])).code, 0);
    const db = openDatabase(databasePath(root, {}));
    try {
      assert.equal(new SqliteLedger(db).enqueue('2026-04-19-sunday', 'sunday', Date.parse('2026-04-19T08:00:00Z')), 1);
    } finally {
      db.close();
    }
    assert.deepEqual(await build(root, 'midweek', '2026-04-22', '2026-04-22T06:00:00Z'), ['Llama Guard 5 released']);

    // The sent item moved into the new window, unchanged: still a repeat.
    await writeFiles(root, Object.fromEntries([news('launch', { ...LAUNCH, published: '2026-04-20T07:00:00Z' })]));
    assert.deepEqual(await build(root, 'midweek', '2026-04-22', '2026-04-22T06:00:00Z'), ['Llama Guard 5 released']);

    // Re-wrapped, with trailing spaces: what a reader sees is the same, so it is still a repeat.
    await writeFiles(root, Object.fromEntries([news('launch', { ...LAUNCH, title: `  ${LAUNCH.title} `, published: '2026-04-20T07:00:00Z', body: `Summary of Meta ships   \nMuse Spark model.  \n` })]));
    assert.deepEqual(await build(root, 'midweek', '2026-04-22', '2026-04-22T06:00:00Z'), ['Llama Guard 5 released']);

    // Edited since it went out: a candidate again.
    await writeFiles(root, Object.fromEntries([news('launch', { ...LAUNCH, published: '2026-04-20T07:00:00Z', body: 'Now open to every developer, with pricing.' })]));
    assert.deepEqual(await build(root, 'midweek', '2026-04-22', '2026-04-22T06:00:00Z'), [LAUNCH.title, 'Llama Guard 5 released']);
  });

  it('an issue made only of stories that went out is not built, and says why', async () => {
    const root = await siteWith(Object.fromEntries([news('launch', LAUNCH)]));
    await build(root, 'sunday', '2026-04-19', '2026-04-19T06:00:00Z');
    assert.equal((await almanac(['subscribers', 'add', 'reader@example.com', '--root', root])).code, 0);
    const db = openDatabase(databasePath(root, {}));
    try {
      new SqliteLedger(db).enqueue('2026-04-19-sunday', 'sunday', Date.parse('2026-04-19T08:00:00Z'));
    } finally {
      db.close();
    }
    await writeFiles(root, Object.fromEntries([news('copy', { ...LAUNCH, source: 'Tracker Weekly', url: `${LAUNCH.url}?utm_medium=email`, published: '2026-04-20T08:00:00Z' })]));
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-22', '--root', root, '--now', '2026-04-22T06:00:00Z']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /only 1 story already sent in an earlier issue and not edited since/);
  });
});
