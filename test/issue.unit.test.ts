// Email issues: the window rule in real time zones, ranking, dedupe, caps, numbering, hostile text,
// and `almanac issue build` end to end.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { parse } from 'node-html-parser';
import { buildCatalog } from '../src/compose/catalog.ts';
import { mergeNearDuplicates } from '../src/compose/duplicates.ts';
import { composeIssue, type ComposedIssue } from '../src/compose/issue.ts';
import { subjectLine } from '../src/compose/subject.ts';
import { issueWindow, slotOn } from '../src/compose/slots.ts';
import { loadSite } from '../src/content/load.ts';
import { checkIssueEmail } from '../src/issue/prepare.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { IssueStore } from '../src/store/issues.ts';

const GUIDE = (title: string, topics: string) =>
  `---\ntitle: ${title}\nlevel: beginner\ntopics: [${topics}]\ntldr: What ${title} is, in two sentences.\ntakeaways: [One thing]\n---\n\n## Section\n\nBody.\n`;

interface Item {
  title: string;
  url?: string;
  source?: string;
  published: string;
  score?: number;
  topics?: string;
  body?: string;
}

let counter = 0;
function newsFile(i: Item): [string, string] {
  counter++;
  const url = i.url ?? `https://news.example.com/story-${counter}`;
  return [
    `content/news/n${String(counter).padStart(3, '0')}.md`,
    `---\ntitle: ${JSON.stringify(i.title)}\nurl: ${JSON.stringify(url)}\nsource: ${i.source ?? 'Example Wire'}\npublished: ${JSON.stringify(i.published)}\nscore: ${i.score ?? 5}\ntopics: [${i.topics ?? 'Meta'}]\n---\n${i.body ?? `Summary of ${i.title}.`}\n`,
  ];
}

async function siteWith(config: object, items: Item[], extra: Record<string, string> = {}): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', ...config }),
    ...Object.fromEntries(items.map(newsFile)),
    ...extra,
  });
  return root;
}

async function compose(root: string, edition: 'midweek' | 'sunday', date: string): Promise<ComposedIssue> {
  const site = await loadSite(root);
  const result = composeIssue(site, buildCatalog(site), edition, date);
  assert.ok(result.ok, `expected an issue, got ${JSON.stringify(result)}`);
  return { ...result.issue, id: `${date}-${edition}` };
}

const titles = (issue: ComposedIssue) => [issue.top, ...issue.groups.flatMap((g) => g.stories)].map((s) => s.title);

