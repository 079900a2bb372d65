// Defects the issue pipeline's properties found in the text of an issue, each pinned down here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalog } from '../src/compose/catalog.ts';
import { composeIssue, type IssueStory } from '../src/compose/issue.ts';
import { clip, preheaderText, subjectLine } from '../src/compose/subject.ts';
import { loadSite } from '../src/content/load.ts';
import { markdownToText } from '../src/render/markdown.ts';
import { wrapText } from '../src/render/wrap.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const story = (title: string) => ({ title }) as IssueStory;
const codePoints = (s: string) => [...s].length;

describe('the text part keeps what only looks like markup', () => {
  it('angle brackets that are not a tag stay, with what is between them', () => {
    assert.equal(markdownToText('Why 3 < 5 and 7 > 2 matters'), 'Why 3 < 5 and 7 > 2 matters');
    assert.equal(markdownToText('é<⟨2⟩ a title >'), 'é<⟨2⟩ a title >');
    assert.equal(markdownToText('<- arrows ->'), '<- arrows ->');
  });

  it('list items, quotes and headings keep their own lines; a paragraph\'s soft breaks are joined', () => {
    assert.equal(
      markdownToText('Three things:\n- first\n- second\n* third\n\n1. one\n2) two\n\n## Later\nA line\nwrapped here.\n> quoted\n> on.'),
      'Three things:\n- first\n- second\n* third\n\n1. one\n2) two\n\nLater\nA line wrapped here.\n> quoted\n> on.',
    );
  });

  it('reads Windows line endings as line endings: paragraphs stay apart', () => {
    assert.equal(markdownToText('Hello\r\nthere\r\n\r\n- a\r\n- b\r\n'), 'Hello there\n\n- a\n- b');
  });

  it('tags and comments still go', () => {
    assert.equal(markdownToText('Evil <script>alert(1)</script> <b class="x">bold</b><br/><!-- note -->'), 'Evil alert(1) bold');
  });
});

describe('subject and preheader shortening', () => {
  it('never splits an emoji: the clipped subject is well-formed and at most 78 characters', () => {
    for (let pad = 60; pad <= 80; pad++) {
      const subject = subjectLine({ editionLabel: 'Midweek', top: story(`${'x'.repeat(pad)}😀😀😀👩‍💻👩‍💻 and more words after it`) } as never, 1);
      assert.ok(codePoints(subject) <= 78, `${codePoints(subject)} characters`);
      assert.doesNotMatch(subject, /\p{Cs}/u, `a lone surrogate in ${JSON.stringify(subject)}`);
      assert.doesNotMatch(subject, /\u200d…$/u, 'nor a joiner cut from its emoji');
    }
  });

  it('counts characters, not UTF-16 units: 78 emoji are not cut to 38', () => {
    const emoji = '😀'.repeat(78);
    assert.equal(clip(emoji, 78), emoji);
    assert.equal(codePoints(clip('😀'.repeat(100), 78)), 78);
  });

  it('keeps an accent with its letter', () => {
    const clipped = clip(`${'a'.repeat(76)}e\u0301e\u0301`, 78);
    assert.equal(clipped, `${'a'.repeat(76)}…`, 'the letter and its accent go together, not the letter alone');
  });

  it('the preheader is one line whatever the guide label holds', () => {
    const preheader = preheaderText({
      groups: [],
      guides: [{ title: 'A guide', label: '\tNew\nguide', kind: 'new' } as never],
    });
    assert.equal(preheader, 'New guide: A guide');
  });
});

describe('braces in the content', () => {
  it('a story about template syntax builds: its {{ and }} are the reader\'s text, not leftover tokens', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
      'content/news/a.md': '---\ntitle: "Templating with {{user}}, and a stray }} too"\nurl: https://news.example.com/a\nsource: "Wire {{"\npublished: 2026-04-13T08:00:00Z\nscore: 7\n---\nWrite `{{#each}}` … `{{/each}}`.\n',
    });
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    const text = await readFile(path.join(root, '.almanac/issues/2026-04-15-midweek/email.txt'), 'utf8');
    assert.match(text, /Templating with \{\{user\}\}, and a stray \}\} too/);
  });
});

