// Social cards and structured data with whatever a title holds: the card's SVG stays one well-formed
// document with the title as text, and JSON-LD stays one script whose JSON reads back as written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseHtml } from 'parse5';
import sharp from 'sharp';
import { CARD_HEIGHT, CARD_WIDTH, cardSvg, wrapTitle } from '../src/site/social-card.ts';
import { collectionJsonLd } from '../src/site/structured-data.ts';
import type { PageContext } from '../src/site/page-context.ts';
import { createHandlebars } from '../src/render/handlebars.ts';
import { leadImages } from '../src/issue/lead-images.ts';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { png } from './helpers/images.ts';
import { placeFigures } from '../src/site/figures.ts';
import { FIGURE_MARK } from '../src/render/markdown.ts';

const HOSTILE = ['</script>', '<script>alert(1)</script>', ']]>', '<!--', '&amp;', '"', "'", '<', '>', '&', '\u2028', '\u0000', '\ud800', '🦙', 'ﷺ', 'Ünïcödé', '\u202e', '<svg onload=x>'];
const title = fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 12 }).map((parts) => parts.join(' '));

/** The text of the card's elements, in document order, and every element name it has. */
function svgParts(svg: string): { names: Set<string>; texts: string[] } {
  const doc = new XMLParser({ ignoreAttributes: false, preserveOrder: true, processEntities: true, htmlEntities: false, trimValues: false }).parse(svg) as unknown[];
  const names = new Set<string>();
  const texts: string[] = [];
  const walk = (nodes: unknown[]) => {
    for (const node of nodes as Record<string, unknown>[]) {
      for (const [key, value] of Object.entries(node)) {
        if (key === ':@') continue;
        if (key === '#text') texts.push(String(value));
        else {
          names.add(key);
          walk(value as unknown[]);
        }
      }
    }
  };
  walk(doc);
  return { names, texts };
}

describe('social cards', () => {
  it('the SVG is well-formed with any title, and holds it only as text', () => {
    fc.assert(
      fc.property(title, (t) => {
        const svg = cardSvg({ title: t, kicker: 'Guide · Beginner' });
        assert.equal(XMLValidator.validate(svg), true, svg);
        const { names } = svgParts(svg);
        assert.deepEqual([...names].sort(), ['rect', 'svg', 'text', 'tspan'].filter((n) => n !== 'tspan' || /\S/.test(t)));
      }),
      { numRuns: 300 },
    );
  });

  it('wraps a long title into lines that fit, at most four, the last cut with an ellipsis', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }), { maxLength: 40 }), (words) => {
        const lines = wrapTitle(words.join(' '), 26, 4);
        assert.ok(lines.length <= 4);
        for (const line of lines) assert.ok([...line].length <= 26, line);
      }),
    );
    const lines = wrapTitle('Llama 4: Scout, Maverick and the Still-Training Behemoth, and everything that came after it in a long list of releases', 26, 4);
    assert.equal(lines.length, 4);
    assert.match(lines[3]!, /…$/);
  });

  it('sharp draws the card at 1200 × 630 from a hostile title with emoji', async () => {
    const svg = cardSvg({ title: '</text><script>alert(1)</script> 🦙 Llama & “friends” \u0000', kicker: 'Guide · Advanced' });
    const meta = await sharp(await sharp(Buffer.from(svg)).png().toBuffer()).metadata();
    assert.deepEqual([meta.width, meta.height, meta.format], [CARD_WIDTH, CARD_HEIGHT, 'png']);
  });
});

