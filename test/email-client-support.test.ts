// Client support from caniemail's data, on what the templates' authors wrote: a feature a client
// family lacks is named with the family and the template line; one the layout depends on fails
// `check`, the rest are warnings there. MJML's own scaffolding is not reported.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { clientFindings, clientGaps } from '../src/mail/client-support.ts';
import { PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const PAGE = 'templates/email/pages/issue.mjml.hbs';
const STORY = 'templates/email/partials/story.hbs';

const page = (body: string, css = '') => `<mjml>
  <mj-head>
    <mj-style>
      ${css}
    </mj-style>
  </mj-head>
  <mj-body>
    <mj-section><mj-column>
      <mj-text>
${body}
      </mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;

async function builtIn(): Promise<{ display: string; source: string }[]> {
  return Promise.all([PAGE, STORY, 'templates/email/partials/guide.hbs'].map(async (f) => ({ display: f, source: await readFile(path.join(PROJECT, f), 'utf8') })));
}

describe('client support', () => {
  it('names the family, the feature and the template line of a layout feature Outlook lacks, as an error', () => {
    const findings = clientFindings(clientGaps([{ display: PAGE, source: page('        <div style="display:flex">{{title}}</div>') }]));
    assert.deepEqual(findings, [
      { check: 'client-support', severity: 'error', expected: 'layout that every client family supports', found: `display:flex (${PAGE}:10) is not supported by Outlook Windows` },
    ]);
  });

  it('warns of a feature that degrades, once per template with every line it is on', () => {
    const body = '        <p style="background-image:url(https://x.example/a.png)">a</p>\n        <p style="background-image:url(https://x.example/b.png)">b</p>';
    const findings = clientFindings(clientGaps([{ display: STORY, source: page(body) }]));
    assert.deepEqual(findings, [{ check: 'client-support', severity: 'warning', expected: 'features every client family supports', found: `background-image (${STORY}:10, 11) is not supported by Outlook Windows` }]);
  });

  it('does not mistake text-transform for transform, or line-height for height', () => {
    const gaps = clientGaps([{ display: PAGE, source: page('        <p style="text-transform:uppercase;line-height:1.4">x</p>', '.title { text-transform: uppercase; line-height: 1.2; }') }]);
    assert.deepEqual(gaps.map((g) => g.feature).filter((f) => /transform|height/.test(f)), []);
  });

  it('finds no layout fault in the built-in templates, and nothing of MJML\'s scaffolding', async () => {
    const gaps = clientGaps(await builtIn());
    assert.deepEqual(gaps.filter((g) => g.critical), []);
    // MJML writes these hundreds of times on a stock render; the templates themselves do not.
    for (const scaffolding of ['word-break', '<body> element', 'cursor', 'target attribute', 'role attribute']) assert.ok(!gaps.some((g) => g.feature.includes(scaffolding)), scaffolding);
    assert.ok(gaps.some((g) => g.feature === 'border-radius' && g.families.includes('Outlook Windows')), 'the buttons\' rounded corners are a known gap');
  });

  it('fails `check` for a layout feature a family lacks, and lists the rest as warnings', async () => {
    const root = await tempSite();
    const story = await readFile(path.join(PROJECT, STORY), 'utf8');
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', from: 'Letters <letters@letters.example.org>' }),
      'content/news/a.md': '---\ntitle: A story\nurl: https://news.example.com/a\nsource: Wire\npublished: 2026-04-13T08:00:00Z\nscore: 7\n---\nA summary.\n',
      [STORY]: story.replace('<h3 class="title" style="', '<h3 class="title" style="background-image:url(https://x.example/h.png);'),
    });
    // About client support only: no spam score.
    const env = { SPAMASSASSIN_PATH: '/nonexistent/spamassassin' };
    const checked = await almanac(['check', '--root', root, '--now', '2026-04-14T09:00:00Z'], { env });
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /warning: templates\/email\/partials\/story\.hbs:3: client-support: expected features every client family supports, found background-image, not supported by Outlook Windows\n/);

    await writeFiles(root, { [STORY]: story.replace('<h3 class="title" style="', '<h3 class="title" style="display:flex;') });
    const refused = await almanac(['check', '--root', root, '--now', '2026-04-14T09:00:00Z'], { env });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /templates\/email\/partials\/story\.hbs:3: client-support: expected layout that every client family supports, found display:flex, not supported by Outlook Windows/);
  });
});
