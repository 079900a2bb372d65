// Text contrast in the light and the authored dark scheme: the WCAG ratio itself, and the colours a
// run of text gets from inline styles, <style> rules, dark media rules and the backgrounds behind it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'node-html-parser';
import { contrastRatio, parseColour, type Rgba } from '../src/mail/colour.ts';
import { contrastPairs, lowContrast } from '../src/mail/contrast.ts';

const colour = fc.record({ r: fc.integer({ min: 0, max: 255 }), g: fc.integer({ min: 0, max: 255 }), b: fc.integer({ min: 0, max: 255 }), a: fc.constant(1) });
const c = (s: string): Rgba => parseColour(s)!;

describe('the contrast ratio', () => {
  it('is symmetric and lies between 1 and 21', () => {
    fc.assert(
      fc.property(colour, colour, (x, y) => {
        const r = contrastRatio(x, y);
        assert.equal(r, contrastRatio(y, x));
        assert.ok(r >= 1 && r <= 21, String(r));
      }),
    );
  });

  it('is 1 for a colour against itself', () => {
    fc.assert(fc.property(colour, (x) => assert.equal(contrastRatio(x, x), 1)));
  });

  it('gives the known pairs', () => {
    assert.equal(contrastRatio(c('#000'), c('#fff')), 21);
    assert.equal(contrastRatio(c('black'), c('rgb(255, 255, 255)')), 21);
    // WebAIM's checker: #767676 on white is the lightest grey that passes 4.5:1.
    assert.equal(contrastRatio(c('#767676'), c('#ffffff')).toFixed(2), '4.54');
    assert.equal(contrastRatio(c('#777777'), c('#ffffff')).toFixed(2), '4.48');
  });

  it('reads the colour forms templates write and refuses the rest', () => {
    assert.deepEqual(c('#abc'), { r: 0xaa, g: 0xbb, b: 0xcc, a: 1 });
    assert.deepEqual(c('rgba(10, 20, 30, 0.5)'), { r: 10, g: 20, b: 30, a: 0.5 });
    assert.deepEqual(c('rgb(10 20 30 / 50%)'), { r: 10, g: 20, b: 30, a: 0.5 });
    assert.equal(parseColour('var(--ink)'), undefined);
    assert.equal(parseColour('#12'), undefined);
  });
});

const FIXTURE = `<!doctype html><html><head>
<meta name="color-scheme" content="light dark">
<style>
  .note { color: #333333; }
  .title a:hover { color: #eeeeee !important; }
  @media (prefers-color-scheme: dark) {
    .card, .card td { background: #1d1c19 !important; }
    .card .body { color: #ece9e2 !important; }
    .faint { color: #444444 !important; }
  }
  [data-ogsc] .ogsc { color: #222222 !important; }
</style></head>
<body style="background-color:#f3efe6">
  <div style="display:none;color:#ffffff">hidden preheader</div>
  <table class="card" role="presentation" bgcolor="#ffffff"><tr><td>
    <div class="body" style="color:#1c1b19;font-size:16px">Body text</div>
    <p class="note" style="font-size:14px">A note <span style="color:#aaaaaa">and a faint aside</span></p>
    <p class="faint" style="color:#5c5a55">Faint in the dark</p>
    <p class="ogsc" style="color:#5c5a55">Outlook app dark</p>
    <h1 style="color:#949494;font-size:24px">A large heading</h1>
    <p style="color:#949494;font-size:19px;font-weight:700">Bold, 19 px</p>
    <p style="color:#949494;font-size:18px;font-weight:700">Bold, 18 px</p>
    <p class="title"><a href="https://x.example/" style="color:#1c1b19">A title link</a></p>
  </td></tr></table>
</body></html>`;

describe('contrast on a document', () => {
  const pairs = contrastPairs(parse(FIXTURE, { comment: true }));
  const find = (scheme: string, text: string) => {
    const p = pairs.find((x) => x.scheme === scheme && x.text.startsWith(text));
    assert.ok(p, `${scheme} ${text} in ${JSON.stringify(pairs.map((x) => `${x.scheme}:${x.text}`))}`);
    return p;
  };

  it('resolves inline styles, the bgcolor behind them and !important dark rules', () => {
    assert.deepEqual([find('light', 'Body text').colour, find('light', 'Body text').background], ['#1c1b19', '#ffffff']);
    assert.deepEqual([find('dark', 'Body text').colour, find('dark', 'Body text').background], ['#ece9e2', '#1d1c19']);
  });

  it('lets an inline colour beat a class rule, and a child inherit its parent', () => {
    const note = find('light', 'A note and');
    assert.equal(note.colour, '#333333'); // no inline colour on the <p>: the class rule applies
    assert.equal(find('light', 'and a faint').colour, '#aaaaaa');
  });

  it('ignores hidden text and :hover rules', () => {
    assert.equal(pairs.find((p) => p.text.startsWith('hidden')), undefined);
    assert.equal(find('dark', 'A title link').colour, '#1c1b19');
  });

  it('applies [data-ogsc] rules in the dark scheme only', () => {
    assert.equal(find('light', 'Outlook app dark').colour, '#5c5a55');
    assert.equal(find('dark', 'Outlook app dark').colour, '#222222');
  });

  it('asks 3:1 of large text (24 px, or 18.66 px bold) and 4.5:1 of the rest', () => {
    assert.equal(find('light', 'A large heading').required, 3);
    assert.equal(find('light', 'Bold, 19 px').required, 3);
    assert.equal(find('light', 'Bold, 18 px').required, 4.5);
  });

  it('names what fails, with both colours and the ratio', () => {
    const low = lowContrast(parse(FIXTURE, { comment: true })).map((p) => `${p.scheme} ${p.element} ${p.text} ${p.colour} on ${p.background} ${p.ratio.toFixed(2)}`);
    assert.deepEqual(low.sort(), [
      'dark <a> in .title A title link #1c1b19 on #1d1c19 1.01',
      'dark <p.faint> Faint in the dark #444444 on #1d1c19 1.75',
      'dark <p.note> A note and a faint aside #333333 on #1d1c19 1.35',
      'dark <p.ogsc> Outlook app dark #222222 on #1d1c19 1.07',
      'light <p> in .card Bold, 18 px #949494 on #ffffff 3.03',
      'light <span> in .note and a faint aside #aaaaaa on #ffffff 2.32',
    ]);
  });
});
