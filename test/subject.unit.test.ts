// The subject line: the edition's prefix and the lead headline in at most 78 characters, shortened
// where a reader can still follow it (a clause, whole words, whole quoted phrases).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SUBJECT_MAX, composeSubject } from '../src/compose/subject.ts';

const codePoints = (s: string) => [...s].length;

describe('the subject line', () => {
  it('keeps a headline that fits, as written', () => {
    const s = composeSubject('Midweek', 12, 'Meta Introduces Muse Spark');
    assert.deepEqual(s, { text: 'Midweek #12: Meta Introduces Muse Spark', headline: 'Meta Introduces Muse Spark', shortened: false });
  });

  it('uses the first clause of a headline too long for the room', () => {
    const s = composeSubject('Midweek', 12, 'Meta Introduces Muse Spark, the First Model from Meta Superintelligence Labs, Available to Developers Today');
    assert.equal(s.text, 'Midweek #12: Meta Introduces Muse Spark');
    assert.equal(s.shortened, true);
    const colon = composeSubject('Sunday', 3, 'Anthropic ships a new model family: faster reasoning, longer context and a lower price for everyone');
    assert.equal(colon.text, 'Sunday #3: Anthropic ships a new model family');
  });

  it('otherwise shortens at a word boundary with "…"', () => {
    const s = composeSubject('Midweek', 12, 'Researchers find that large language models trained on synthetic data slowly forget rare facts about the world');
    assert.equal(s.text, 'Midweek #12: Researchers find that large language models trained on synthetic…');
    assert.ok(codePoints(s.text) <= SUBJECT_MAX);
  });

  it('never cuts inside a quoted phrase', () => {
    const s = composeSubject('Midweek', 12, 'Regulators question the lab about its “frontier model safety framework for open weights release”');
    assert.equal(s.text, 'Midweek #12: Regulators question the lab about its…');
    const clause = composeSubject('Midweek', 12, 'A judge rules on “fair use, training data, and the open web” in a case that could reshape the field');
    assert.equal(clause.text, 'Midweek #12: A judge rules on “fair use, training data, and the open web” in…');
  });

  it('cuts a word only when the first word alone is longer than the room', () => {
    const s = composeSubject('Midweek', 1, `Supercalifragilistic${'x'.repeat(80)} arrives`);
    assert.equal(codePoints(s.text), SUBJECT_MAX);
    assert.match(s.text, /^Midweek #1: Supercali.*x…$/);
  });
});

/** Headlines of words, long words, unicode, and quoted phrases whose marks come in pairs. */
const word = fc.oneof(
  fc.constantFrom('AI', 'model', 'Meta', 'open-source', 'ships', 'über', '中文模型', 'نموذج', '😀', '👩‍💻', 'e\u0301te\u0301', 'GPT-5', 'U.S.', "it's"),
  fc.string({ minLength: 1, maxLength: 90, unit: 'grapheme' }).map((w) => w.replace(/[\s"“”‘’«»„‹›「」『』]/gu, '') || 'x'),
);
const punctuated = fc.tuple(word, fc.constantFrom('', '', '', ',', ':', ';', '!', '?', ' —', ' -')).map(([w, p]) => w + p);
const phrase = fc.array(punctuated, { minLength: 1, maxLength: 6 }).map((ws) => ws.join(' '));
const quoted = fc.tuple(fc.constantFrom(['"', '"'], ['“', '”'], ['«', '»'], ['‘', '’']), phrase).map(([[o, c], p]) => `${o}${p}${c}`);
const headline = fc.array(fc.oneof({ weight: 4, arbitrary: punctuated }, { weight: 1, arbitrary: quoted }), { minLength: 1, maxLength: 30 }).map((parts) => parts.join(' '));

const balanced = (s: string) =>
  (s.match(/"/g) ?? []).length % 2 === 0 &&
  [['“', '”'], ['«', '»'], ['‘', '’']].every(([o, c]) => (s.split(o!).length === s.split(c!).length));

describe('the subject line, for any headline', () => {
  it('is at most 78 code points, keeps the prefix, ends on a whole word and leaves no quote open', () => {
    fc.assert(
      fc.property(fc.constantFrom('Midweek', 'Sunday', 'Monthly Digest'), fc.integer({ min: 1, max: 9999 }), headline, (label, n, title) => {
        const prefix = `${label} #${n}: `;
        const { text, shortened, headline: line } = composeSubject(label, n, title);
        assert.ok(codePoints(text) <= SUBJECT_MAX, `${codePoints(text)}: ${text}`);
        assert.ok(text.startsWith(prefix), text);
        assert.equal(shortened, text !== `${prefix}${line}`);
        assert.ok(balanced(text), `quotes open in ${text}`);
        const kept = text.slice(prefix.length).replace(/…[”"»’]?$/u, '');
        const firstWord = line.split(' ')[0]!;
        // Unless the first word alone is longer than the room, what is kept ends where a word of the headline ends.
        if (shortened && codePoints(firstWord) + 1 < SUBJECT_MAX - codePoints(prefix)) {
          const next = line.slice(kept.length);
          assert.ok(line.startsWith(kept), `${kept} is not the start of ${line}`);
          // Only the punctuation dropped before the cut may lie between it and the next space.
          assert.match(next, /^[,;:.!?–—-]*( |$)/u, `cut mid-word: ${JSON.stringify(kept)} | ${JSON.stringify(next.slice(0, 20))}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('check says when the subject was shortened', () => {
  it('a warning names the subject sent and the headline it came from', async () => {
    const { tempSite, writeFiles } = await import('./helpers/cli.ts');
    const { almanac } = await import('./helpers/in-process.ts');
    const root = await tempSite();
    const title = 'Meta Introduces Muse Spark, the First Model from Meta Superintelligence Labs, Available to Developers Today';
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', from: 'The Letter <letters@example.org>' }),
      'content/news/a.md': `---\ntitle: ${title}\nurl: https://news.example.com/a\nsource: Wire\npublished: 2026-04-13T08:00:00Z\nscore: 7\n---\nA summary.\n`,
    });
    const run = await almanac(['check', '--root', root, '--now', '2026-04-14T06:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /subject[^\n]*shortened to “Midweek #1: Meta Introduces Muse Spark”/);
  });
});
