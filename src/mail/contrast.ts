// Text contrast of the rendered email (EMAIL-CHECKS 20), in the light scheme and in the dark scheme the
// author wrote (`@media (prefers-color-scheme: dark)` rules, and `[data-ogsc]`/`[data-ogsb]` rules as
// Outlook's apps apply them). Each run of text is measured against the nearest painted background
// behind it, with its colour inherited as a browser would: inline styles, then <style> rules by
// !important, specificity and order, then `bgcolor`. WCAG 2 asks for 4.5:1, or 3:1 for large text.
import * as csstree from 'css-tree';
import type { HTMLElement, Node } from 'node-html-parser';
import { contrastRatio, hex, over, parseColour, type Rgba } from './colour.ts';

export type Scheme = 'light' | 'dark';

export interface ContrastPair {
  scheme: Scheme;
  /** A short name for the element: its tag and classes, or the nearest ancestor's class. */
  element: string;
  /** Its tag, its own classes and those of the nearest ancestor that has any: to find it in a template. */
  tag: string;
  classes: string[];
  ancestorClasses: string[];
  /** The start of its text. */
  text: string;
  colour: string;
  background: string;
  ratio: number;
  /** The ratio it needs: 3 for large text, else 4.5. */
  required: number;
}

const WATCHED = new Set(['color', 'background-color', 'background', 'display', 'font-size', 'font-weight', 'opacity']);
const BOLD_TAGS = new Set(['b', 'strong', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'th']);
const HEADING_EM: Record<string, number> = { h1: 2, h2: 1.5, h3: 1.17, h4: 1, h5: 0.83, h6: 0.67 };
const SKIPPED_TAGS = new Set(['head', 'style', 'script', 'title', 'noscript']);

interface Declared {
  value: string;
  /** Compared in order: !important, inline, specificity, source order. */
  rank: [number, number, number, number];
}

type Styles = Map<HTMLElement, Map<string, Declared>>;

/** Every run of text in both schemes, with its colours and ratio. */
export function contrastPairs(doc: HTMLElement): ContrastPair[] {
  const rules = collectRules(doc);
  const darkDeclared = declaresDark(doc);
  const pairs: ContrastPair[] = [];
  const matched = matchRules(doc, rules);
  for (const scheme of ['light', 'dark'] as const) {
    const styles = cascade(doc, matched, scheme);
    const dark = scheme === 'dark' && darkDeclared;
    const canvas = parseColour(dark ? '#121212' : '#ffffff')!;
    const ink = parseColour(dark ? '#ffffff' : '#000000')!;
    walk(doc, styles, { scheme, dark, colour: ink, background: canvas, fontPx: 16, bold: false, label: '', labelClasses: [] }, pairs);
  }
  return pairs;
}

/** The pairs below the WCAG ratio for their size. */
export function lowContrast(doc: HTMLElement): ContrastPair[] {
  return contrastPairs(doc).filter((p) => p.ratio < p.required);
}

interface Rule {
  selector: string;
  specificity: number;
  order: number;
  scheme: Scheme | 'both';
  declarations: { property: string; value: string; important: boolean }[];
}

function collectRules(doc: HTMLElement): Rule[] {
  const rules: Rule[] = [];
  for (const style of doc.querySelectorAll('style')) {
    let ast: csstree.CssNode;
    try {
      ast = csstree.parse(style.textContent, { parseValue: false, parseCustomProperty: false });
    } catch {
      continue; // head-css reports CSS that does not parse
    }
    const media: string[] = [];
    csstree.walk(ast, {
      enter(node: csstree.CssNode) {
        if (node.type === 'Atrule' && node.name === 'media') media.push(node.prelude ? csstree.generate(node.prelude) : '');
        if (node.type !== 'Rule' || node.prelude.type !== 'SelectorList') return;
        const query = media.join(' and ');
        const mediaScheme = /prefers-color-scheme\s*:\s*dark/.test(query) ? 'dark' : /prefers-color-scheme\s*:\s*light/.test(query) ? 'light' : 'both';
        const declarations: Rule['declarations'] = [];
        node.block.children.forEach((d) => {
          if (d.type !== 'Declaration') return;
          const property = d.property.toLowerCase();
          if (WATCHED.has(property)) declarations.push({ property, value: csstree.generate(d.value).trim(), important: Boolean(d.important) });
        });
        if (!declarations.length) return;
        node.prelude.children.forEach((sel) => {
          if (sel.type !== 'Selector') return;
          let text = csstree.generate(sel);
          let scheme: Rule['scheme'] = mediaScheme;
          // Outlook's apps mark the document when they darken it; rules under that mark are dark ones.
          const marked = /^\s*\[data-og(sc|sb)\]\s*/.exec(text);
          if (marked) {
            text = text.slice(marked[0].length) || '*';
            scheme = 'dark';
          }
          // A state (hover, focus) or a pseudo-element is not how the text first shows.
          if (/:(?!root\b)/.test(text.replace(/\[[^\]]*\]/g, ''))) return;
          rules.push({ selector: text, specificity: specificity(sel), order: rules.length, scheme, declarations });
        });
      },
      leave(node: csstree.CssNode) {
        if (node.type === 'Atrule' && node.name === 'media') media.pop();
      },
    });
  }
  return rules;
}

