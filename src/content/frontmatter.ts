// Splits a Markdown file into its YAML front matter and body.
// YAML is read with the core schema so that dates stay the strings the writer typed: a bare date
// must mean midnight in the site's time zone, which js-yaml's timestamp type would turn into UTC.
import matter from 'gray-matter';
import yaml from 'js-yaml';
import type { Problem } from './problems.ts';

const options = {
  engines: { yaml: (src: string) => yaml.load(src, { schema: yaml.CORE_SCHEMA }) as object },
};

export type Parsed = { data: Record<string, unknown>; body: string } | { problems: Problem[] };

export function parseFrontMatter(source: string, file: string): Parsed {
  if (!/^---\r?\n/.test(source)) {
    return { problems: [{ file, expected: 'front matter between two "---" lines at the top of the file', found: 'none' }] };
  }
  try {
    // A fresh object each time: gray-matter caches by content, and callers may mutate what they get.
    const parsed = matter(source, options);
    const data = parsed.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      return { problems: [{ file, expected: 'front matter made of "field: value" lines', found: 'something else' }] };
    }
    return { data: { ...data }, body: parsed.content };
  } catch (err) {
    return { problems: [yamlProblem(err, file)] };
  }
}

function yamlProblem(err: unknown, file: string): Problem {
  if (err instanceof yaml.YAMLException) {
    // gray-matter hands js-yaml the text after the opening "---", starting with its line break,
    // so js-yaml's zero-based line is the file's one-based line.
    const line = err.mark ? err.mark.line + 1 : undefined;
    return {
      file: line ? `${file}:${line}` : file,
      expected: 'valid YAML front matter',
      found: err.reason || 'a syntax error',
    };
  }
  return { file, expected: 'valid YAML front matter', found: err instanceof Error ? err.message : String(err) };
}
