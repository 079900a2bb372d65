// "What changed since vN-1" on a built site: on every version page after v1 and never on v1, linked
// from the versions list, announced in the guides feed, the same bytes on every build, and made of
// the partial's own markup only, whatever the guide's Markdown and HTML hold.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, type HTMLElement } from 'node-html-parser';
import type { GuideDiff } from '../src/compose/guide-diff.ts';
import { configSchema } from '../src/content/config-schema.ts';
import { guideSchema } from '../src/content/guide-schema.ts';
import { loadSite } from '../src/content/load.ts';
import type { GuideVersion, Site } from '../src/content/model.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { sitePages } from '../src/site/pages.ts';
import { rememberVersionDiffs, versionDiff, type ResultCache } from '../src/site/version-diff.ts';
import { NOW, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const EVIL = '<script>alert(1)</script><img src=x onerror=alert(1)>';

const front = (extra: string) => `---
title: "Tidal Power"
level: beginner
topics: [Energy]
tldr: "Power from the tides."
${extra}
---
`;

const V1 = `${front(`takeaways:
  - Tides are predictable.
  - Barrages are costly.
timeline:
  - { date: 1966, event: "La Rance opens" }
faq:
  - q: Is it renewable?
    a: Yes.`)}
## How it works

Water flows through turbines as the tide rises and falls.

It is reliable.

## Old sites

La Rance in France.
`;

const V2 = `${front(`takeaways:
  - Tides are predictable.
  - "Lagoons ${EVIL} are cheaper"
timeline:
  - { date: 1966, event: "La Rance opens" }
  - { date: 2026, event: "Swansea approved" }
faq:
  - q: Is it renewable?
    a: "Yes, and ${EVIL} steady."
  - q: "Where ${EVIL}?"
    a: Coasts.`)}
## How it works

Water flows through bidirectional turbines as the tide rises and falls \`${EVIL}\`.

It is reliable.

## New projects ${EVIL}

${EVIL}

A lagoon in Swansea with an unbreakablewordthatgoesonandonandonandonandonandonandonandonandonandonandon.
`;

/** Markup the what-changed partial writes: nothing from the guide can add another element or attribute. */
const TAGS = new Set(['section', 'h2', 'h3', 'p', 'a', 'span', 'ins', 'del', 'div', 'ul', 'li', 'dl', 'dt', 'dd', 'pre', 'code']);
const ATTRIBUTES = new Set(['class', 'id', 'href', 'aria-labelledby']);

function onlyOwnMarkup(section: HTMLElement, slug = 'tidal-power'): void {
  for (const el of section.querySelectorAll('*')) {
    assert.ok(TAGS.has(el.tagName.toLowerCase()), `unexpected <${el.tagName}> in what changed`);
    for (const name of Object.keys(el.attributes)) assert.ok(ATTRIBUTES.has(name), `unexpected attribute ${name} on <${el.tagName}>`);
    const href = el.getAttribute('href');
    if (href !== undefined) assert.ok(/^#[a-z0-9-]+$/.test(href) || href === `../../guides/${slug}/v1.html`, href);
  }
}

async function site(): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://almanac.example.org' }), 'content/guides/tidal-power/guide.md': V1 });
  const publish = async (note: string, at: string) => {
    const r = await almanac(['guide', 'publish', 'tidal-power', '--note', note, '--root', root, '--now', at]);
    assert.equal(r.code, 0, r.stderr);
  };
  await publish('First edition', '2026-05-01T10:00:00Z');
  await writeFiles(root, { 'content/guides/tidal-power/guide.md': V2 });
  await publish(`Adds new projects ${EVIL}`, '2026-06-01T10:00:00Z');
  return root;
}

async function build(root: string, out: string): Promise<void> {
  const r = await almanac(['build', '--root', root, '--now', NOW, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
}

describe('what changed on version pages', () => {
  it('v2 shows what changed since v1, v1 shows none, the versions list links to it, and rebuilds give the same bytes', async () => {
    const root = await site();
    await build(root, 'dist');
    await build(root, 'again');
    const read = (out: string, rel: string) => readFile(path.join(root, out, rel), 'utf8');
    const v2 = await read('dist', 'guides/tidal-power/v2.html');
    assert.equal(await read('again', 'guides/tidal-power/v2.html'), v2, 'same content, same bytes');
    assert.equal(await read('dist', 'guides/tidal-power/index.html'), v2, 'the latest version is the guide page');

    const v1 = parse(await read('dist', 'guides/tidal-power/v1.html'));
    assert.equal(v1.querySelector('#what_changed'), null, 'v1 has nothing to compare with');

    const page = parse(v2);
    const section = page.querySelector('section#what_changed')!;
    assert.ok(section, 'v2 has the section');
    onlyOwnMarkup(section);
    assert.equal(section.querySelector('h2')!.textContent, 'What changed since v1');
    assert.equal(section.querySelector('.wc-note')!.textContent, `Editor’s note: Adds new projects ${EVIL}`);
    assert.equal(
      section.querySelector('.wc-summary')!.textContent,
      'Compared with v1: 1 section added, 1 section changed, 1 section removed, 1 takeaway added, 1 takeaway removed, 1 timeline entry added, 1 FAQ entry added, 1 FAQ answer changed.',
    );
    const items = section.querySelectorAll('.wc-item > h3').map((h) => h.textContent.replace(/\s+/g, ' ').trim());
    assert.deepEqual(items.slice(0, 3), ['Changed section How it works', 'Removed section Old sites', 'Added section New projects alert(1)']);
    // Inside the changed section: the edit word by word, the unchanged paragraph counted, not repeated.
    const changed = section.querySelectorAll('.wc-item')[0]!;
    assert.deepEqual(changed.querySelectorAll('ins').map((i) => i.textContent), ['[added: bidirectional ]', `[added:  ${EVIL}]`]);
    assert.match(changed.querySelector('.wc-unchanged')!.textContent, /1 unchanged passage/);
    assert.equal(changed.querySelector('h3 a')!.getAttribute('href'), '#how-it-works');
    assert.ok(page.querySelector('#how-it-works'), 'the link goes to the section on the same page');
    // Added and removed text say so in words, not colour alone.
    // (A removed section's struck-through heading has its badge, "Removed section", beside it.)
    for (const ins of section.querySelectorAll('.wc-item ins')) assert.match(ins.textContent, /^\[added: [^]*\]$/);
    for (const del of section.querySelectorAll('.wc-item del').filter((d) => d.parentNode?.tagName !== 'H3')) {
      assert.match(del.textContent, /^\[removed: [^]*\]$/);
    }
    const takeaways = section.querySelectorAll('.wc-entries li').map((li) => li.textContent);
    // Raw HTML in a takeaway is markup the page renders, so the comparison keeps only its text.
    assert.deepEqual(takeaways, ['[added: Lagoons alert(1) are cheaper]', '[removed: Barrages are costly.]', '[added: 2026: Swansea approved]']);

    // On the page that shows them, the link to this version's changes stays on the page.
    const versions = page.querySelectorAll('.versions li');
    assert.deepEqual(
      versions.map((li) => li.querySelector('.wc-link')?.getAttribute('href')),
      ['#what_changed', undefined],
    );
    assert.equal(versions[0]!.querySelector('.wc-link')!.textContent, 'What changed in v2');
    // The same list on v1's page links to v2's changes too.
    assert.equal(v1.querySelector('.versions .wc-link')!.getAttribute('href'), '../../guides/tidal-power/v2.html#what_changed');
  });

  it('the guides feed announces a new version with what changed and its note', async () => {
    const root = await site();
    await build(root, 'dist');
    const feed = JSON.parse(await readFile(path.join(root, 'dist/feeds/guides.json'), 'utf8'));
    const [item] = feed.items;
    assert.equal(item.url, 'https://almanac.example.org/guides/tidal-power/#what_changed');
    assert.equal(item.id, 'https://almanac.example.org/guides/tidal-power/v2.html', 'a new entry for each version');
    assert.equal(item.title, `Tidal Power (v2: Adds new projects ${EVIL})`);
    assert.equal(
      item.content_text,
      'What changed since v1: 1 section added, 1 section changed, 1 section removed, 1 takeaway added, 1 takeaway removed, 1 timeline entry added, 1 FAQ entry added, 1 FAQ answer changed.\n' +
        `Adds new projects ${EVIL}\n\nPower from the tides.`,
    );
    const atom = await readFile(path.join(root, 'dist/feeds/guides.atom'), 'utf8');
    assert.ok(atom.includes('<summary type="text">What changed since v1: '), 'Atom says it as text');
    assert.ok(!atom.includes('<script>'), 'markup in the note is escaped');
  });

  it('a rebuild takes each comparison from the build cache, by the two frozen texts\' hashes', async () => {
    const root = await site();
    const stored = new Map<string, unknown>();
    const asked: string[] = [];
    let computed = 0;
    const cache: ResultCache = {
      remember<T extends NonNullable<unknown>>(kind: string, input: string, compute: () => T): T {
        asked.push(`${kind} ${input}`);
        if (!stored.has(input)) {
          computed++;
          stored.set(input, compute());
        }
        return stored.get(input) as T;
      },
    };
    const first = await loadSite(root);
    rememberVersionDiffs(first, cache);
    const [v1, v2] = first.guides[0]!.versions;
    assert.deepEqual(asked, [`version-diff ${v1!.entry.sha256} ${v2!.entry.sha256}`]);
    assert.equal(computed, 1);
    // A fresh load (as the next build has) gets the stored comparison and computes nothing.
    const marker = { sections: [], takeaways: [], timeline: [], faq: [] } satisfies GuideDiff;
    stored.set(`${v1!.entry.sha256} ${v2!.entry.sha256}`, marker);
    const second = await loadSite(root);
    rememberVersionDiffs(second, cache);
    assert.equal(computed, 1);
    assert.equal(versionDiff(second.guides[0]!, second.guides[0]!.versions[1]!), marker);
    assert.equal(versionDiff(second.guides[0]!, second.guides[0]!.versions[0]!), undefined, 'v1 has nothing to compare with');
  });

  it('whatever Markdown and HTML two versions hold, what changed is only its own markup (property)', async () => {
    const root = await tempSite();
    const templates = await TemplateSet.load(root, 'site');
    const config = configSchema.parse({ baseUrl: 'https://almanac.example.org' });
    const piece = fc.constantFrom(
      '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '</section><section onclick=x>', '<!-- c -->', '"', "'", '&amp;', '&',
      '**bold**', '`<b>code</b>`', '[a](javascript:alert(1))', '{{x}}', '{{{x}}}', '\n\n', '\n## ', '\n```\n', '| a | b |\n|---|---|\n| 1 | 2 |\n',
      'word', 'Word two', '😀', '\u202e', '<ins>', '</del>', ' ',
    );
    const text = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
    const line = text.map((t) => t.replace(/\n/g, ' ').trim() || 'x');
    const version = (n: number, body: string, takeaway: string, answer: string): GuideVersion => {
      const doc = { front: guideSchema.parse({ title: 'T', level: 'beginner', topics: ['X'], tldr: 'S', takeaways: [takeaway], faq: [{ q: 'Q?', a: answer }] }), body };
      const published = Date.UTC(2026, 4, n);
      return { version: n, published, note: `${takeaway} ${n}`, file: `v${n}.md`, doc, entry: { version: n, published: new Date(published).toISOString(), note: 'n', sha256: String(n).repeat(64) } };
    };
    await fc.assert(
      fc.asyncProperty(text, text, line, line, line, async (before, after, takeaway, answer, other) => {
        const guide = { slug: 'g', file: 'g.md', working: version(2, after, takeaway, answer).doc, workingSha256: '2'.repeat(64), versions: [version(1, before, other, other), version(2, after, takeaway, answer)] };
        const site: Site = { root, config, guides: [guide], news: [] };
        const page = sitePages(site, Date.parse(NOW)).pages.find((p) => p.file === 'guides/g/index.html')!;
        let html = '';
        templates.renderAll([page], (_paths, rendered) => (html = rendered));
        const section = parse(html).querySelector('section#what_changed')!;
        assert.ok(section);
        onlyOwnMarkup(section, 'g');
      }),
      { numRuns: Number(process.env.PROPS_RUNS ?? 100), seed: 20261207 },
    );
  });
});