function specificity(selector: csstree.Selector): number {
  let [a, b, c] = [0, 0, 0];
  csstree.walk(selector, (node) => {
    if (node.type === 'IdSelector') a++;
    else if (node.type === 'ClassSelector' || node.type === 'AttributeSelector' || node.type === 'PseudoClassSelector') b++;
    else if ((node.type === 'TypeSelector' && node.name !== '*') || node.type === 'PseudoElementSelector') c++;
  });
  return a * 10_000 + b * 100 + c;
}

/** Whether the document lets the client use a dark canvas at all (the meta or `color-scheme` CSS). */
function declaresDark(doc: HTMLElement): boolean {
  const meta = doc.querySelector('meta[name="color-scheme"]')?.getAttribute('content') ?? '';
  return /\bdark\b/.test(meta) || doc.querySelectorAll('style').some((s) => /color-scheme\s*:[^;}]*\bdark\b/.test(s.textContent));
}

/** The elements each rule selects: the same in both schemes, so looked up once. */
function matchRules(doc: HTMLElement, rules: Rule[]): { rule: Rule; elements: HTMLElement[] }[] {
  const out: { rule: Rule; elements: HTMLElement[] }[] = [];
  for (const rule of rules) {
    try {
      out.push({ rule, elements: doc.querySelectorAll(rule.selector) });
    } catch {
      // a selector the engine does not know cannot be judged here
    }
  }
  return out;
}

function cascade(doc: HTMLElement, matched: { rule: Rule; elements: HTMLElement[] }[], scheme: Scheme): Styles {
  const styles: Styles = new Map();
  const declare = (el: HTMLElement, property: string, value: string, rank: Declared['rank']) => {
    // `background` sets the background colour too (transparent when it names none).
    const prop = property === 'background' ? 'background-color' : property;
    const val = property === 'background' ? (backgroundColour(value) ?? 'transparent') : value;
    let own = styles.get(el);
    if (!own) styles.set(el, (own = new Map()));
    const held = own.get(prop);
    if (!held || outranks(rank, held.rank)) own.set(prop, { value: val, rank });
  };
  for (const el of doc.querySelectorAll('[bgcolor]')) declare(el, 'background-color', el.getAttribute('bgcolor')!, [0, 0, -1, 0]);
  for (const { rule, elements } of matched) {
    if (rule.scheme !== 'both' && rule.scheme !== scheme) continue;
    for (const el of elements) for (const d of rule.declarations) declare(el, d.property, d.value, [d.important ? 1 : 0, 0, rule.specificity, rule.order]);
  }
  for (const el of doc.querySelectorAll('[style]')) {
    for (const part of (el.getAttribute('style') ?? '').split(';')) {
      const colon = part.indexOf(':');
      if (colon < 0) continue;
      const property = part.slice(0, colon).trim().toLowerCase();
      if (!WATCHED.has(property)) continue;
      const raw = part.slice(colon + 1).trim();
      const important = /!\s*important\s*$/i.test(raw);
      declare(el, property, raw.replace(/!\s*important\s*$/i, '').trim(), [important ? 1 : 0, 1, 0, 0]);
    }
  }
  return styles;
}

function outranks(a: Declared['rank'], b: Declared['rank']): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true; // the later of two equal declarations wins
}

