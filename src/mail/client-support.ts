// Client support (EMAIL-CHECKS 21): the HTML and CSS features the email templates use that a client
// family lacks, from caniemail's data (offline). Only what the author controls is looked at: the
// CSS in <mj-style>, the style attributes and HTML elements written in the templates, and MJML
// attributes that turn into CSS (border-radius="8px"). MJML's own scaffolding is left out on
// purpose: it is made to degrade in Outlook, and measured on a stock render it is hundreds of
// findings that no template can fix.
import { caniemail, rawData } from 'caniemail';
import type { Finding } from './checks.ts';

import type { TemplateSource } from './template-place.ts';
export type { TemplateSource } from './template-place.ts';

/** The client families reported, each with the caniemail clients it stands for. */
export const FAMILIES: Record<string, readonly string[]> = {
  Gmail: ['gmail.desktop-webmail', 'gmail.ios', 'gmail.android', 'gmail.mobile-webmail'],
  'Outlook Windows': ['outlook.windows', 'outlook.windows-mail'],
  'Outlook Mac': ['outlook.macos'],
  'Outlook web': ['outlook.outlook-com'],
  'Apple Mail': ['apple-mail.macos', 'apple-mail.ios'],
  Yahoo: ['yahoo.desktop-webmail', 'yahoo.ios', 'yahoo.android'],
  Samsung: ['samsung-email.android'],
};

/**
 * Features the layout depends on: without them columns stack wrongly, boxes overlap or the page
 * overflows, so a client lacking one gets a broken email, not a plainer one. An error; every other
 * missing feature (rounded corners, text-transform, a class selector …) degrades and is a warning.
 */
export const LAYOUT_CRITICAL = new Set(['display:flex', 'display:grid', 'position', 'float', 'max-width', 'min-width', 'width', 'margin', 'display']);

// MJML attributes that become the CSS property of the same name (or the one named) in the output.
const MJML_CSS: Record<string, string> = {
  'border-radius': 'border-radius', 'background-color': 'background-color', 'background-url': 'background-image', color: 'color',
  'font-family': 'font-family', 'font-size': 'font-size', 'font-weight': 'font-weight', 'font-style': 'font-style',
  'line-height': 'line-height', 'letter-spacing': 'letter-spacing', 'text-transform': 'text-transform', 'text-decoration': 'text-decoration',
  'inner-padding': 'padding', border: 'border', 'border-top': 'border-top', 'border-bottom': 'border-bottom',
};

export interface ClientGap {
  feature: string;
  file: string;
  lines: Set<number>;
  /** The families that lack it, by each client's latest tested version. */
  families: string[];
  critical: boolean;
}

const cache = new Map<string, ClientGap[]>();

/** The features each template uses that a family lacks, one entry per feature and place. Cached by content. */
export function clientGaps(templates: readonly TemplateSource[]): ClientGap[] {
  const key = templates.map((t) => `${t.display}\u0000${t.source}`).join('\u0001');
  const held = cache.get(key);
  if (held) return held;
  const gaps: ClientGap[] = [];
  for (const t of templates) gaps.push(...gapsIn(t));
  cache.clear(); // one template set at a time: the preview's edits replace it
  cache.set(key, gaps);
  return gaps;
}

/** The gaps as findings: an error for a layout-critical feature, else a warning. */
export function clientFindings(gaps: readonly ClientGap[]): Finding[] {
  return gaps.map((g) => ({
    check: 'client-support',
    severity: g.critical ? 'error' : 'warning',
    expected: g.critical ? 'layout that every client family supports' : 'features every client family supports',
    found: `${g.feature} (${g.file}:${[...g.lines].sort((a, b) => a - b).join(', ')}) is not supported by ${g.families.join(', ')}`,
  }));
}

function gapsIn(t: TemplateSource): ClientGap[] {
  const out = new Map<string, ClientGap>();
  const record = (title: string, line: number, declared?: Set<string>) => {
    // caniemail matches property names inside longer ones ("transform" in text-transform, "height
    // property" in line-height): a property counts only when the template declares it.
    const property = title.replace(/ property$/, '');
    if (declared && /^[a-z-]+$/.test(property) && !declared.has(property)) return;
    const families = supportOf(title);
    if (!families.length) return;
    const held = out.get(title);
    if (held) held.lines.add(line);
    else out.set(title, { feature: title, file: t.display, lines: new Set([line]), families, critical: LAYOUT_CRITICAL.has(title) });
  };
  for (const block of styleBlocks(t.source)) {
    for (const issue of issuesOf({ css: block.css })) record(issue.title, block.line + (issue.line ?? 1) - 1, propertiesIn(block.css));
  }
  const html = authoredHtml(t.source);
  if (html.trim()) for (const issue of issuesOf({ html })) record(issue.title, issue.line ?? lineOf(t.source, issue.title), propertiesIn(html));
  return [...out.values()];
}