describe('the issue window', () => {
  it('east of UTC: Midweek covers after Sunday 08:00 up to Wednesday 07:00, local time', async () => {
    const root = await siteWith({ timezone: 'Asia/Tokyo' }, [
      { title: 'Just before the window', published: '2026-04-11T22:59:00Z' },
      { title: 'At the previous slot, so not after it', published: '2026-04-11T23:00:00Z' },
      { title: 'Just after Sunday 08:00 JST', published: '2026-04-11T23:01:00Z' },
      { title: 'A bare date: midnight in Tokyo, before Sunday 08:00', published: '2026-04-12' },
      { title: 'A bare date inside the window', published: '2026-04-13' },
      { title: 'Exactly at Wednesday 07:00 JST', published: '2026-04-15T07:00:00+09:00' },
      { title: 'One minute too late', published: '2026-04-14T22:01:00Z' },
    ]);
    const issue = await compose(root, 'midweek', '2026-04-15');
    assert.equal(new Date(issue.window.from).toISOString(), '2026-04-11T23:00:00.000Z');
    assert.equal(new Date(issue.window.to).toISOString(), '2026-04-14T22:00:00.000Z');
    assert.deepEqual(titles(issue).sort(), ['A bare date inside the window', 'Exactly at Wednesday 07:00 JST', 'Just after Sunday 08:00 JST']);
  });

  it('across the spring DST change in Europe/Berlin, slots stay at local 07:00 and 08:00', async () => {
    const site = await loadSite(await siteWith({ timezone: 'Europe/Berlin' }, []));
    const sunday = slotOn(site.config, 'sunday', '2026-03-29')!; // clocks go forward at 02:00 that night
    assert.equal(new Date(sunday).toISOString(), '2026-03-29T06:00:00.000Z');
    assert.equal(new Date(issueWindow(site.config, sunday).from).toISOString(), '2026-03-25T06:00:00.000Z', 'Wed 07:00 CET');
    const midweek = slotOn(site.config, 'midweek', '2026-04-01')!;
    assert.equal(new Date(midweek).toISOString(), '2026-04-01T05:00:00.000Z', 'Wed 07:00 CEST');
    assert.equal(new Date(issueWindow(site.config, midweek).from).toISOString(), '2026-03-29T06:00:00.000Z');
  });

  it('across the autumn DST change in America/New_York', async () => {
    const site = await loadSite(await siteWith({ timezone: 'America/New_York' }, []));
    const sunday = slotOn(site.config, 'sunday', '2026-11-01')!; // clocks go back at 02:00 that night
    assert.equal(new Date(sunday).toISOString(), '2026-11-01T13:00:00.000Z', 'Sun 08:00 EST');
    assert.equal(new Date(issueWindow(site.config, sunday).from).toISOString(), '2026-10-28T11:00:00.000Z', 'Wed 07:00 EDT');
  });

  it('a date the edition does not go out on, and an empty window, are refused', async () => {
    const root = await siteWith({}, [{ title: 'Old news', published: '2026-01-01' }]);
    const site = await loadSite(root);
    assert.deepEqual(composeIssue(site, buildCatalog(site), 'midweek', '2026-04-14'), { ok: false, reason: 'not-scheduled' });
    const empty = composeIssue(site, buildCatalog(site), 'midweek', '2026-04-15');
    assert.equal(empty.ok, false);

    const notScheduled = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-14', '--root', root]);
    assert.equal(notScheduled.code, 2);
    assert.match(notScheduled.stderr, /Midweek is not scheduled on Tuesday 14 April 2026 \(cron "0 7 \* \* 3" in UTC\)/);
    // Days past the end of a month are not read as the next month's: 2026-02-29 is not Sunday 1 March.
    for (const date of ['2026-02-29', '2026-02-30', '2026-04-31', '2026-13-01', '2026-4-15']) {
      const impossible = await almanac(['issue', 'build', 'sunday', '--date', date, '--root', root]);
      assert.equal(impossible.code, 2, date);
      assert.equal(impossible.stderr, `almanac: --date expects a calendar date as YYYY-MM-DD, found "${date}"\n`);
    }
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^content\/news: expected news items published after Sun 12 Apr 2026 08:00 and up to Wed 15 Apr 2026 07:00 \(UTC\) for Midweek 2026-04-15, found none, so no issue was built/m);
    assert.equal(run.stdout, '');
  });
});

