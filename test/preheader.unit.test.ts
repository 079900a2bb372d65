// The preheader's padding survives MJML for every length of visible text, and the check counts the
// characters the reader's client gets (entities decoded, one per code point).
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import { parse } from 'node-html-parser';
import { buildCatalog } from '../src/compose/catalog.ts';
import { composeIssue } from '../src/compose/issue.ts';
import { loadSite } from '../src/content/load.ts';
import type { Site } from '../src/content/model.ts';
import { checkIssueEmail } from '../src/issue/prepare.ts';
import { PREHEADER_WIDTH, emailView, renderEmail, type IssueMeta } from '../src/render/email.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

/** The characters the padding may use: invisible in every client. */
const FILL = new Set(['\u00a0', '\u200c', '\u200b', '\u200d', '\u200e', '\u200f', '\ufeff']);

/** Visible text of `length` code points, mixing what escapes or counts differently (`&`, `<`, quotes, emoji, RTL). */
function visibleText(length: number): string {
  const alphabet = ['A', 'b', ' ', '&', '<', '"', "'", '😀', 'ש', 'é', '—', 'z'];
  const chars: string[] = [];
  for (let i = 0; i < length; i++) chars.push(alphabet[(i * 7 + length) % alphabet.length]!);
  // The preheader is one trimmed line: no space at either end.
  chars[0] = 'P';
  if (length > 1) chars[length - 1] = '.';
  return chars.join('');
}

describe('the preheader padding', () => {
  let site: Site;
  let templates: TemplateSet;
  let base: IssueMeta;
  before(async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
      'content/news/a.md': '---\ntitle: A story\nurl: https://news.example.com/a\nsource: Wire\npublished: 2026-04-13T08:00:00Z\nscore: 7\n---\nA summary.\n',
    });
    site = await loadSite(root);
    templates = await TemplateSet.load(root, 'email');
    const composed = composeIssue(site, buildCatalog(site), 'midweek', '2026-04-15');
    assert.ok(composed.ok);
    base = { ...composed.issue, id: '2026-04-15-midweek', number: 1, subject: 'Midweek #1: A story', preheader: '' };
  });

  it('reaches 200 characters after MJML for every visible length from 1 to 230, and passes the check', async () => {
    const failures: string[] = [];
    for (let length = 1; length <= 230; length++) {
      const preheader = visibleText(length);
      const issue = { ...base, preheader };
      const email = await renderEmail(templates, emailView(site.config, issue));
      const hidden = parse(email.html).querySelector('body')!.childNodes.find((n) => n.nodeType === 1)!;
      const chars = [...hidden.textContent];
      const visible = chars.slice(0, length).join('');
      const pad = chars.slice(length);
      if (visible !== preheader) failures.push(`${length}: visible text changed to ${JSON.stringify(visible)}`);
      if (chars.length !== Math.max(PREHEADER_WIDTH, length)) failures.push(`${length}: ${chars.length} characters`);
      if (!pad.every((c) => FILL.has(c))) failures.push(`${length}: padding holds other characters`);
      // The whole check engine on the sent message, for every residue mod 7 twice and around the width.
      if (length <= 14 || length % 25 === 0 || (length >= 196 && length <= 202)) {
        const { findings } = await checkIssueEmail(site.config, issue, email);
        const errors = findings.filter((f) => f.severity === 'error');
        if (errors.length) failures.push(`${length}: ${errors.map((f) => `${f.check}: found ${f.found}`).join('; ')}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});

describe('issue build with a preheader whose padding ends on a trimmed character', () => {
  it('builds (the padding of 147 = 7 × 21 characters used to lose its last one)', async () => {
    const root = await tempSite();
    // Preheader "Also: <title>" of 53 characters: 147 characters of padding.
    const second = 'A second story whose title has 47 characters ok';
    assert.equal(second.length, 47);
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org' }),
      'content/news/a.md': '---\ntitle: The top story\nurl: https://news.example.com/a\nsource: Wire\npublished: 2026-04-13T08:00:00Z\nscore: 9\n---\nA summary.\n',
      'content/news/b.md': `---\ntitle: ${second}\nurl: https://news.example.com/b\nsource: Wire\npublished: 2026-04-13T09:00:00Z\nscore: 5\n---\nA summary.\n`,
    });
    const run = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '2026-04-15-midweek\n');
  });
});
