// Checking front matter or configuration against its schema, with one problem per wrong field that
// names the file, the field, what was expected and what was found.
import { z } from 'zod';
import { describeValue, type Problem } from './problems.ts';

/** Validates `data` against `schema`; problems name `file` and the field path. */
export function validate<T>(
  schema: z.ZodType<T>,
  data: unknown,
  file: string,
): { value: T; problems: [] } | { value: undefined; problems: Problem[] } {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data, problems: [] };
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, issue.path);
      for (const key of issue.keys) {
        problems.push({
          file,
          field: fieldName([...issue.path, key]),
          expected: allowed ? `one of the known fields (${allowed.join(', ')})` : 'a known field',
          found: `an unknown field "${key}"`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A name that is not allowed (an edition's, say): the name is what was found.
      problems.push({
        file,
        field: fieldName(issue.path),
        expected: issue.issues[0]?.message ?? issue.message,
        found: `the name ${JSON.stringify(String(issue.path.at(-1)))}`,
      });
      continue;
    }
    problems.push({
      file,
      field: fieldName(issue.path) || undefined,
      expected: issue.message,
      found: describeFound(valueAt(data, issue.path)),
    });
  }
  return { value: undefined, problems };
}

/** A long text is described by its length: quoting the start of 50 MB helps nobody. */
function describeFound(value: unknown): string {
  if (typeof value === 'string' && value.length > 200) return `a text of ${value.length.toLocaleString('en')} characters`;
  return describeValue(value);
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/** The keys a strict object schema allows at `path`, to suggest the right spelling. */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let cur: unknown = schema;
  for (const part of path) {
    cur = unwrap(cur);
    if (cur instanceof z.ZodObject) cur = cur.shape[String(part)];
    else if (cur instanceof z.ZodArray) cur = cur.element;
    else if (cur instanceof z.ZodRecord) cur = cur.valueType;
    else return undefined;
  }
  cur = unwrap(cur);
  return cur instanceof z.ZodObject ? Object.keys(cur.shape) : undefined;
}

function unwrap(s: unknown): unknown {
  let cur = s;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional || cur instanceof z.ZodPipe) {
    if (cur instanceof z.ZodPipe) cur = cur.in;
    else cur = cur.unwrap();
  }
  return cur;
}
