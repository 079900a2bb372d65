// Handlebars templates, looked up in the site's own templates/ first and then in Almanac's built-in set,
// one file at a time: a site can replace a single partial and keep everything else.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import type Handlebars from 'handlebars';
import { FileCache } from '../cache/file-cache.ts';
import { TEMPLATES_DIR } from '../content/paths.ts';
import { ContentError, type Problem } from '../content/problems.ts';
import { listFiles, readInsideRoot, MAX_ASSET_BYTES } from '../files/walk.ts';
import { COMPILE_OPTIONS, HELPERS, createHandlebars } from './handlebars.ts';

const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));

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
  for (const file of [...builtInFiles(area), ...filesBelow(path.join(root, TEMPLATES_DIR), TEMPLATES_DIR, root, area)]) found.set(file.rel, file);
  return [...found.values()].sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** Almanac's own files below `area`; its folder is trusted, but it is held to the same rules as the site's. */
export function builtInFiles(area: string): TemplateFile[] {
  return filesBelow(BUILTIN_TEMPLATES, '(built-in) templates', BUILTIN_TEMPLATES, area);
}

function filesBelow(base: string, label: string, within: string, area: string): TemplateFile[] {
  return listFiles(path.join(base, area), within).map((rel) => {
    const full = `${area}/${rel}`;
    return { rel: full, display: `${label}/${full}`, absolute: path.join(base, area, rel), root: within };
  });
}

type Compiled = Handlebars.TemplateDelegate;

/** Plain-text templates (`*.txt.hbs`) must not HTML-escape what they print. */
function compileOptions(file: TemplateFile): Parameters<typeof Handlebars.compile>[1] {
  return file.rel.endsWith('.txt.hbs') ? { ...COMPILE_OPTIONS, noEscape: true } : COMPILE_OPTIONS;
}

/** The compiled templates of one area: `layout.hbs`, `pages/*.hbs`, `partials/*.hbs`. */
export class TemplateSet {
  private readonly hb = createHandlebars();
  private readonly pages = new Map<string, { fn: Compiled; file: TemplateFile }>();
  private layout?: { fn: Compiled; file: TemplateFile };
  /** Every template with its text, for messages that point into them. */
  readonly files: { file: TemplateFile; source: string }[] = [];

  private constructor(private readonly area: string) {}

  /**
   * Reads and compiles the templates of `area`. With a `cache`, a template compiled before (the same
   * text, under the same name) is not parsed and compiled again: its compiled form is reused.
   */
  static async load(root: string, area: string, cache = FileCache.disabled()): Promise<TemplateSet> {
    return TemplateSet.compile(area, await listTemplateFiles(root, area), cache);
  }

  /** Almanac's own templates of `area`, which no site replaces (the preview's pages are the tool's, not the site's). */
  static builtIn(area: string): TemplateSet {
    return TemplateSet.compile(area, builtInFiles(area), FileCache.disabled());
  }

  private static compile(area: string, all: readonly TemplateFile[], cache: FileCache): TemplateSet {
    const set = new TemplateSet(area);
    const files = all.filter((f) => f.rel.endsWith('.hbs'));
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

  /** The digest of the templates' text as compiled (see textDigest). */
  get textDigest(): string {
    return textDigest(this.files.map(({ file, source }) => ({ rel: file.rel, source })));
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

/** A digest of templates' text by their names: equal digests, the same templates. */
export function textDigest(templates: Iterable<{ rel: string; source: string }>): string {
  const hash = createHash('sha256');
  for (const { rel, source } of [...templates].sort((a, b) => (a.rel < b.rel ? -1 : 1))) hash.update(`${rel}\0${source.length}\0${source}\0`);
  return hash.digest('hex');
}

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
