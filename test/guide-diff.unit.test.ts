// What changed between two versions of a guide: the comparison as data (compose/guide-diff.ts) and
// from Markdown (render/guide-outline.ts). A guide compared with itself has no change; either version
// can be read back from the comparison; the same two versions always give the same comparison.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  diffGuides,
  diffText,
  hasChanges,
  summariseChanges,
  type BlockChange,
  type GuideDiff,
  type GuideOutline,
  type OutlineSection,
  type TextPart,
} from '../src/compose/guide-diff.ts';
import { guideSchema } from '../src/content/guide-schema.ts';
import type { GuideDoc } from '../src/content/model.ts';
import { guideOutline } from '../src/render/guide-outline.ts';

// Pure and quick: the same number of runs everywhere.
const RUNS = 150;
const SEED = 20261207;

/** Plain objects, as the outline of a document is, so that they compare equal to what is read back. */
const NO_NULL = { noNullPrototype: true } as const;
// Few distinct words, so that two texts share runs and the comparison has edits to find.
const word = fc.constantFrom('open', 'weights', 'Llama', 'model', 'the', 'a', 'runs', 'fast', '<b>', '&amp;', 'naïve', '😀');
const sentence = fc.array(word, { minLength: 1, maxLength: 12 }).map((w) => w.join(' '));
const block = fc.record({ kind: fc.constantFrom('prose' as const, 'code' as const), text: sentence }, NO_NULL);
const sectionId = fc.constantFrom('', 'intro', 'what-it-is', 'why', 'how', 'faq-ish', 'history');
const sections = fc
  .uniqueArray(fc.record({ id: sectionId, title: sentence, blocks: fc.array(block, { maxLength: 5 }) }, NO_NULL), { selector: (s) => s.id, maxLength: 6 })
  .map((list) => list as OutlineSection[]);
const outline: fc.Arbitrary<GuideOutline> = fc.record({
  title: sentence,
  tldr: sentence,
  sections,
  takeaways: fc.array(sentence, { minLength: 1, maxLength: 4 }),
  timeline: fc.array(sentence, { maxLength: 4 }),
  // Questions from a short list, so that one is now and then asked twice, as a careless editor might.
  faq: fc.array(fc.record({ q: fc.constantFrom('Why?', 'How?', 'When?'), a: sentence }, NO_NULL), { maxLength: 4 }),
}, NO_NULL);

/** One side of a run of text parts: the older text (without what was added) or the newer one. */
const side = (parts: readonly TextPart[], drop: 'added' | 'removed') =>
  parts.filter((p) => p.op !== drop).map((p) => p.text).join('');

function blockSide(blocks: readonly BlockChange[], drop: 'added' | 'removed') {
  return blocks.flatMap((b) => {
    if (b.op === 'changed') return [{ kind: b.kind, text: side(b.parts, drop) }];
    return b.op === drop ? [] : [{ kind: b.kind, text: b.text }];
  });
}

/** Either version's sections read back from the comparison: ids, titles and blocks. */
function sectionsSide(diff: GuideDiff, drop: 'added' | 'removed') {
  return diff.sections
    .filter((s) => s.op !== drop)
    .map((s) => ({ id: s.id, title: drop === 'added' ? (s.oldTitle ?? s.title) : s.title, blocks: blockSide(s.blocks, drop) }));
}

const doc = (body: string, front: Partial<Record<string, unknown>> = {}): GuideDoc => ({
  front: guideSchema.parse({ title: 'T', level: 'beginner', topics: ['X'], tldr: 'Short.', takeaways: ['One'], ...front }),
  body,
});

