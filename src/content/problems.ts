// A problem is one thing a writer has to fix: which file, which field, what was expected, what was found.
// Every stage collects problems instead of throwing at the first one, so a single run lists them all.

export interface Problem {
  file: string;
  field?: string;
  expected: string;
  found: string;
}

/** Thrown when input (content, configuration, templates, arguments) is wrong; the CLI prints it and exits 1. */
export class ContentError extends Error {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ContentError';
    this.problems = problems;
  }
}

/** The command was called wrongly (exit 2), as opposed to the content being wrong (exit 1). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function formatProblem(p: Problem): string {
  const where = p.field ? `${p.file}: ${p.field}` : p.file;
  return `${where}: expected ${p.expected}, found ${p.found}`;
}

/** A short, single-line description of a value as the writer typed it. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (typeof value === 'object') return 'a mapping of fields';
  if (typeof value === 'string') {
    const oneLine = value.replace(/\s+/g, ' ');
    return JSON.stringify(oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine);
  }
  return `${typeof value} ${String(value)}`;
}

/** Collects problems from several sources and throws them together. */
export class ProblemList {
  readonly items: Problem[] = [];

  add(p: Problem): void {
    this.items.push(p);
  }

  addAll(ps: readonly Problem[]): void {
    for (const p of ps) this.items.push(p);
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  throwIfAny(): void {
    if (!this.empty) throw new ContentError(sortProblems(this.items));
  }
}

function sortProblems(ps: readonly Problem[]): Problem[] {
  return [...ps].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
