// Splits a Markdown file into its YAML front matter and body, with gray-matter: a "---" line at the
// top, YAML, a closing "---" line, then the body.
//
// YAML is read by js-yaml 4 with the core schema so that dates stay the strings the writer typed: a
// bare date must mean midnight in the site's time zone, which js-yaml's timestamp type would turn
// into UTC. gray-matter is always given options, which keeps it from caching every file's text.
import { createRequire } from 'node:module';
import type matter from 'gray-matter';
import yaml from 'js-yaml';
import type { Problem } from './problems.ts';

// Loaded when a file is first parsed: a build or issue build whose files are all in the cache parses none.
const loadPackage = createRequire(import.meta.url);
let grayMatter: typeof matter | undefined;

export type Parsed = { data: Record<string, unknown>; body: string } | { problems: Problem[] };

const OPENING = /^---[ \t]*\r?\n/;
/** gray-matter ends the front matter at the first line that starts with "---", whatever follows. */
const FIRST_DASHES = /\n---([^\r\n]*)/;

// gray-matter would run "---js" front matter through eval: the opening-line check above refuses any
// language name, and these engines make sure no other reaches a parser.
const refuse = () => {
  throw new Error('front matter in YAML only');
};
const OPTIONS = {
  language: 'yaml',
  engines: {
    yaml: (text: string) => yaml.load(text, { schema: yaml.CORE_SCHEMA }) as object,
    js: refuse,
    javascript: refuse,
    json: refuse,
    coffee: refuse,
  },
};

export function parseFrontMatter(source: string, file: string): Parsed {
  // gray-matter reads a file without front matter as all body, and one without a closing line as all
  // front matter: both are mistakes here.
  const opening = OPENING.exec(source);
  if (!opening) {
    const language = /^---[ \t]*([^\s-][^\r\n]*)\r?\n/.exec(source)?.[1];
    if (language) {
      return { problems: [{ file, expected: 'YAML front matter opened by a line of only "---"', found: `"---${language.slice(0, 40)}"` }] };
    }
    return { problems: [{ file, expected: 'front matter between two "---" lines at the top of the file', found: 'none' }] };
  }
  const closing = FIRST_DASHES.exec(source.slice(opening[0].length - 1));
  if (!closing) {
    return { problems: [{ file, expected: 'a closing "---" line after the front matter', found: 'none' }] };
  }
  // A "----" or "--- x" line would end the front matter there and put the rest of its line in the
  // body: it is refused rather than read as a closing line.
  if (closing[1]!.trim() !== '') {
    return { problems: [{ file, expected: 'a closing line of only "---" after the front matter', found: `"---${closing[1]!.slice(0, 40)}"` }] };
  }
  let data: unknown;
  let body: string;
  try {
    ({ data, content: body } = (grayMatter ??= loadPackage('gray-matter') as typeof matter)(source, OPTIONS));
  } catch (err) {
    return { problems: [yamlProblem(err, file)] };
  }
  // An empty front matter block is an empty set of fields.
  if (data === undefined || data === null) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    return { problems: [{ file, expected: 'front matter made of "field: value" lines', found: 'something else' }] };
  }
  return { data: data as Record<string, unknown>, body };
}

function yamlProblem(err: unknown, file: string): Problem {
  if (err instanceof yaml.YAMLException) {
    // The YAML starts with the opening line's line break, so js-yaml's zero-based line is the file's one-based line.
    const line = err.mark ? err.mark.line + 1 : undefined;
    return {
      file: line ? `${file}:${line}` : file,
      expected: 'valid YAML front matter',
      found: err.reason || 'a syntax error',
    };
  }
  return { file, expected: 'valid YAML front matter', found: err instanceof Error ? err.message : String(err) };
}
