// Handlebars templates, looked up in the site's own templates/ first and then in Almanac's built-in set,
// one file at a time: a site can replace a single partial and keep everything else.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { FileCache } from '../cache/file-cache.ts';
import { ContentError, type Problem } from '../content/problems.ts';
import { listFiles, readInsideRoot, MAX_ASSET_BYTES } from '../files/walk.ts';

export const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));

export interface TemplateFile {
  /** Path inside the templates folder, e.g. "site/partials/news-card.hbs". */
  rel: string;
  /** Where a message should point: the site's file, or the built-in one. */
  display: string;
  absolute: string;
  /** The folder it must stay inside: the site root, or the built-in templates folder. */
  root: string;
}

/** A template file's bytes, read only when it is a regular file inside its root (assets may be larger). */
export function readTemplateFile(file: TemplateFile, maxBytes?: number): Buffer {
  const bytes = readInsideRoot(file.root, file.absolute, maxBytes ?? (file.rel.startsWith('assets/') ? MAX_ASSET_BYTES : undefined));
  if (bytes === undefined) throw new ContentError([{ file: file.display, expected: 'a template file', found: 'a file removed while reading' }]);
  return bytes;
}

/** Every file below `area` (e.g. "site", "assets"), the site's copy winning over the built-in one. */
export async function listTemplateFiles(root: string, area: string): Promise<TemplateFile[]> {
  const found = new Map<string, TemplateFile>();
  // Almanac's own folder is trusted, but it is held to the same rules as the site's.
  for (const [base, label, within] of [
    [BUILTIN_TEMPLATES, '(built-in) templates', BUILTIN_TEMPLATES],
    [path.join(root, 'templates'), 'templates', root],
  ] as const) {
    for (const rel of listFiles(path.join(base, area), within)) {
      const full = `${area}/${rel}`;
      found.set(full, { rel: full, display: `${label}/${full}`, absolute: path.join(base, area, rel), root: within });
    }
  }
  return [...found.values()].sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

type Compiled = Handlebars.TemplateDelegate;

// Declaring our helpers lets Handlebars call them directly instead of resolving each name at run time;
// and since a template can use no other helpers than these and Handlebars' own, every other name is
// compiled as a plain lookup in the data (knownHelpersOnly), not as a search for a helper first. A
// call of a helper that does not exist is then reported when the template is compiled, with its line.
// preventIndent: a partial on a line of its own is otherwise re-indented line by line after it has
// rendered (split, prefix, join), which cost more than rendering the partial on listing pages.
const COMPILE_OPTIONS: Parameters<typeof Handlebars.compile>[1] = {
  knownHelpers: { href: true, json: true, eq: true, concat: true, plural: true, upper: true, wrap: true },
  knownHelpersOnly: true,
  preventIndent: true,
};

/** Plain-text templates (`*.txt.hbs`) must not HTML-escape what they print. */
function compileOptions(file: TemplateFile): Parameters<typeof Handlebars.compile>[1] {
  return file.rel.endsWith('.txt.hbs') ? { ...COMPILE_OPTIONS, noEscape: true } : COMPILE_OPTIONS;
}

/** The compiled templates of one area: `layout.hbs`, `pages/*.hbs`, `partials/*.hbs`. */
export class TemplateSet {
  private readonly hb = Handlebars.create();
  private readonly pages = new Map<string, { fn: Compiled; file: TemplateFile }>();
  private layout?: { fn: Compiled; file: TemplateFile };
  /** Every template with its text, for messages that point into them. */
  readonly files: { file: TemplateFile; source: string }[] = [];

  private constructor(private readonly area: string) {
    registerHelpers(this.hb);
    readNamesDirectly(this.hb);
  }

  /**
   * Reads and compiles the templates of `area`. With a `cache`, a template compiled before (the same
   * text, under the same name) is not parsed and compiled again: its compiled form is reused.
   */
  static async load(root: string, area: string, cache = FileCache.disabled()): Promise<TemplateSet> {
    const set = new TemplateSet(area);
    const files = (await listTemplateFiles(root, area)).filter((f) => f.rel.endsWith('.hbs'));
    const problems: Problem[] = [];
    for (const file of files) {
      const source = readTemplateFile(file).toString('utf8');
      const compiled = cache.remember(COMPILED, `${file.display}\n${source}`, () => precompile(set.hb, source, file));
      if ('problem' in compiled) {
        problems.push(compiled.problem);
        continue;
      }
      const inner = file.rel.slice(area.length + 1, -'.hbs'.length);
      const fn = set.hb.template(revive(compiled.spec));
      if (inner.startsWith('partials/')) {
        set.hb.registerPartial(inner.slice('partials/'.length).replace(/\.txt$/, ''), fn);
      } else if (inner.startsWith('pages/')) {
        set.pages.set(inner.slice('pages/'.length), { fn, file });
      } else if (inner === 'layout') {
        set.layout = { fn, file };
      }
      set.files.push({ file, source });
    }
    if (problems.length) throw new ContentError(problems);
    return set;
  }

  has(page: string): boolean {
    return this.pages.has(page);
  }

  /** Renders `pages/<page>.hbs` inside `layout.hbs` (when there is one). */
  render(page: string, data: object): string {
    const entry = this.pages.get(page);
    if (!entry) {
      throw new ContentError([{ file: `templates/${this.area}/pages/${page}.hbs`, expected: 'a page template', found: 'no such file' }]);
    }
    const body = run(entry, data);
    return this.layout ? run(this.layout, { ...data, body }) : body;
  }

  /**
   * Renders each page once and calls `write` with every output path it has (its own, then `also`: a
   * guide's URL and its latest version are one page).
   */
  renderAll(
    pages: Iterable<{ file: string; also?: readonly string[]; template: string; data: object }>,
    write: (paths: readonly string[], html: string) => void,
  ): void {
    for (const { file, also = [], template, data } of pages) write([file, ...also], this.render(template, data));
  }
}

const COMPILED = 'template';

/** A template checked and compiled to Handlebars' precompiled form (JavaScript source), or its problem. */
function precompile(hb: typeof Handlebars, source: string, file: TemplateFile): { spec: string } | { problem: Problem } {
  const problem = checkSyntax(hb, source, file);
  if (problem) return { problem };
  try {
    // Typed as the revived object, but what precompile returns is the source text of one.
    return { spec: hb.precompile(source, compileOptions(file)) as unknown as string };
  } catch (err) {
    // knownHelpersOnly (see COMPILE_OPTIONS) reports a helper that does not exist, in its own words.
    const unknown = /unknown helper (\S+) - (\d+):/.exec(firstLine(err));
    if (unknown) {
      return { problem: { file: `${file.display}:${unknown[2]}`, expected: `one of the helpers ${HELPERS}`, found: `an unknown helper "${unknown[1]}"` } };
    }
    return { problem: { file: file.display, expected: 'a template that compiles', found: firstLine(err) } };
  }
}

/** Every helper a template can call, for messages. */
const HELPERS = [...Object.keys(COMPILE_OPTIONS?.knownHelpers ?? {}), 'if', 'unless', 'each', 'with', 'lookup', 'log'].join(', ');

/** The template a precompiled form describes; the same as Handlebars.compile would have made. */
function revive(spec: string): Parameters<typeof Handlebars.template>[0] {
  return new Function(`return ${spec};`)() as Parameters<typeof Handlebars.template>[0];
}

function run(entry: { fn: Compiled; file: TemplateFile }, data: object): string {
  try {
    return entry.fn(data);
  } catch (err) {
    throw new ContentError([
      { file: entry.file.display, expected: 'a template that renders', found: firstLine(err) },
    ]);
  }
}

function checkSyntax(hb: typeof Handlebars, source: string, file: TemplateFile): Problem | undefined {
  try {
    hb.parse(source);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const line = /line (\d+)/.exec(message)?.[1];
    const detail = message.split('\n').filter((l) => l.startsWith('Expecting') || l.startsWith('Parse error'))[0] ?? firstLine(err);
    return { file: line ? `${file.display}:${line}` : file.display, expected: 'a valid Handlebars template', found: detail.trim() };
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'an error';
}

/** What Handlebars' JavaScript compiler looks like to a subclass (its documented extension point). */
interface CompilerClass {
  new (): object;
  prototype: { nameLookup(parent: unknown, name: string, type: string): unknown; compiler: unknown };
}

/** Every name a built-in prototype has: `length`, `constructor`, `toString`, `__proto__` … */
const PROTOTYPE_NAMES = new Set(
  [Object, Array, String, Number, Boolean, Function, Date, RegExp, Map, Set].flatMap((type) => Object.getOwnPropertyNames(type.prototype)),
);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Handlebars reads every name in the data through a checked lookup: an own property, or one it
 * allows from a prototype. View models are plain data, so a name that no built-in prototype has can
 * only be an own property or missing, and is read directly: the same answer for one call less at
 * every {{name}} (and every helper a template calls), tens of thousands of times a build. A name a
 * prototype has keeps the check.
 */
function readNamesDirectly(hb: typeof Handlebars): void {
  const env = hb as unknown as { JavaScriptCompiler: CompilerClass };
  const base = env.JavaScriptCompiler;
  const Direct = function (this: object) {} as unknown as CompilerClass;
  Direct.prototype = Object.create(base.prototype) as CompilerClass['prototype'];
  Direct.prototype.compiler = Direct;
  Direct.prototype.nameLookup = function (this: object, parent: unknown, name: string, type: string): unknown {
    if ((type === 'context' || type === 'helper') && IDENTIFIER.test(name) && !PROTOTYPE_NAMES.has(name)) return [parent, '.', name];
    return base.prototype.nameLookup.call(this, parent, name, type);
  };
  env.JavaScriptCompiler = Direct;
}

const SCRIPT_UNSAFE = /[<>&\u2028\u2029]/g;
const scriptEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Links are written relative to the page, so dist/ works opened from disk and under any path. */
function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('href', function (this: unknown, target: unknown, options: Handlebars.HelperOptions) {
    const root = String((options.data.root as { page?: { root?: string } }).page?.root ?? '');
    const t = String(target ?? '');
    return t === '' || t.endsWith('/') ? `${root}${t}index.html` : `${root}${t}`;
  });
  // Safe inside <script>: the characters that could end it or confuse an HTML parser, escaped in one pass.
  hb.registerHelper('json', (value: unknown) => new hb.SafeString(JSON.stringify(value).replace(SCRIPT_UNSAFE, scriptEscape)));
  hb.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('upper', (text: unknown) => String(text ?? '').toUpperCase());
  hb.registerHelper('wrap', (text: unknown) => wrapText(String(text ?? ''), 78));
  hb.registerHelper('plural', (count: unknown, one: unknown, many: unknown) => (count === 1 ? one : many));
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
const columns = (s: string) => [...s].length;

/**
 * Word-wraps plain text at `width` characters. A link longer than that stays whole on its line (it
 * must stay usable); any other word that long (a long compound, text without spaces) is broken
 * between graphemes.
 */
export function wrapText(text: string, width: number): string {
  return text
    .split('\n')
    .map((paragraph) => {
      const lines: string[] = [];
      let line = '';
      for (const word of paragraph.split(/\s+/).flatMap((w) => (w ? pieces(w, width) : []))) {
        if (line && columns(line) + 1 + columns(word) > width) {
          lines.push(line);
          line = word;
        } else line = line ? `${line} ${word}` : word;
      }
      lines.push(line);
      return lines.join('\n');
    })
    .join('\n');
}

function pieces(word: string, width: number): string[] {
  if (columns(word) <= width || /^[(<"'\[]?(https?:\/\/|mailto:)/.test(word)) return [word];
  const out: string[] = [];
  let piece = '';
  for (const { segment } of graphemes.segment(word)) {
    if (piece && columns(piece) + columns(segment) > width) {
      out.push(piece);
      piece = '';
    }
    piece += segment;
  }
  if (piece) out.push(piece);
  return out;
}
