// Issue notes (content/issues/<date>-<edition>.md): the editor's subject, preheader, intro, pinned and
// dropped stories and featured guides, in the email, its text part and its web version.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'node-html-parser';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteLedger } from '../src/store/ledger.ts';
import { emailView, renderEmail, type IssueMeta } from '../src/render/email.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { loadSite } from '../src/content/load.ts';

const DATE = '2026-04-15';
const ID = `${DATE}-midweek`;
const NOW = '2026-04-15T06:00:00Z';
const NOTES = `content/issues/${ID}.md`;

const news = (n: number, title: string, score: number, topic = 'Meta') => [
  `content/news/n${n}.md`,
  `---\ntitle: ${JSON.stringify(title)}\nurl: "https://news.example.com/story-${n}"\nsource: Example Wire\npublished: "2026-04-1${3 + (n % 2)}T0${n}:00:00Z"\nscore: ${score}\ntopics: [${topic}]\n---\nSummary of ${title}.\n`,
];

async function site(notes?: string): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
    ...Object.fromEntries([news(1, 'Alpha leads on score', 9), news(2, 'Bravo second', 7, 'Chips'), news(3, 'Charlie third', 5), news(4, 'Delta fourth', 3, 'Chips')]),
    ...(notes === undefined ? {} : { [NOTES]: notes }),
  });
  return root;
}

async function build(root: string) {
  const run = await almanac(['issue', 'build', 'midweek', '--date', DATE, '--root', root, '--now', NOW]);
  return run;
}

/** A site whose issue of DATE, built with an intro, has started going out to one reader. */
async function sentIssueSite(): Promise<string> {
  const root = await site(`---\nsubject: First words\n---\nThe intro as sent.\n`);
  assert.equal((await build(root)).code, 0);
  assert.equal((await almanac(['subscribers', 'add', 'ada@example.com', '--root', root])).code, 0);
  const db = openDatabase(databasePath(root));
  try {
    assert.ok(new SqliteLedger(db).enqueue(ID, 'midweek', Date.parse(NOW)) > 0);
  } finally {
    db.close();
  }
  return root;
}

const dist = (root: string, file: string) => readFile(path.join(root, 'dist/issues', ID, file), 'utf8');

const order = (html: string) => ['Alpha', 'Bravo', 'Charlie', 'Delta'].map((w) => ({ w, at: html.indexOf(`${w} `) })).filter((x) => x.at >= 0).sort((a, b) => a.at - b.at).map((x) => x.w);