describe('the text part is wrapped at 78 characters', () => {
  it('breaks a word longer than a line (text without spaces), but never a link', () => {
    const cjk = '中文'.repeat(100);
    const wrapped = wrapText(`Intro ${cjk} end`, 78).split('\n');
    assert.ok(wrapped.every((l) => [...l].length <= 78), wrapped.map((l) => [...l].length).join(','));
    assert.equal(wrapped.join('').replace(/\s/g, ''), `Intro${cjk}end`, 'nothing lost');
    const url = `https://example.com/${'a'.repeat(100)}`;
    assert.deepEqual(wrapText(`Read: ${url} now`, 78).split('\n'), ['Read:', url, 'now']);
    assert.deepEqual(wrapText(`(${url})`, 78).split('\n'), [`(${url})`], 'a link in brackets too');
    const word = `${'x'.repeat(60)}http://y${'z'.repeat(30)}`;
    assert.equal(wrapText(word, 78).split('\n').length, 2, 'a word with a link inside it is no link');
  });

  it('counts characters, not UTF-16 units, and keeps an emoji whole', () => {
    const line = '😀 '.repeat(39).trim();
    assert.equal(wrapText(line, 78), line, '77 characters fit on one line');
    const pieces = wrapText('👩‍💻'.repeat(40), 78).split('\n');
    assert.ok(pieces.every((p) => /^(👩‍💻)+$/u.test(p)), 'broken between emoji, not inside one');
  });

  it('wraps the lines the text template built without it: source, topic, week guides, masthead', async () => {
    const root = await tempSite();
    const source = 'An Outlet With A Name Long Enough To Run Past The Line On Its Own, Surely';
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', title: 'A Newsletter Whose Title Goes On And On About Artificial Intelligence' }),
      'content/news/a.md': `---\ntitle: A story\nurl: https://news.example.com/a\nsource: ${source}\npublished: 2026-04-16T08:00:00Z\nscore: 7\ntopics: [A Topic With A Name Long Enough To Push Its Link Past The Edge]\n---\nA summary.\n`,
      'content/guides/g/guide.md': '---\ntitle: A Guide With A Title That Is Long Enough To Need Wrapping In The Text Part\nlevel: beginner\ntopics: [Meta]\ntldr: Short.\ntakeaways: [One]\n---\n\n## S\n\nBody.\n',
    });
    assert.equal((await almanac(['guide', 'publish', 'g', '--note', 'First edition', '--root', root, '--now', '2026-04-17T10:00:00Z'])).code, 0);
    const run = await almanac(['issue', 'build', 'sunday', '--date', '2026-04-19', '--root', root, '--now', '2026-04-19T06:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /text-wrap/);
    const text = await readFile(path.join(root, '.almanac/issues/2026-04-19-sunday/email.txt'), 'utf8');
    // A per-reader slot becomes a long signed link when sent: such a line is a link's line.
    const long = text.split('\n').filter((l) => [...l].length > 78 && !/https:\/\/\S{40,}|almanac-slot-/.test(l));
    assert.deepEqual(long, []);
  });
});

describe('topics in scripts without Latin letters', () => {
  it('each keeps its own group (their slugs are all empty)', async () => {
    const root = await tempSite();
    const item = (n: number, topic: string) =>
      `---\ntitle: Story ${n}\nurl: https://news.example.com/${n}\nsource: Wire\npublished: 2026-04-13T0${n}:00:00Z\nscore: ${9 - n}\ntopics: [${topic}]\n---\nA summary.\n`;
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
      'content/news/a.md': item(1, 'Meta'),
      'content/news/b.md': item(2, 'عربي'),
      'content/news/c.md': item(3, '中文'),
      'content/news/d.md': item(4, 'عربي'),
    });
    const site = await loadSite(root);
    const result = composeIssue(site, buildCatalog(site), 'midweek', '2026-04-15');
    assert.ok(result.ok);
    assert.deepEqual(
      result.issue.groups.map((g) => [g.topic, g.stories.map((s) => s.title)]),
      [['عربي', ['Story 2', 'Story 4']], ['中文', ['Story 3']]],
    );
  });
});

describe('markup and braces that the content itself holds', () => {
  it('build: a source quoting <b> and &amp;, an escaped {{a=b}}, braces opened in one field and closed in another', async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
      'content/news/a.md': '---\ntitle: "Why {{a=b}} breaks"\nurl: https://news.example.com/a\nsource: "The <b> &amp; <i> Weekly"\npublished: 2026-04-13T08:00:00Z\nscore: 7\n---\nA summary.\n',
      'content/news/b.md': '---\ntitle: "Second story"\nurl: https://news.example.com/b\nsource: "Opens {{ here"\npublished: 2026-04-13T09:00:00Z\nscore: 5\n---\nAnd — closes }} there.\n',
    });
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
  });

  it('still catch a template that leaves a token or a tag behind', async () => {
    const { checkMessage } = await import('../src/mail/checks.ts');
    const mime = (text: string) =>
      Buffer.from(['Subject: x', 'Content-Type: multipart/alternative; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', '', text, '--b--', ''].join('\r\n'));
    const input = (text: string, contentText: string) => ({
      mime: mime(text),
      unpersonalised: { html: '', text },
      placeholders: { unsubscribe: '{{unsubscribe_url}}', preferences: '{{preferences_url}}' },
      sample: { unsubscribe: 'https://x.example/u', preferences: 'https://x.example/p' },
      webUrl: 'https://x.example/w',
      contentText,
    });
    const found = async (text: string, content: string) => (await checkMessage(input(text, content))).filter((f) => f.check === 'stray-tokens' || f.check === 'text-markup').map((f) => f.found);
    assert.deepEqual(await found('Hello {{forgotten}} there', 'A title with {{ and }} in it'), ['{{forgotten}}']);
    assert.deepEqual(await found('Hello <p>oops</p>', 'A title about <b>'), ['<p>']);
    assert.deepEqual(await found('A title about <b> and {{ and }} in it', 'A title about <b> and {{ and }} in it'), []);
    assert.deepEqual(await found('A source ending in <b\n> and the next line', 'A source ending in <b'), [], 'no tag across a line break');
  });
});