describe('guide diff', () => {
  it('a guide compared with itself has no change (property)', () => {
    fc.assert(
      fc.property(outline, (a) => {
        const diff = diffGuides(a, structuredClone(a));
        assert.equal(hasChanges(diff), false);
        assert.equal(summariseChanges(diff), 'no change to the text');
        assert.ok(diff.sections.every((s) => s.op === 'same' && !s.moved));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('either version can be read back from the comparison, in its order (property)', () => {
    fc.assert(
      fc.property(outline, outline, (a, b) => {
        const diff = diffGuides(a, b);
        // The newer version: every section not removed, in its own order, with its own blocks.
        assert.deepEqual(sectionsSide(diff, 'removed'), b.sections);
        // The older version: every section not added, with its own blocks (a moved one where it is now).
        const older = sectionsSide(diff, 'added');
        const byId = (list: readonly { id: string }[]) => [...list].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
        assert.deepEqual(byId(older), byId(a.sections));
        if (!diff.sections.some((s) => s.moved)) assert.deepEqual(older, a.sections);
        for (const [list, from, to] of [[diff.takeaways, a.takeaways, b.takeaways], [diff.timeline, a.timeline, b.timeline]] as const) {
          assert.deepEqual(list.filter((e) => e.op !== 'added').map((e) => e.text), from);
          assert.deepEqual(list.filter((e) => e.op !== 'removed').map((e) => e.text), to);
        }
        assert.deepEqual(diff.faq.filter((f) => f.op !== 'removed').map((f) => ({ q: f.q, a: side(f.parts, 'removed') })), b.faq);
        // The older entries, question and answer, each once (a moved one where it is now).
        const entries = (list: readonly { q: string; a: string }[]) => list.map((f) => JSON.stringify([f.q, f.a])).sort();
        assert.deepEqual(entries(diff.faq.filter((f) => f.op !== 'added').map((f) => ({ q: f.q, a: side(f.parts, 'added') }))), entries(a.faq));
        assert.equal(side(diff.title ?? [{ op: 'same', text: b.title }], 'removed'), b.title);
        assert.equal(side(diff.tldr ?? [{ op: 'same', text: a.tldr }], 'added'), a.tldr);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('the same two versions give the same comparison and summary (property)', () => {
    fc.assert(
      fc.property(outline, outline, (a, b) => {
        const first = diffGuides(a, b);
        const again = diffGuides(structuredClone(a), structuredClone(b));
        assert.equal(JSON.stringify(again), JSON.stringify(first));
        assert.equal(summariseChanges(again), summariseChanges(first));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('word changes join back into each side exactly, whitespace and all (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', 'é', '<', '&', '😀', 'ab') });
    fc.assert(
      fc.property(text, text, (a, b) => {
        const parts = diffText(a, b);
        assert.equal(side(parts, 'added'), a);
        assert.equal(side(parts, 'removed'), b);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('from Markdown: sections by heading, a reworded paragraph marked word by word, entries added and removed', () => {
    const v1 = doc('Intro text.\n\n## What it is\n\nLlama is an open model.\n\nIt runs on one GPU.\n\n## Old part\n\nGone soon.\n', {
      takeaways: ['One', 'Two'],
      timeline: [{ date: '2025-04', event: 'Released' }],
      faq: [{ q: 'Free?', a: 'Yes, mostly.' }],
    });
    const v2 = doc('Intro text.\n\n## What it is\n\nLlama is an open-weights model family.\n\nIt runs on one GPU.\n\n## New part\n\n```\nnpm install llama\n```\n', {
      takeaways: ['One', 'Three'],
      timeline: [{ date: '2025-04', event: 'Released' }, { date: '2026-06', event: 'Behemoth *announced*' }],
      faq: [{ q: 'Free?', a: 'Yes, for most uses.' }],
    });
    const diff = diffGuides(guideOutline(v1), guideOutline(v2));
    assert.deepEqual(
      diff.sections.map((s) => [s.op, s.id, s.title]),
      [['same', '', ''], ['changed', 'what-it-is', 'What it is'], ['removed', 'old-part', 'Old part'], ['added', 'new-part', 'New part']],
    );
    const changed = diff.sections[1]!.blocks;
    assert.deepEqual(changed.map((b) => b.op), ['changed', 'same']);
    const edit = changed[0]!;
    assert.ok(edit.op === 'changed');
    assert.deepEqual(edit.parts.filter((p) => p.op !== 'same').map((p) => [p.op, p.text]), [['added', '-weights'], ['added', ' family']]);
    assert.equal(side(edit.parts, 'added'), 'Llama is an open model.');
    assert.equal(side(edit.parts, 'removed'), 'Llama is an open-weights model family.');
    assert.deepEqual(diff.sections[3]!.blocks, [{ op: 'added', kind: 'code', text: 'npm install llama' }]);
    assert.deepEqual(diff.takeaways.map((t) => [t.op, t.text]), [['same', 'One'], ['removed', 'Two'], ['added', 'Three']]);
    // Entries are compared as the reader sees them: emphasis is not text.
    assert.deepEqual(diff.timeline.filter((t) => t.op === 'added').map((t) => t.text), ['2026-06: Behemoth announced']);
    assert.equal(diff.faq[0]!.op, 'changed');
    assert.equal(
      summariseChanges(diff),
      '1 section added, 1 section changed, 1 section removed, 1 takeaway added, 1 takeaway removed, 1 timeline entry added, 1 FAQ answer changed',
    );
  });

  it('a paragraph rewritten through and through is one removed and one added, not a tangle of edits', () => {
    const diff = diffGuides(guideOutline(doc('## S\n\nAlpha beta gamma delta.\n')), guideOutline(doc('## S\n\nEntirely different words here now.\n')));
    assert.deepEqual(diff.sections[0]!.blocks.map((b) => b.op), ['removed', 'added']);
  });

  it('a paragraph or code block only added to is an edit that marks just what was added', () => {
    const diff = diffGuides(
      guideOutline(doc('## S\n\nShort.\n\n```\nrun();\n```\n')),
      guideOutline(doc('## S\n\nShort. And a much longer second sentence that follows it.\n\n```\nrun();\nconst x = compute(a, b, c, d, e, f, g);\n```\n')),
    );
    const blocks = diff.sections[0]!.blocks;
    assert.deepEqual(blocks.map((b) => [b.op, b.kind]), [['changed', 'prose'], ['changed', 'code']]);
    for (const b of blocks) {
      assert.ok(b.op === 'changed');
      assert.deepEqual(b.parts.map((p) => p.op), ['same', 'added']);
    }
  });

  it('Markdown and HTML in a guide become text in its outline: no tag, no link target survives', () => {
    const hostile = doc(
      '## <img src=x onerror=alert(1)> Heading\n\n<script>alert(1)</script>\n\nA [link](https://evil.example/x) and **bold** and `<b>code</b>` and ![alt text](x.png).\n\n| a | <i>b</i> |\n|---|---|\n| 1 | 2 |\n',
      { takeaways: ['<iframe src=x></iframe> ok'], faq: [{ q: 'Q <b>?', a: '<svg onload=alert(1)> a' }] },
    );
    const o = guideOutline(hostile);
    const texts = [...o.sections.flatMap((s) => [s.title, ...s.blocks.filter((b) => b.kind === 'prose').map((b) => b.text)]), ...o.takeaways, o.faq[0]!.a];
    for (const t of texts) assert.doesNotMatch(t, /<(img|script|iframe|svg|i)\b|evil\.example/i, t);
    assert.deepEqual(o.sections.map((s) => s.title), ['Heading']);
    assert.deepEqual(o.sections[0]!.blocks, [
      { kind: 'prose', text: 'alert(1)' },
      { kind: 'prose', text: 'A link and bold and <b>code</b> and alt text.' },
      { kind: 'prose', text: 'a | b' },
      { kind: 'prose', text: '1 | 2' },
    ]);
  });
});
