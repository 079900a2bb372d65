// Where in the email templates an element of the rendered email was written, so that a finding about
// it (faint text) names the file and line to edit: by its text when a template has it word for word
// (or its first words, before the content filled in), else by its own classes, else by the classes of
// the nearest ancestor that has any.

/** A template as written: its display path (for messages) and its text. */
export interface TemplateSource {
  display: string;
  source: string;
}

export interface RenderedElement {
  tag: string;
  classes: readonly string[];
  ancestorClasses: readonly string[];
  /** The start of its text, "…" where cut. */
  text: string;
}

interface Place {
  file: string;
  line: number;
}

const MAX_PLACES = 3;
// Shorter starts ("Read at") are too common to point at one line.
const MIN_WORDS_CHARS = 12;
const CLASS_ATTRIBUTE = /(?:^|[\s<])(?:css-)?class\s*=\s*"([^"]*)"/g;

/** "file:line" (or several, at most three named), or undefined when no template shows where. */
export function templatePlace(templates: readonly TemplateSource[], el: RenderedElement): string | undefined {
  const text = el.text.replace(/…$/, '').trim();
  const places = [
    () => (text.length >= 3 ? linesWith(templates, (line) => line.includes(text)) : []),
    () => withFirstWords(templates, text),
    () => (el.classes.length ? withClasses(templates, el.classes, el.tag) : []),
    () => (el.ancestorClasses.length ? withClasses(templates, el.ancestorClasses) : []),
  ];
  for (const find of places) {
    const found = find();
    if (found.length) return describe(found);
  }
  return undefined;
}

/** "You are receiving {{site.title}}": the longest start of the text, of two words or more, that a line has. */
function withFirstWords(templates: readonly TemplateSource[], text: string): Place[] {
  const words = text.split(' ');
  for (let n = words.length - 1; n >= 2; n--) {
    const start = words.slice(0, n).join(' ');
    if (start.length < MIN_WORDS_CHARS) break;
    const found = linesWith(templates, (line) => line.includes(start));
    if (found.length) return found;
  }
  return [];
}

/** Where a colour is written (a rule in <mj-style>, a style attribute), as "file:line". */
export function colourPlace(templates: readonly TemplateSource[], hex: string): string | undefined {
  const found = linesWith(templates, (line) => line.toLowerCase().includes(hex.toLowerCase()));
  return found.length ? describe(found) : undefined;
}

/** Lines whose class (or MJML css-class) attribute has every one of `classes`; those on a `tag` first. */
function withClasses(templates: readonly TemplateSource[], classes: readonly string[], tag?: string): Place[] {
  const hasAll = (line: string) =>
    [...line.matchAll(CLASS_ATTRIBUTE)].some((m) => {
      const own = new Set(m[1]!.split(/\s+/));
      return classes.every((c) => own.has(c));
    });
  const all = linesWith(templates, hasAll);
  const onTag = tag ? all.filter((p) => new RegExp(`<${tag}\\b[^>]*\\bclass=`, 'i').test(lineOf(templates, p))) : [];
  return onTag.length ? onTag : all;
}

function linesWith(templates: readonly TemplateSource[], test: (line: string) => boolean): Place[] {
  const out: Place[] = [];
  for (const t of templates) t.source.split('\n').forEach((line, i) => test(line) && out.push({ file: t.display, line: i + 1 }));
  return out;
}

function lineOf(templates: readonly TemplateSource[], p: Place): string {
  return templates.find((t) => t.display === p.file)?.source.split('\n')[p.line - 1] ?? '';
}

function describe(places: Place[]): string {
  const byFile = new Map<string, number[]>();
  for (const p of places.slice(0, MAX_PLACES)) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p.line]);
  const named = [...byFile].map(([file, lines]) => `${file}:${lines.join(', ')}`).join('; ');
  const more = places.length - MAX_PLACES;
  return more > 0 ? `${named} and ${more} more place${more === 1 ? '' : 's'}` : named;
}
