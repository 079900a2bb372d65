// Every line of an issue's text part is at most 78 characters, except a link alone on its line
// (a broken link no longer works), whatever the stories' titles, summaries, outlets and links hold.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildCatalog } from '../src/compose/catalog.ts';
import { composeIssue, type IssueGuide, type IssueStory } from '../src/compose/issue.ts';
import { loadSite } from '../src/content/load.ts';
import type { Config } from '../src/content/config-schema.ts';
import { emailView, type IssueMeta } from '../src/render/email.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { personalise } from '../src/render/tokens.ts';
import { linkAlone } from '../src/render/wrap.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';

/** Words as news text has them: short and long, unicode, links, and text without spaces. */
const word = fc.oneof(
  fc.constantFrom('AI', 'model', 'über', 'ships', '—', '😀', '👩‍💻', 'e\u0301te\u0301', '中文模型发布会', 'نموذج', 'a/b', '(see'),
  fc.string({ minLength: 1, maxLength: 120, unit: 'grapheme' }),
  fc.webUrl({ withQueryParameters: true, withFragments: true }).map((u) => `${u}/${'x'.repeat(u.length % 90)}`),
);
const text = (max: number) => fc.array(word, { minLength: 1, maxLength: max }).map((ws) => ws.join(' '));
const url = fc.webUrl({ withQueryParameters: true }).chain((u) => fc.nat(160).map((n) => `${u.replace(/\/?$/, '/')}${'p'.repeat(n)}`));

const story = (i: number) =>
  fc.record({ title: text(20), summary: text(60), source: text(6), url, also: fc.array(fc.record({ source: text(4), url }), { maxLength: 3 }), score: fc.integer({ min: 1, max: 10 }) }).map(
    (s): IssueStory => ({ ...s, id: `s${i}`, topic: 'Topic', published: Date.parse('2026-04-13T08:00:00Z'), alsoMore: s.also.length ? 2 : 0 }),
  );
const guide = fc.record({ title: text(12), tldr: text(30), slug: fc.constantFrom('g', 'a-guide-with-a-slug-long-enough-to-push-its-link-past-the-end-of-a-line-x') }).map(
  (g): IssueGuide => ({ ...g, level: 'beginner', version: 2, published: Date.parse('2026-04-14T08:00:00Z'), label: 'Updated · v2', kind: 'updated' }),
);

describe('the text part, for any stories', () => {
  let base: IssueMeta;
  let config: Config;
  let templates: TemplateSet;
  before(async () => {
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org/a-path-long-enough/that-the-issue-links/run-past-the-edge' }),
      'content/news/a.md': '---\ntitle: A story\nurl: https://news.example.com/a\nsource: Wire\npublished: 2026-04-17T08:00:00Z\nscore: 7\n---\nA summary.\n',
    });
    const site = await loadSite(root);
    config = site.config;
    templates = await TemplateSet.load(root, 'email');
    const composed = composeIssue(site, buildCatalog(site), 'sunday', '2026-04-19');
    assert.ok(composed.ok);
    base = { ...composed.issue, id: '2026-04-19-sunday', number: 1, subject: 'Sunday #1: A story', preheader: '' };
  });

  it('has lines of at most 78 characters, but for a link alone on its line', () => {
    fc.assert(
      fc.property(story(0), fc.array(story(1), { maxLength: 3 }), fc.array(guide, { maxLength: 2 }), text(8), (top, more, guides, topic) => {
        const issue: IssueMeta = { ...base, top, groups: more.length ? [{ topic, stories: more }] : [], guides, weekGuides: guides, weekGuidesMore: guides.length };
        // A reader's own links are long signed addresses.
        const sent = personalise(templates.render('issue.txt', emailView(config, issue)), {
          unsubscribe: `${config.baseUrl}/unsubscribe?token=${'t'.repeat(120)}`,
          preferences: `${config.baseUrl}/preferences?token=${'t'.repeat(120)}`,
          name: 'Reader',
        });
        const long = sent.split('\n').filter((l) => [...l].length > 78 && !linkAlone(l));
        assert.deepEqual(long, []);
      }),
      { numRuns: 150 },
    );
  });

  it('a link alone on its line means nothing else on it', () => {
    const link = `https://example.com/${'a'.repeat(80)}`;
    assert.ok(linkAlone(link) && linkAlone(`  ${link}`) && linkAlone(`(${link}).`));
    assert.ok(!linkAlone(`Read: ${link}`) && !linkAlone(`Unsubscribe: ${link}`) && !linkAlone(`${link} and more`));
  });
});

describe('the text-wrap check (EMAIL-CHECKS 18)', () => {
  it('warns of a long line with text beside its link, not of a link alone', async () => {
    const { checkMessage } = await import('../src/mail/checks.ts');
    const link = `https://news.example.com/${'a'.repeat(70)}`;
    const wrapWarnings = async (text: string) => {
      const mime = Buffer.from(['Subject: x', 'Content-Type: text/plain; charset=utf-8', '', text, ''].join('\r\n'));
      const findings = await checkMessage({ mime, unpersonalised: { html: '', text }, placeholders: { unsubscribe: 'u', preferences: 'p' }, sample: { unsubscribe: '', preferences: '' }, webUrl: '', contentText: '' });
      return findings.filter((f) => f.check === 'text-wrap').length;
    };
    assert.equal(await wrapWarnings(`Read:\n${link}\n`), 0);
    assert.equal(await wrapWarnings(`Read: ${link}\n`), 1);
  });
});
