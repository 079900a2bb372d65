// Splits a Markdown file into its YAML front matter and body.
//
// The format is gray-matter's: a "---" line at the top, YAML, a closing "---" line, then the body.
// The split itself is a few string operations done here: gray-matter looks every file's whole text up
// in its cache and copies its options twice per call, which came to more than js-yaml's own parsing
// over ten thousand news items.
//
// YAML is read with the core schema so that dates stay the strings the writer typed: a bare date
// must mean midnight in the site's time zone, which js-yaml's timestamp type would turn into UTC.
import yaml from 'js-yaml';
import type { Problem } from './problems.ts';

export type Parsed = { data: Record<string, unknown>; body: string } | { problems: Problem[] };

const OPENING = /^---[ \t]*\r?\n/;
const CLOSING = /\r?\n---[ \t]*(?:\r?\n|$)/g;

export function parseFrontMatter(source: string, file: string): Parsed {
  const opening = OPENING.exec(source);
  if (!opening) {
    return { problems: [{ file, expected: 'front matter between two "---" lines at the top of the file', found: 'none' }] };
  }
  // The opening line break belongs to the YAML, so that js-yaml's line numbers are the file's.
  const start = opening[0].indexOf('\n');
  CLOSING.lastIndex = start;
  const closing = CLOSING.exec(source);
  if (!closing) {
    return { problems: [{ file, expected: 'a closing "---" line after the front matter', found: 'none' }] };
  }
  let data: unknown;
  try {
    data = yaml.load(source.slice(start, closing.index), { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    return { problems: [yamlProblem(err, file)] };
  }
  // An empty front matter block is an empty set of fields.
  if (data === undefined || data === null) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    return { problems: [{ file, expected: 'front matter made of "field: value" lines', found: 'something else' }] };
  }
  return { data: data as Record<string, unknown>, body: source.slice(closing.index + closing[0].length) };
}

function yamlProblem(err: unknown, file: string): Problem {
  if (err instanceof yaml.YAMLException) {
    // js-yaml reads from the opening line break, so its zero-based line is the file's one-based line.
    const line = err.mark ? err.mark.line + 1 : undefined;
    return {
      file: line ? `${file}:${line}` : file,
      expected: 'valid YAML front matter',
      found: err.reason || 'a syntax error',
    };
  }
  return { file, expected: 'valid YAML front matter', found: err instanceof Error ? err.message : String(err) };
}
