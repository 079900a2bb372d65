// A guide document as the plain text a reader sees, cut into `##` sections and blocks, for comparing
// two versions (compose/guide-diff.ts). Parsed with markdown-it as the page is, with the same anchor
// ids, so a section of the comparison links to the same section of the page; markup and raw HTML
// are dropped, since the comparison shows text only.
import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';
import type anchor from 'markdown-it-anchor';
import type { GuideOutline, OutlineBlock, OutlineSection } from '../compose/guide-diff.ts';
import type { GuideDoc } from '../content/model.ts';
import { slugify } from '../content/slug.ts';
import { headingEnv } from './heading-ids.ts';

type Token = ReturnType<MarkdownIt['parse']>[number];

const loadPackage = createRequire(import.meta.url);
let parser: MarkdownIt | undefined;

/** Loaded on first use: most builds compare no versions at all. */
function markdown(): MarkdownIt {
  if (parser) return parser;
  const Markdown = loadPackage('markdown-it') as typeof MarkdownIt;
  const anchors = loadPackage('markdown-it-anchor') as typeof anchor;
  // The options of the guide renderer (render/markdown.ts), so headings get the page's anchor ids.
  return (parser = new Markdown({ html: true, linkify: true, typographer: true }).use(anchors, {
    level: 2,
    slugify: (s: string) => slugify(s) || 'section',
    tabIndex: false,
  }));
}

const outlines = new WeakMap<GuideDoc, GuideOutline>();

/** The document's outline, made once per document. */
export function guideOutline(doc: GuideDoc): GuideOutline {
  let outline = outlines.get(doc);
  if (!outline) outlines.set(doc, (outline = makeOutline(doc)));
  return outline;
}

function makeOutline(doc: GuideDoc): GuideOutline {
  const { front } = doc;
  return {
    title: front.title,
    tldr: front.tldr,
    sections: bodySections(doc.body),
    takeaways: front.takeaways.map(inlineText),
    timeline: front.timeline.map((e) => `${e.date}: ${inlineText(e.event)}`),
    faq: front.faq.map((f) => ({ q: f.q, a: inlineText(f.a) })),
  };
}

function bodySections(body: string): OutlineSection[] {
  // The page's environment, so each section's anchor is the id its heading has on the page.
  const tokens = markdown().parse(body, headingEnv());
  const sections: OutlineSection[] = [{ id: '', title: '', blocks: [] }];
  let row: string[] | undefined;
  const push = (block: OutlineBlock) => {
    if (block.text) sections.at(-1)!.blocks.push(block);
  };
  tokens.forEach((token, i) => {
    if (token.type === 'heading_open' && token.tag === 'h2') {
      sections.push({ id: String(token.attrGet('id') ?? ''), title: textOf(tokens[i + 1]), blocks: [] });
    } else if (token.type === 'tr_open') {
      row = [];
    } else if (token.type === 'tr_close') {
      push({ kind: 'prose', text: row!.join(' | ') });
      row = undefined;
    } else if (token.type === 'inline') {
      const heading = tokens[i - 1];
      if (heading?.type === 'heading_open' && heading.tag === 'h2') return;
      if (row) row.push(textOf(token));
      else push({ kind: 'prose', text: textOf(token) });
    } else if (token.type === 'fence' || token.type === 'code_block') {
      push({ kind: 'code', text: token.content.replace(/\n+$/, '') });
    } else if (token.type === 'html_block') {
      push({ kind: 'prose', text: collapse(token.content.replace(/<[^>]*>/g, ' ')) });
    }
  });
  // Text before the first heading is a section only when there is some.
  return sections[0]!.blocks.length > 0 ? sections : sections.slice(1);
}

/** One line of inline Markdown as plain text. */
function inlineText(source: string): string {
  return textOf(markdown().parseInline(source, {})[0]);
}

/** The text of an inline token: words, code and image descriptions; no tags, no link targets. */
function textOf(token: Token | undefined): string {
  let text = '';
  for (const child of token?.children ?? []) {
    if (child.type === 'text' || child.type === 'code_inline') text += child.content;
    else if (child.type === 'image') text += child.content;
    else if (child.type === 'softbreak' || child.type === 'hardbreak') text += ' ';
  }
  return collapse(text);
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