describe('JSON-LD', () => {
  const ctx = { site: { config: { baseUrl: 'https://almanac.example', language: 'en', title: 'The </script> Almanac' } } } as unknown as PageContext;
  const render = createHandlebars().compile('<!doctype html><html><head><script type="application/ld+json">{{json this}}</script></head><body></body></html>');

  it('stays one script whose JSON reads back as written, whatever the titles', () => {
    fc.assert(
      fc.property(title, title, (name, item) => {
        const [collection, crumbs] = collectionJsonLd(ctx, { path: 'topics/x/', name, description: item }, [{ name: item, url: 'https://example.com/a' }], [{ name, path: 'topics/x/' }]);
        const html = render(collection);
        assert.ok(!/<\/script/i.test(html.slice(html.indexOf('>', html.indexOf('<script')) + 1, html.lastIndexOf('</script>'))), 'no closing tag inside');
        const doc = parseHtml(html);
        const head = doc.childNodes.find((n) => n.nodeName === 'html')!;
        const scripts = findAll(head, 'script');
        assert.equal(scripts.length, 1);
        const text = scripts[0]!.childNodes.map((c) => ('value' in c ? String(c.value) : '')).join('');
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(collection)));
        assert.equal((crumbs as { itemListElement: { name: string }[] }).itemListElement[1]!.name, name);
      }),
      { numRuns: 300 },
    );
  });
});

describe('email lead images', () => {
  it('are left out when the site is not https: mail clients refuse http images', async () => {
    const root = await tempSite();
    const bytes = await png(700, 350);
    await writeFiles(root, { 'content/guides/g/.keep': '' });
    await writeFile(path.join(root, 'content/guides/g/a.png'), bytes);
    const figure = { src: 'a.png', file: 'content/guides/g/a.png', alt: 'A chart', sha256: createHash('sha256').update(bytes).digest('hex'), format: 'png' as const };
    const catalog = { guides: [{ guide: { slug: 'g', versions: [{ version: 1, doc: { figures: [figure] } }] } }] };
    const guide = { slug: 'g', version: 1 };
    const at = (baseUrl: string) => ({ root, config: { baseUrl } });
    // @ts-expect-error: only the fields lead images read
    assert.equal((await leadImages(at('http://localhost:4000'), catalog, [guide])).size, 0);
    // @ts-expect-error: only the fields lead images read
    const https = await leadImages(at('https://almanac.example'), catalog, [guide]);
    assert.deepEqual(https.get('g'), { src: `https://almanac.example/figures/${figure.sha256.slice(0, 16)}-700.png`, alt: 'A chart', width: 544, height: 272 });
  });
});

type Node = { nodeName: string; childNodes?: Node[] };
function findAll(node: Node, name: string): (Node & { childNodes: Node[] })[] {
  const out: (Node & { childNodes: Node[] })[] = [];
  if (node.nodeName === name) out.push(node as Node & { childNodes: Node[] });
  for (const child of node.childNodes ?? []) out.push(...findAll(child, name));
  return out;
}

describe('figure markup', () => {
  it('holds alt text and captions as text, whatever they say', () => {
    fc.assert(
      fc.property(title, title, (alt, caption) => {
        const figure = { src: 'a.png', file: 'content/guides/g/a.png', alt, caption: caption || undefined, sha256: 'b'.repeat(64), format: 'png' as const };
        const sizes = new Map([[figure.sha256, { width: 800, height: 400, widths: [480, 800], fallback: 'png' as const }]]);
        const html = placeFigures(`<p>before</p>\n${FIGURE_MARK}\n<p>after</p>\n`, [figure], sizes, '../../');
        const doc = parseHtml(`<!doctype html><html><body>${html}</body></html>`);
        const body = findAll(doc as unknown as Node, 'body')[0]!;
        const names = new Set<string>();
        const walk = (n: Node) => {
          if (!n.nodeName.startsWith('#')) names.add(n.nodeName);
          for (const c of n.childNodes ?? []) walk(c);
        };
        walk(body);
        assert.deepEqual([...names].sort(), ['body', 'figure', 'img', 'p', 'picture', 'source', ...(figure.caption ? ['figcaption'] : [])].sort());
        const img = findAll(body, 'img')[0] as unknown as { attrs: { name: string; value: string }[] };
        assert.equal(img.attrs.find((a) => a.name === 'alt')!.value, alt.replace(/\r\n?/g, '\n').replace(/\0/g, '\ufffd'));
      }),
      { numRuns: 300 },
    );
  });
});