function backgroundColour(shorthand: string): string | undefined {
  return shorthand
    .replace(/url\([^)]*\)/g, ' ')
    .match(/rgba?\([^)]*\)|#[0-9a-f]+|[a-z]+/gi)
    ?.find((t) => parseColour(t));
}

interface Inherited {
  scheme: Scheme;
  dark: boolean;
  colour: Rgba;
  /** The nearest painted background, opaque. */
  background: Rgba;
  fontPx: number;
  bold: boolean;
  /** The nearest ancestor's class, to name an element that has none. */
  label: string;
  /** That ancestor's classes. */
  labelClasses: string[];
}

function walk(node: HTMLElement, styles: Styles, up: Inherited, out: ContrastPair[]): void {
  const tag = node.rawTagName?.toLowerCase() ?? '';
  if (SKIPPED_TAGS.has(tag)) return;
  const own = styles.get(node);
  const get = (p: string) => own?.get(p)?.value.trim().toLowerCase();
  if (get('display') === 'none' || (get('opacity') !== undefined && parseFloat(get('opacity')!) === 0)) return;

  const fontPx = fontSize(get('font-size'), up.fontPx, tag);
  const weight = get('font-weight');
  const bold = weight ? weight === 'bold' || weight === 'bolder' || parseInt(weight, 10) >= 700 : up.bold || BOLD_TAGS.has(tag);
  const declaredColour = get('color') && parseColour(get('color')!);
  // A link the template left uncoloured takes the browser's link colour, not its parent's.
  const linkDefault = tag === 'a' && !declaredColour ? parseColour(up.dark ? '#9e9eff' : '#0000ee') : undefined;
  const colour = declaredColour || linkDefault || up.colour;
  const ownBackground = get('background-color') && parseColour(get('background-color')!);
  const background = ownBackground && ownBackground.a > 0 ? over(ownBackground, up.background) : up.background;
  const classes = (node.getAttribute?.('class') ?? '').trim().split(/\s+/).filter((c) => c && !c.startsWith('mj-'));
  const name = tag ? `<${tag}${classes.map((c) => `.${c}`).join('')}>` : '';
  const here: Inherited = { ...up, colour, background, fontPx, bold, label: classes.length ? `.${classes[0]}` : up.label, labelClasses: classes.length ? classes : up.labelClasses };

  const text = node.childNodes
    .filter((n: Node) => n.nodeType === 3)
    .map((n) => n.text)
    .join('')
    .replace(/[\s\u00a0\u200b-\u200f\ufeff]+/g, ' ')
    .trim();
  if (text && tag && fontPx > 0) {
    const fg = over(colour, background);
    const large = fontPx >= 24 || (bold && fontPx >= 18.66);
    out.push({
      scheme: up.scheme,
      element: classes.length || !up.label ? name : `${name} in ${up.label}`,
      tag,
      classes,
      ancestorClasses: up.labelClasses,
      text: excerpt(node),
      colour: hex(fg),
      background: hex(background),
      ratio: contrastRatio(fg, background),
      required: large ? 3 : 4.5,
    });
  }
  for (const child of node.childNodes) if (child.nodeType === 1) walk(child as HTMLElement, styles, here, out);
}

function fontSize(value: string | undefined, parentPx: number, tag: string): number {
  const m = value && /^([\d.]+)(px|pt|em|rem|%)?$/.exec(value);
  if (!m) return HEADING_EM[tag] ? HEADING_EM[tag]! * parentPx : parentPx;
  const n = parseFloat(m[1]!);
  switch (m[2]) {
    case 'pt':
      return (n * 4) / 3;
    case 'em':
      return n * parentPx;
    case 'rem':
      return n * 16;
    case '%':
      return (n * parentPx) / 100;
    default:
      return n;
  }
}

/** The start of an element's text, read only as far as needed (a whole card's text is long). */
function excerpt(node: HTMLElement): string {
  let raw = '';
  const read = (n: Node): void => {
    for (const child of n.childNodes) {
      if (raw.length > 200) return;
      if (child.nodeType === 3) raw += child.text;
      else if (child.nodeType === 1) read(child);
    }
  };
  read(node);
  const t = raw.replace(/[\s\u00a0\u200b-\u200f\ufeff]+/g, ' ').trim();
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}