describe('issue notes', () => {
  it('subject, preheader and intro appear in the HTML, the text part and the web version', async () => {
    const root = await site(
      `---\nsubject: "Midweek: the editor's pick"\npreheader: A calm week, three things worth reading\n---\nHello readers, this week is **quiet**. See [the archive](https://letters.example.org/issues/).\n`,
    );
    const run = await build(root);
    assert.equal(run.code, 0, run.stderr);
    const html = await dist(root, 'email.html');
    const text = await dist(root, 'email.txt');
    const web = await readFile(path.join(root, 'dist/issues', ID, 'index.html'), 'utf8');
    assert.match(html, /<title>Midweek: the editor&#x27;s pick<\/title>|<title>Midweek: the editor's pick<\/title>/);
    assert.match(html, /A calm week, three things worth reading/);
    assert.match(html, /Hello readers, this week is <strong>quiet<\/strong>/);
    assert.match(html, /<a href="https:\/\/letters\.example\.org\/issues\/">the archive<\/a>/);
    assert.match(text, /Hello readers, this week is quiet\. See the archive\n?\s*\(https:\/\/letters\.example\.org\/issues\/\)/);
    assert.ok(text.indexOf('Hello readers') < text.indexOf('TOP STORY'), 'the intro comes before the stories');
    assert.match(web, /Hello readers, this week is <strong>quiet<\/strong>/);
    const stored = JSON.parse(await readFile(path.join(root, '.almanac/issues', ID, 'issue.json'), 'utf8'));
    assert.equal(stored.subject, "Midweek: the editor's pick");
    assert.equal(stored.preheader, 'A calm week, three things worth reading');
  });

  it('pinned stories run first in the order given; dropped ones are left out', async () => {
    const root = await site(`---\npin:\n  - https://news.example.com/story-4\n  - "HTTPS://NEWS.EXAMPLE.COM/story-3/?utm_source=x"\ndrop: [https://news.example.com/story-1]\n---\n`);
    const run = await build(root);
    assert.equal(run.code, 0, run.stderr);
    const text = await dist(root, 'email.txt');
    assert.deepEqual(order(text), ['Delta', 'Charlie', 'Bravo']);
    assert.doesNotMatch(await dist(root, 'email.html'), /Alpha leads/);
  });

  it('a pinned URL that matches no story is exit 1 naming file, field and URL', async () => {
    const root = await site(`---\npin: [https://news.example.com/story-2, https://elsewhere.example/nope]\n---\n`);
    const run = await build(root);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/issues\/2026-04-15-midweek\.md: pin\[1\]: expected the URL of a story in this issue's window .*found "https:\/\/elsewhere\.example\/nope"/);
    const drop = await site(`---\ndrop: [https://elsewhere.example/gone]\n---\n`);
    const dropped = await build(drop);
    assert.equal(dropped.code, 1);
    assert.match(dropped.stderr, /drop\[0\]: .*"https:\/\/elsewhere\.example\/gone"/);
  });

  it('a story both pinned and dropped, by any form of its URL, is an error naming both', async () => {
    const root = await site(`---\npin: [https://news.example.com/story-2]\ndrop: ["http://news.example.com/story-2/?utm_source=x"]\n---\n`);
    const run = await build(root);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/issues\/2026-04-15-midweek\.md: drop\[0\]: expected a story that is not also pinned, found "http:\/\/news\.example\.com\/story-2\/\?utm_source=x", the story pin\[0\] puts first/);
  });

  it('an unknown field and an unknown guide slug are errors', async () => {
    const root = await site(`---\nsubjet: Typo\n---\n`);
    const run = await build(root);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/issues\/2026-04-15-midweek\.md: subjet: expected one of the known fields \(subject, preheader, pin, drop, guides\), found an unknown field "subjet"/);
    const guides = await site(`---\nguides: [no-such-guide]\n---\n`);
    const g = await build(guides);
    assert.equal(g.code, 1);
    assert.match(g.stderr, /guides\[0\]: expected the slug of a published, active guide.*found "no-such-guide"/);
  });

  it('a sent issue is not rebuilt after its notes change, and its web version keeps the intro it went out with', async () => {
    const root = await sentIssueSite();
    await writeFile(path.join(root, NOTES), `---\nsubject: Second thoughts\n---\nA changed intro.\n`);
    const again = await build(root);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /a sent issue is never rebuilt/);
    assert.equal((await almanac(['build', '--root', root, '--now', NOW])).code, 0);
    const web = await readFile(path.join(root, 'dist/issues', ID, 'index.html'), 'utf8');
    assert.match(web, /The intro as sent\./);
    assert.doesNotMatch(web, /A changed intro/);
    assert.match(await dist(root, 'email.txt'), /The intro as sent\./);
  });

  it('any intro text becomes no markup beyond what the email allows', async () => {
    const root = await site();
    const s = await loadSite(root);
    const templates = await TemplateSet.load(root, 'email');
    const base: IssueMeta = {
      id: ID, edition: 'midweek', editionLabel: 'Midweek', date: DATE, scheduledAt: Date.parse(NOW), window: { from: 0, to: 1 },
      top: { id: 'a', title: 'Top', url: 'https://news.example.com/a', source: 'Wire', score: 5, published: 0, summary: 'S', topic: 'Meta', also: [], alsoMore: 0 },
      groups: [], guides: [], weekGuides: [], weekGuidesMore: 0, available: 1, number: 1, subject: 'S', preheader: 'P',
    };
    const ALLOWED = new Set(['p', 'strong', 'em', 'a', 'code', 'ul', 'ol', 'li', 'br', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'pre', 's', 'img']);
    const hostile = fc.constantFrom('<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '[x](javascript:alert(1))', '<a href="javascript:x">y</a>', '<style>*{}</style>', '![i](http://x/y.png)', '"><svg onload=1>', '[m](mailto:a@b.c)', '**b**');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string(), hostile), { maxLength: 6 }).map((parts) => parts.join(' ')), async (intro) => {
        const view = emailView(s.config, { ...base, notes: { file: NOTES, intro: `Marker ${intro}`, pinned: [], dropped: [] } }) as { issue: { introHtml: string } };
        const fragment = parse(view.issue.introHtml);
        for (const el of fragment.querySelectorAll('*')) {
          assert.ok(ALLOWED.has(el.tagName.toLowerCase()), `tag ${el.tagName} in ${view.issue.introHtml}`);
          for (const name of Object.keys(el.attributes)) assert.ok(['href', 'src', 'alt'].includes(name), `attribute ${name}`);
          for (const link of [el.getAttribute('href'), el.getAttribute('src')]) if (link !== undefined) assert.match(link, /^(https?:|mailto:)/i);
        }
        return true;
      }),
      { numRuns: 60 },
    );
    // And the rendered email carries it inside the intro block.
    const email = await renderEmail(templates, emailView(s.config, { ...base, notes: { file: NOTES, intro: '<script>x</script> hi', pinned: [], dropped: [] } }));
    assert.doesNotMatch(email.html, /<script>x/);
    assert.match(email.html, /&lt;script&gt;x&lt;\/script&gt; hi/);
  });
});

