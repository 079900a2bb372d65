// Every email check fails on a template crafted to break it, and `issue build` then refuses,
// naming the issue and the check (and, for MJML errors, the template file and line).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { checkMessage } from '../src/mail/checks.ts';
import { PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const MJML = 'templates/email/pages/issue.mjml.hbs';
const TEXT = 'templates/email/pages/issue.txt.hbs';
const STORY_TEXT = 'templates/email/partials/story-text.txt.hbs';
const BODY_END = '  </mj-body>';
const inBody = (mjml: string) => (t: string) => t.replace(BODY_END, `    <mj-section><mj-column>${mjml}</mj-column></mj-section>\n${BODY_END}`);

/** The line of the built-in issue template that has `needle`, as a finding names it. */
const mjmlLine = (needle: string) => readFileSync(path.join(PROJECT, MJML), 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;

interface Case {
  name: string;
  file: string;
  change: (template: string) => string;
  expect: RegExp[];
}

const CASES: Case[] = [
  { name: 'no preheader', file: MJML, change: (t) => t.replace(/<mj-preview>.*<\/mj-preview>/, ''), expect: [/: preheader: expected a hidden preheader right after <body>, found none/] },
  { name: 'preheader not padded', file: MJML, change: (t) => t.replace('{{issue.preheaderPad}}', ''), expect: [/: preheader: expected the preheader padded to 200 characters/] },
  { name: 'a script', file: MJML, change: inBody('<mj-raw><script>alert(1)</script></mj-raw>'), expect: [/: no-script: expected no <script>, found <script>/] },
  { name: 'an event handler', file: MJML, change: inBody('<mj-text><span onmouseover="x()">hover</span></mj-text>'), expect: [/: no-script: expected no event handler attributes, found onmouseover= on <span>/] },
  { name: 'a form', file: MJML, change: inBody('<mj-raw><form action="https://x.example/"><input name="q"></form></mj-raw>'), expect: [/: no-script: expected no <form>, found <form>/] },
  { name: 'a javascript: link', file: MJML, change: inBody('<mj-text><a href="javascript:alert(1)">x</a></mj-text>'), expect: [/: no-script: expected no javascript: URLs, found href="javascript:alert\(1\)"/, /: links: expected every link absolute https: or mailto:/] },
  { name: 'relative and http links', file: MJML, change: inBody('<mj-text><a href="/about">about</a> <a href="http://insecure.example/">insecure</a></mj-text>'), expect: [/: links: expected every link absolute https: or mailto:, found href="\/about"/, /: links: expected every link absolute https: or mailto:, found href="http:\/\/insecure\.example\/"/] },
  { name: 'an empty link', file: MJML, change: inBody('<mj-text><a href="{{issue.webUrl}}"></a></mj-text>'), expect: [/^warning: issue .*: link-text: expected text on every link/m] },
  { name: 'an image without alt, over http', file: MJML, change: inBody('<mj-raw><img src="http://x.example/a.png"></mj-raw>'), expect: [/: img-alt: expected alt on every image/, /: img-src: expected images from absolute https URLs, found http:\/\/x\.example\/a\.png/] },
  { name: 'an SVG image', file: MJML, change: inBody('<mj-image src="https://x.example/logo.svg" alt="Logo" width="120px" />'), expect: [/: img-src: expected no SVG images/] },
  { name: 'a layout table without a role', file: MJML, change: inBody('<mj-raw><table><tr><td>x</td></tr></table></mj-raw>'), expect: [/: layout-tables: expected role="presentation" on every layout table, found 1 table without it/] },
  { name: 'CSS that does not parse', file: MJML, change: (t) => t.replace('<mj-style>', '<mj-style>\n      .broken { color red }'), expect: [/: head-css: expected CSS that parses .*, found Colon is expected/] },
  { name: 'a <style> in the body', file: MJML, change: inBody('<mj-raw><style>.y { color: red; }</style></mj-raw>'), expect: [/: head-css: expected <style> only inside <head>, found <style> in the body/] },
  { name: 'HTML over Gmail\'s clipping size', file: MJML, change: inBody(`<mj-text>${'Padding text that makes the email far too long. '.repeat(2200)}</mj-text>`), expect: [/: html-size: expected decoded HTML under 102,000 bytes \(Gmail clips beyond\), found 1\d\d,\d{3} bytes/] },
  { name: 'no language', file: MJML, change: (t) => t.replace('lang="{{site.language}}"', 'lang="en_GB!"'), expect: [/: lang: expected <html lang> with a language tag, found en_GB!/] },
  { name: 'the unsubscribe link removed', file: MJML, change: (t) => t.replace('<a href="{{tokens.unsubscribe}}"', '<a href="{{site.baseUrl}}/"'), expect: [/: placeholders: expected the unsubscribe placeholder \{\{unsubscribe_url\}\} as a link in the HTML/, /: unsubscribe-link: expected a visible unsubscribe link in the body, found none/] },
  { name: 'a template token left over', file: TEXT, change: (t) => `${t}\nP.S. \\{{forgotten}}\n`, expect: [/: stray-tokens: expected no template tokens left in the text part, found \{\{forgotten\}\}/] },
  { name: 'links missing from the text part', file: STORY_TEXT, change: (t) => t.replace('{{wrap (concat "Read: " url)}}\n', ''), expect: [/: text-links: expected every link of the HTML written out in the text part/] },
  { name: 'markup in the text part', file: STORY_TEXT, change: (t) => t.replace('{{wrap summaryText}}', '{{wrap summaryText}}\n<p>oops</p>'), expect: [/: text-markup: expected no markup or HTML entities in the text part, found <p>/] },
  { name: 'text too faint in dark mode', file: MJML, change: (t) => t.replace('.card a, .card .kicker { color: #f0895c', '.card a, .card .kicker { color: #6b3a25'), expect: [/: contrast: expected text contrast of at least 4\.5:1 in the dark scheme \(WCAG 1\.4\.3\), found "[^"]+" in <a> in \.[a-z]+: #6b3a25 on #1d1c19, 1\.\d\d:1/] },
  { name: 'text too faint in the light scheme', file: MJML, change: (t) => t.replace('<mj-text font-size="16px" line-height="1.6" color="#1c1b19"', '<mj-text font-size="16px" line-height="1.6" color="#b0aca4"'), expect: [/: contrast: expected text contrast of at least 4\.5:1 in the light scheme \(WCAG 1\.4\.3\), found "[^"]+" in <p> in \.card: #b0aca4 on #ffffff, 2\.\d\d:1/] },
  {
    name: 'faint text, with the template lines of the element and of both colours',
    file: MJML,
    change: (t) => t.replace('.muted .web-link, .card .meta { color: #aaa59b', '.muted .web-link, .card .meta { color: #333333'),
    expect: [
      new RegExp(
        `: contrast: expected text contrast of at least 4\\.5:1 in the dark scheme \\(WCAG 1\\.4\\.3\\), found "View in your browser" in <a\\.web-link>: #333333 on #151412, 1\\.\\d\\d:1 ` +
          `\\(written at templates/email/pages/issue\\.mjml\\.hbs:${mjmlLine('class="web-link"')}; #333333 at templates/email/pages/issue\\.mjml\\.hbs:${mjmlLine('.muted .web-link')}; ` +
          `#151412 at templates/email/pages/issue\\.mjml\\.hbs:${mjmlLine('.paper, .paper > table')}\\)`,
      ),
      // Text the template writes before the content's: found by its first words.
      new RegExp(`found "You are receiving [^"]*" in <p> in \\.muted: #333333 on #1d1c19, [\\d.]+:1 \\(and 1 more like it\\) \\(written at templates/email/pages/issue\\.mjml\\.hbs:${mjmlLine('You are receiving')};`),
    ],
  },
  {
    name: 'an element MJML does not know, written many times by one line, once',
    file: MJML,
    change: inBody('{{#each site}}<mj-sparkle />{{/each}}'),
    // The whole output names mj-sparkle once.
    expect: [/^(?![\s\S]*mj-sparkle[\s\S]*mj-sparkle)[\s\S]*issue\.mjml\.hbs:\d+: expected valid MJML, found Element mj-sparkle doesn't exist or is not registered/],
  },
  { name: 'an element MJML does not know', file: MJML, change: inBody('\n<mj-sparkle />'), expect: [/^\(?[^\n]*templates\/email\/pages\/issue\.mjml\.hbs:\d+: expected valid MJML, found Element mj-sparkle doesn't exist or is not registered/m] },
];

describe('email checks on crafted bad templates', () => {
  let root: string;
  before(async () => {
    root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
      'content/news/a.md': '---\ntitle: A story\nurl: https://news.example.com/a\nsource: Wire\npublished: 2026-04-13T08:00:00Z\nscore: 7\n---\nA summary with [a link](https://news.example.com/more).\n',
    });
    const ok = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root]);
    assert.equal(ok.code, 0, `the built-in templates pass every check\n${ok.stderr}`);
    assert.doesNotMatch(ok.stderr, /^warning:/m, 'and raise no warning');
  });

  for (const c of CASES) {
    it(`catches ${c.name}`, async () => {
      const site = await tempSite();
      await writeFiles(site, {
        'almanac.config.json': await readFile(path.join(root, 'almanac.config.json'), 'utf8'),
        'content/news/a.md': await readFile(path.join(root, 'content/news/a.md'), 'utf8'),
        [c.file]: c.change(await readFile(path.join(PROJECT, c.file), 'utf8')),
      });
      const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', site]);
      const output = run.stderr;
      for (const re of c.expect) assert.match(output, re);
      const isWarningOnly = c.expect.every((re) => re.source.startsWith('^warning'));
      assert.equal(run.code, isWarningOnly ? 0 : 1, output);
      if (!isWarningOnly) assert.equal(run.stdout, '', 'no id printed: nothing was built');
      assert.doesNotMatch(output, /^\s+at /m, 'no stack trace');
    });
  }

  it('catches header faults in a raw message: long subject, missing one-click header, wrong charset, no text part', async () => {
    const mime = Buffer.from(
      [
        'From: a@example.org',
        'To: b@example.org',
        `Subject: ${'x'.repeat(90)}`,
        'Message-ID: <1@example.org>',
        'Date: Wed, 15 Apr 2026 07:00:00 +0000',
        'List-Unsubscribe: <http://example.org/u>',
        'MIME-Version: 1.0',
        'Content-Type: text/html; charset=iso-8859-1',
        '',
        '<html lang="en"><body><p>Hi</p></body></html>',
      ].join('\r\n'),
    );
    const findings = await checkMessage({
      mime,
      unpersonalised: { html: '', text: '' },
      placeholders: { unsubscribe: '{{unsubscribe_url}}', preferences: '{{preferences_url}}' },
      sample: { unsubscribe: 'https://example.org/u?token=1', preferences: 'https://example.org/p?token=1' },
      webUrl: 'https://example.org/issues/x/',
    });
    const ids = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.check));
    for (const id of ['subject', 'unsubscribe-header', 'charset', 'text-part', 'multipart', 'preheader', 'unsubscribe-link', 'placeholders']) {
      assert.ok(ids.has(id), `${id} in ${[...ids].join(', ')}`);
    }
  });
});