/** Every feature caniemail reports for any client, with the line it is on (1-based, when it knows). */
function issuesOf(input: { css?: string; html?: string }): { title: string; line?: number }[] {
  const { issues } = caniemail({ clients: ['*'], ...input });
  const found = new Map<string, { title: string; line?: number }>();
  for (const kind of [issues.errors, issues.warnings]) {
    for (const list of kind.values()) {
      for (const i of list) found.set(`${i.title}\u0000${i.position?.start.line ?? ''}`, { title: i.title, line: i.position?.start.line });
    }
  }
  return [...found.values()];
}

interface RawFeature {
  title: string;
  stats: Record<string, Record<string, Record<string, string>>>;
}
const FEATURES = new Map<string, RawFeature>();
for (const f of (rawData as unknown as { data: RawFeature[] }).data) if (!FEATURES.has(f.title)) FEATURES.set(f.title, f);

/**
 * The families with a client whose latest tested version does not support the feature, with the
 * clients named when only some of the family lack it ("Gmail (mobile-webmail)"). Partial support is
 * not counted: caniemail's notes for it are edge cases (a unit, a value, one old version) that a
 * list of them would bury.
 */
function supportOf(title: string): string[] {
  const feature = FEATURES.get(title);
  if (!feature) return [];
  const out: string[] = [];
  for (const [family, clients] of Object.entries(FAMILIES)) {
    const lacking = clients.filter((client) => {
      const [vendor, platform] = client.split('.') as [string, string];
      const versions = feature.stats[vendor]?.[platform];
      return versions !== undefined && versions[Object.keys(versions).sort().at(-1)!]!.startsWith('n');
    });
    if (lacking.length === clients.length) out.push(family);
    else if (lacking.length) out.push(`${family} (${lacking.map((c) => c.split('.')[1]).join(', ')})`);
  }
  return out;
}

/** The <mj-style> blocks (and <style> written in mj-raw), with the line each starts on. */
function styleBlocks(source: string): { css: string; line: number }[] {
  return [...source.matchAll(/<(mj-style|style)\b[^>]*>([^]*?)<\/\1>/g)].map((m) => ({
    css: neutralise(m[2]!),
    line: lineAt(source, m.index! + m[0].indexOf('>') + 1),
  }));
}

/**
 * The template with MJML's own elements turned into what the author asked of them (a <div> with the
 * CSS their attributes stand for) and Handlebars expressions blanked, line for line, so a
 * position in it is a position in the template.
 */
function authoredHtml(source: string): string {
  return neutralise(source)
    .replace(/<(mj-style|style)\b[^>]*>[^]*?<\/\1>/g, keepLines)
    .replace(/<mj-head>[^]*?<\/mj-head>/g, (head) => keepLines(head))
    .replace(/<\/?(mjml|mj-[a-z-]+)\b([^>]*)>/g, (tag, _name: string, attrs: string) => {
      const css = [...attrs.matchAll(/([a-z-]+)="([^"]*)"/g)]
        .filter(([, name]) => MJML_CSS[name!])
        .map(([, name, value]) => `${MJML_CSS[name!]}:${value}`)
        .join(';');
      const breaks = tag.replace(/[^\n]/g, '');
      return (css && !tag.startsWith('</') ? `<div style="${css}"></div>` : '') + breaks;
    })
    .replace(/<!--[^]*?-->/g, keepLines);
}

/** Handlebars expressions as spaces (a value the content fills in is not the author's CSS). */
function neutralise(text: string): string {
  return text.replace(/\{\{\{?[^]*?\}?\}\}/g, (m) => m.replace(/[^\n]/g, ' '));
}

function keepLines(text: string): string {
  return text.replace(/[^\n]/g, '');
}

function propertiesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/(?:^|[;{"'\s])([a-z-]+)\s*:/g)].map((m) => m[1]!));
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function lineOf(source: string, title: string): number {
  const needle = title.replace(/^<|>.*$|\s.*$/g, '');
  const at = source.indexOf(needle);
  return at < 0 ? 1 : lineAt(source, at);
}