describe('composition', () => {
  it('ranks by score, then recency, and caps at the edition maxItems', async () => {
    const root = await siteWith({ editions: { midweek: { label: 'Midweek', cron: '0 7 * * 3', maxItems: 4 } } }, [
      { title: 'Five, older', score: 5, published: '2026-04-13T08:00:00Z' },
      { title: 'Five, newer', score: 5, published: '2026-04-14T08:00:00Z' },
      { title: 'Nine', score: 9, published: '2026-04-12T09:00:00Z' },
      { title: 'Seven', score: 7, published: '2026-04-13T09:00:00Z', topics: 'Llama' },
      { title: 'Two', score: 2, published: '2026-04-14T09:00:00Z' },
    ]);
    const issue = await compose(root, 'midweek', '2026-04-15');
    assert.equal(issue.top.title, 'Nine');
    assert.deepEqual(titles(issue), ['Nine', 'Seven', 'Five, newer', 'Five, older'], 'Two is cut by maxItems');
    assert.equal(issue.available, 5);
    assert.deepEqual(
      issue.groups.map((g) => [g.topic, g.stories.map((s) => s.title)]),
      [['Llama', ['Seven']], ['Meta', ['Five, newer', 'Five, older']]],
    );
  });

  it('one story once: URL variants are one story, and near-identical titles from two outlets merge', async () => {
    const root = await siteWith({}, [
      { title: 'Meta Introduces Muse Spark: First Model from Meta Superintelligence Labs with Multimodal Reasoning', url: 'https://ai.meta.com/blog/muse-spark/', source: 'Meta AI Blog', score: 9, published: '2026-04-13T08:00:00Z' },
      { title: 'Muse Spark launch', url: 'http://AI.Meta.com/blog/muse-spark?utm_source=x&utm_medium=email', source: 'Newsletter', score: 6, published: '2026-04-13T09:00:00Z' },
      { title: 'Muse Spark launch (repost)', url: 'https://ai.meta.com/blog/muse-spark/#top', source: 'Meta AI Blog', score: 4, published: '2026-04-13T10:00:00Z' },
      { title: 'Meta Introduces Muse Spark: First Closed-Weights Model from Superintelligence Labs', url: 'https://www.deeplearning.ai/the-batch/muse-spark/', source: 'The Batch', score: 8, published: '2026-04-14T08:00:00Z' },
      { title: 'Something else entirely', score: 5, published: '2026-04-14T09:00:00Z' },
    ]);
    const issue = await compose(root, 'midweek', '2026-04-15');
    assert.deepEqual(titles(issue), ['Meta Introduces Muse Spark: First Model from Meta Superintelligence Labs with Multimodal Reasoning', 'Something else entirely']);
    assert.deepEqual(issue.top.also.map((a) => a.source), ['Newsletter', 'The Batch']);
  });

  it('does not merge different stories that share a few words, nor one outlet with itself', () => {
    const item = (title: string, source: string, score: number) => ({
      lead: { id: title, file: '', title, url: `https://x.example/${title}`, source, published: 0, score, topics: [], storyKey: title, summary: '' },
      others: [],
    });
    const merged = mergeNearDuplicates([
      item('Meta announces MTIA chip roadmap', 'Meta AI Blog', 7),
      item('Meta announces Llama Guard 4', 'Hugging Face', 5),
      item('Meta Publishes Scaling Framework for Muse Spark', 'Meta AI Blog', 7),
      item('Meta Publishes Scaling Framework and Report for Muse Spark', 'Meta AI Blog', 6),
    ]);
    assert.equal(merged.length, 4);
  });

  it('features new and updated guides of the window first; otherwise the guide that best matches', async () => {
    const root = await siteWith({}, [
      { title: 'Llama news', published: '2026-04-13T08:00:00Z', topics: 'Llama', score: 8 },
      { title: 'Meta news', published: '2026-04-14T08:00:00Z', topics: 'Meta', score: 4 },
    ], {
      'content/guides/llama/guide.md': GUIDE('Llama explained', 'Llama, Meta'),
      'content/guides/meta/guide.md': GUIDE('Meta explained', 'Meta'),
    });
    assert.equal((await almanac(['guide', 'publish', 'llama', 'meta', '--note', 'First edition', '--root', root, '--now', '2026-04-01T10:00:00Z'])).code, 0);
    let issue = await compose(root, 'midweek', '2026-04-15');
    assert.deepEqual(issue.guides.map((g) => [g.slug, g.label]), [['llama', 'Guide']], 'best match by the issue topics');

    await writeFiles(root, { 'content/guides/meta/guide.md': `${GUIDE('Meta explained', 'Meta')}\n## More\n\nNew section.\n` });
    assert.equal((await almanac(['guide', 'publish', 'meta', '--note', 'Adds a section on chips', '--root', root, '--now', '2026-04-13T10:00:00Z'])).code, 0);
    await writeFiles(root, { 'content/guides/new-one/guide.md': GUIDE('A new one', 'Meta') });
    assert.equal((await almanac(['guide', 'publish', 'new-one', '--note', 'First edition', '--root', root, '--now', '2026-04-14T10:00:00Z'])).code, 0);
    issue = await compose(root, 'midweek', '2026-04-15');
    assert.deepEqual(issue.guides.map((g) => [g.slug, g.label, g.note]), [['new-one', 'New guide', undefined], ['meta', 'Updated · v2', 'Adds a section on chips.']]);
    assert.deepEqual(issue.weekGuides, [], 'only Sunday rounds up the week');

    await writeFiles(root, Object.fromEntries([newsFile({ title: 'Sunday news', published: '2026-04-17T08:00:00Z' })]));
    const sunday = await compose(root, 'sunday', '2026-04-19');
    // The guide featured for the issue's news is not listed again in the week's round-up.
    assert.deepEqual(sunday.guides.map((g) => g.slug), ['new-one']);
    assert.deepEqual(sunday.weekGuides.map((g) => g.slug), ['meta']);
  });

  it('subject: edition, number and top story, at most 78 characters on one line', () => {
    const top = { title: 'A very long headline\r\nBcc: victim@example.com that goes on and on about a model launch nobody asked about' };
    const subject = subjectLine({ editionLabel: 'Midweek', top } as never, 12);
    assert.ok(subject.length <= 78, subject);
    // The line break is a space; too long, the headline gives its first clause.
    assert.equal(subject, 'Midweek #12: A very long headline Bcc');
    assert.doesNotMatch(subject, /[\r\n]/);
  });
});