describe('a notes subject', () => {
  it('replaces the automatic one, and the automatic one is not said to be shortened', async () => {
    const root = await site(`---\nsubject: The editor's own subject\n---\n`);
    await writeFiles(root, {
      'content/news/n1.md': `---\ntitle: "${'A very long lead headline that goes on '.repeat(4)}"\nurl: "https://news.example.com/story-1"\nsource: Example Wire\npublished: "2026-04-13T01:00:00Z"\nscore: 9\ntopics: [Meta]\n---\nSummary.\n`,
    });
    const run = await almanac(['issue', 'build', 'midweek', '--date', DATE, '--root', root, '--now', NOW, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.subject, "The editor's own subject");
    assert.deepEqual(report.warnings.filter((w: { field: string }) => w.field === 'subject'), []);
  });
});

describe('a notes subject or preheader too long for inboxes', () => {
  it('is an error naming the file, the field and the length, not a subject cut short', async () => {
    const root = await site(`---\nsubject: "${'word '.repeat(20)}"\npreheader: "${'é'.repeat(141)}"\n---\n`);
    const run = await build(root);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/issues\/2026-04-15-midweek\.md: subject: expected a subject line \(text\) of at most 78 characters/);
    assert.match(run.stderr, /content\/issues\/2026-04-15-midweek\.md: preheader: expected a preheader \(text\) of at most 140 characters/);
    const fits = await site(`---\nsubject: "${'é'.repeat(78)}"\n---\n`);
    assert.equal((await build(fits)).code, 0);
  });
});

describe('almanac issue new', () => {
  it('writes the notes file with the candidate stories in running order, and never overwrites it', async () => {
    const root = await site();
    const run = await almanac(['issue', 'new', 'midweek', '--date', DATE, '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${NOTES}\n`);
    const written = await readFile(path.join(root, NOTES), 'utf8');
    // Alpha (9) is the top story; the rest run by topic group, the group with the better story first.
    assert.deepEqual(order(written), ['Alpha', 'Bravo', 'Delta', 'Charlie']);
    assert.match(written, /^# {3}1\. \[9\/10\] Alpha leads on score — Example Wire\n# {6}https:\/\/news\.example\.com\/story-1$/m);
    // As written it is a valid notes file that changes nothing: the email runs them in that order.
    assert.equal((await build(root)).code, 0);
    assert.deepEqual(order(await dist(root, 'email.txt')), ['Alpha', 'Bravo', 'Delta', 'Charlie']);

    await writeFile(path.join(root, NOTES), 'edited by hand\n');
    const again = await almanac(['issue', 'new', 'midweek', '--date', DATE, '--root', root, '--now', NOW]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /content\/issues\/2026-04-15-midweek\.md: expected no notes file for this issue yet/);
    assert.equal(await readFile(path.join(root, NOTES), 'utf8'), 'edited by hand\n');
  });
});

describe('almanac check and issue notes', () => {
  it('the notes of an issue that went out are no fault once its edition is turned off; unsent notes of no edition are', async () => {
    const root = await sentIssueSite();
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ baseUrl: 'https://letters.example.org', editions: { midweek: false } }));
    const check = await almanac(['check', '--root', root, '--now', '2026-05-01T00:00:00Z']);
    assert.doesNotMatch(check.stderr, /2026-04-15-midweek\.md/);
    await writeFile(path.join(root, 'content/issues/2026-04-22-midweek.md'), `---\nsubject: Never sent\n---\n`);
    const again = await almanac(['check', '--root', root, '--now', '2026-05-01T00:00:00Z']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /content\/issues\/2026-04-22-midweek\.md: expected a file named <YYYY-MM-DD>-<edition>\.md/);
    assert.doesNotMatch(again.stderr, /2026-04-15-midweek\.md/);
  });

  it('checks every notes file, whatever its date: its name, its fields and its pins', async () => {
    const root = await site();
    await writeFiles(root, {
      [NOTES]: `---\npin: [https://news.example.com/story-9]\n---\n`,
      'content/issues/2026-04-14-midweek.md': `---\n---\n`,
      'content/issues/2026-04-19-sunday.md': `---\nsubjct: Typo\n---\n`,
    });
    const run = await almanac(['check', '--root', root, '--now', '2026-05-01T00:00:00Z']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/issues\/2026-04-15-midweek\.md: pin\[0\]: expected the URL of a story .*found "https:\/\/news\.example\.com\/story-9"/);
    assert.match(run.stderr, /content\/issues\/2026-04-14-midweek\.md: expected a file named <YYYY-MM-DD>-<edition>\.md for a date the edition goes out/);
    assert.match(run.stderr, /content\/issues\/2026-04-19-sunday\.md: subjct: expected one of the known fields/);
  });
});