describe('almanac issue build', () => {
  it('prints the id, writes the email, text, web page and issue.json, and numbers issues once', async () => {
    const root = await siteWith({}, [
      { title: 'Midweek story', published: '2026-04-13T08:00:00Z', score: 7 },
      { title: 'Sunday story', published: '2026-04-16T08:00:00Z', score: 6 },
    ]);
    const first = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '2026-04-15-midweek\n');
    assert.match(first.stderr, /Midweek #1 · 2026-04-15 · 1 of 1 stories in the window/);
    const dir = path.join(root, 'dist/issues/2026-04-15-midweek');
    const html = await readFile(path.join(dir, 'email.html'), 'utf8');
    const text = await readFile(path.join(dir, 'email.txt'), 'utf8');
    const json = JSON.parse(await readFile(path.join(dir, 'issue.json'), 'utf8'));
    const web = parse(await readFile(path.join(dir, 'index.html'), 'utf8'));
    assert.equal(json.number, 1);
    assert.equal(json.subject, 'Midweek #1: Midweek story');
    assert.match(html, /<html lang="en" dir="ltr"/);
    assert.match(text, /^Call Me Almanac — Midweek #1\nWednesday 15 April 2026 · 1 story\n/);
    assert.match(text, /Unsubscribe:\nhttps:\/\/letters\.example\.org\/unsubscribe\n/, 'the public copy has no reader token');
    assert.equal(web.querySelector('h1')!.textContent, 'Midweek #1');
    const archive = parse(await readFile(path.join(root, 'dist/issues/index.html'), 'utf8'));
    assert.equal(archive.querySelectorAll('.issue-list li').length, 1);
    assert.match(await readFile(path.join(root, 'dist/feeds/issues.xml'), 'utf8'), /<title>Midweek #1: Midweek story<\/title>/);

    const sunday = await almanac(['issue', 'build', 'sunday', '--date', '2026-04-19', '--root', root, '--now', '2026-04-19T06:00:00Z']);
    assert.equal(sunday.code, 0, sunday.stderr);
    assert.equal(JSON.parse(await readFile(path.join(root, 'dist/issues/2026-04-19-sunday/issue.json'), 'utf8')).number, 2);

    // Rebuilding keeps the number and, with the same clock, every byte.
    const stored = await readFile(path.join(root, '.almanac/issues/2026-04-15-midweek/email.html'), 'utf8');
    const again = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(again.stdout, '2026-04-15-midweek\n');
    // Every byte but the slot markers' random nonce, which each build draws anew.
    const unslotted = (html: string) => html.replace(/almanac-slot-[0-9a-f]{32}-/g, 'almanac-slot-');
    assert.equal(unslotted(await readFile(path.join(root, '.almanac/issues/2026-04-15-midweek/email.html'), 'utf8')), unslotted(stored));
    assert.equal(JSON.parse(await readFile(path.join(root, 'dist/issues/2026-04-15-midweek/issue.json'), 'utf8')).number, 1);
    const archive2 = parse(await readFile(path.join(root, 'dist/issues/index.html'), 'utf8'));
    assert.deepEqual(archive2.querySelectorAll('.issue-list .kicker').map((k) => k.textContent.split(' · ')[0]), ['Sunday #2', 'Midweek #1']);
    // A full site build keeps the issues.
    assert.equal((await almanac(['build', '--root', root])).code, 0);
    await readFile(path.join(dir, 'index.html'));
  });

  it('without --date builds the edition\'s next date', async () => {
    const root = await siteWith({}, [{ title: 'Story', published: '2026-04-13T08:00:00Z' }]);
    const run = await almanac(['issue', 'build', 'midweek', '--root', root, '--now', '2026-04-14T12:00:00Z']);
    assert.equal(run.stdout, '2026-04-15-midweek\n', run.stderr);
  });

  it('refuses to build emails for an http baseUrl, naming the setting', async () => {
    const root = await siteWith({ baseUrl: 'http://localhost:4000' }, [{ title: 'Story', published: '2026-04-13T08:00:00Z' }]);
    // Days past the end of a month are not read as the next month's: 2026-02-29 is not Sunday 1 March.
    for (const date of ['2026-02-29', '2026-02-30', '2026-04-31', '2026-13-01', '2026-4-15']) {
      const impossible = await almanac(['issue', 'build', 'sunday', '--date', date, '--root', root]);
      assert.equal(impossible.code, 2, date);
      assert.equal(impossible.stderr, `almanac: --date expects a calendar date as YYYY-MM-DD, found "${date}"\n`);
    }
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^almanac\.config\.json: baseUrl: expected the site's public https:\/\/ address .*found "http:\/\/localhost:4000"$/m);
  });

  it('hostile news text never becomes markup or a header', async () => {
    const root = await siteWith({}, [
      {
        title: 'Evil <script>alert(1)</script><img src=x onerror=alert(2)>\r\nBcc: victim@example.com',
        source: 'Evil <b>Wire</b>',
        published: '2026-04-13T08:00:00Z',
        score: 9,
        body: 'Click [here](javascript:alert(3)) or <a href="javascript:alert(4)" onclick="x()">there</a>.\n<img src=x onerror=alert(5)><script>alert(6)</script>',
      },
    ]);
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    const site = await loadSite(root);
    // Read through the store: it gives the slot markers of this process (each run draws its own).
    const { html, text, issue } = new IssueStore(root).get('2026-04-15-midweek')!;
    const { sampleMime, findings } = await checkIssueEmail(site.config, issue, { html, text });
    assert.deepEqual(findings.filter((f) => f.severity === 'error'), []);
    const mail = await simpleParser(sampleMime);
    assert.equal(mail.headers.get('bcc'), undefined, 'no injected header');
    assert.doesNotMatch(sampleMime.toString('latin1').split(/\r?\n\r?\n/)[0]!, /^Bcc:/im);
    assert.equal(mail.subject, 'Midweek #1: Evil <script>alert(1)</script><img src=x onerror=alert(2)> Bcc');
    const doc = parse(String(mail.html));
    assert.equal(doc.querySelectorAll('script, img, iframe').length, 0);
    assert.equal(doc.querySelectorAll('[onerror], [onclick]').length, 0);
    assert.ok(!doc.querySelectorAll('a').some((a) => /^javascript:/i.test(a.getAttribute('href') ?? '')));
    assert.ok(String(mail.html).includes('Evil &lt;script&gt;alert(1)&lt;/script&gt;'));
  });
});