describe('faults in a notes intro', () => {
  // The intro starts on line 5 of the file: the front matter, then a blank line.
  const notes = [
    '---',
    'subject: "Midweek: images and markup"',
    '---',
    '',
    'A first paragraph, fine.',
    '',
    'Here is a <b>bold</b> claim,',
    'and a chart: ![chart](http://img.example.com/chart.png)',
    'and [a source](http://insecure.example.com/post) too. <div class="box">Boxed</div>',
    '',
  ].join('\n');

  it('an http image or link in the intro fails `issue build` naming the notes file, its line and the URL, not the issue', async () => {
    const root = await site(notes);
    const run = await build(root);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^content\/issues\/2026-04-15-midweek\.md:8: intro: expected an image from an https:\/\/ URL \(emails show images from https only\), found "http:\/\/img\.example\.com\/chart\.png"$/m);
    assert.match(run.stderr, /^content\/issues\/2026-04-15-midweek\.md:9: intro: expected a link to an https:\/\/ or mailto: address \(emails link to nothing else\), found "http:\/\/insecure\.example\.com\/post"$/m);
    assert.doesNotMatch(run.stderr, /issue 2026-04-15-midweek: (img-src|links)/);
    assert.equal(run.stdout, '');
  });

  it('raw HTML in the intro builds, shown as text, with a warning naming the notes file and line', async () => {
    const root = await site(notes.replace('http://img', 'https://img').replace('http://insecure', 'https://insecure'));
    const run = await build(root);
    assert.equal(run.code, 0, run.stderr);
    const expected = 'Markdown without raw HTML \\(raw HTML is not allowed in notes and is shown as text\\)';
    assert.match(run.stderr, new RegExp(`^warning: content/issues/2026-04-15-midweek\\.md:7: intro: expected ${expected}, found <b> </b>$`, 'm'));
    assert.match(run.stderr, new RegExp(`^warning: content/issues/2026-04-15-midweek\\.md:9: intro: expected ${expected}, found <div class="box"> </div>$`, 'm'));
    assert.match(await dist(root, 'email.html'), /Here is a &lt;b&gt;bold&lt;\/b&gt; claim/);
    // `check` says it too, once, though it reads these notes twice (the file, and the next Midweek).
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', from: 'Letters <letters@example.org>' }) });
    const checked = await almanac(['check', '--root', root, '--now', '2026-04-14T09:00:00Z'], { env: { SPAMASSASSIN_PATH: '/nonexistent/spamassassin' } });
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.stdout.match(/warning: content\/issues\/2026-04-15-midweek\.md:7: intro: expected Markdown without raw HTML/g)?.length, 1, checked.stdout);
  });

  it('markup in code is meant as text and is no fault; a line ending in CRLF counts as one line', async () => {
    const root = await site('---\r\nsubject: "Midweek: code"\r\n---\r\n\r\nWrite `<b>` for bold.\r\n\r\n```\r\n<div>\r\n```\r\n\r\nSee ![x](http://img.example.com/x.png)\r\n');
    const run = await build(root);
    assert.equal(run.code, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /raw HTML/);
    assert.match(run.stderr, /^content\/issues\/2026-04-15-midweek\.md:11: intro: expected an image from an https/m);
  });
});

describe('almanac issue new outside the site', () => {
  it('does not write through a content/issues link that leaves the site folder', async () => {
    const root = await site();
    const elsewhere = await tempSite();
    const { symlink, readdir } = await import('node:fs/promises');
    await symlink(path.join(elsewhere, 'content'), path.join(root, 'content/issues'));
    const run = await almanac(['issue', 'new', 'midweek', '--date', DATE, '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /content\/issues: expected a folder inside the site folder/);
    assert.deepEqual(await readdir(path.join(elsewhere, 'content')), []);
  });
});

describe('the scheduler and issue notes', () => {
  it('a slot whose notes drop every story sends nothing, as for an empty window', async () => {
    const { slotRunner } = await import('../src/schedule/run-slot.ts');
    const { MemoryLedger } = await import('./helpers/memory-ledger.ts');
    const root = await site(`---\ndrop:\n${[1, 2, 3, 4].map((n) => `  - https://news.example.com/story-${n}`).join('\n')}\n---\n`);
    const at = Date.parse('2026-04-15T07:00:00Z');
    const run = slotRunner({
      root,
      secret: 'schedule-secret-0123456789abcdef',
      ledger: new MemoryLedger([]),
      transport: { send: async () => undefined, close: () => undefined },
      clock: () => at,
      holder: 'test:1',
      holderAlive: () => true,
    });
    const outcome = await run.run('midweek', at, new AbortController().signal);
    assert.deepEqual(outcome, { state: 'empty', issueId: null, detail: 'nothing to send' });
  });
});
