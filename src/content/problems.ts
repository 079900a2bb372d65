// A problem is one thing a writer has to fix: which file, which field, what was expected, what was found.
// Every stage collects problems instead of throwing at the first one, so a single run lists them all.

export interface Problem {
  file: string;
  field?: string;
  expected: string;
  found: string;
}

/**
 * An error that is one or more problems for the user to fix, never a fault of Almanac: the CLI prints
 * its problems (one line each) and exits 1. Each kind has its own class and a stable `code`, as
 * nodemailer's errors do, so callers tell them apart by type or code, never by their wording.
 */
export abstract class ProblemError extends Error {
  abstract readonly code: string;
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join('\n'), options);
    this.problems = problems;
  }
}

/** Content, templates or a file given as input are wrong; nothing was written. */
export class ContentError extends ProblemError {
  override name = 'ContentError';
  readonly code: string = 'ECONTENT';
}

/** An issue's window holds no news, so there is nothing to build or send: not a fault of the content. */
export class EmptyWindowError extends ContentError {
  override name = 'EmptyWindowError';
  override readonly code = 'EEMPTYWINDOW';
}

/**
 * The configuration or the environment cannot do what was asked: a setting the command needs is
 * missing or wrong (SMTP_URL, ALMANAC_SECRET, an http baseUrl for email), or --root is not a site.
 */
export class ConfigError extends ProblemError {
  override name = 'ConfigError';
  readonly code = 'ECONFIG';
}

/** A file or folder could not be read or written (permissions, a full disk); `code` is the system's. */
export class IoError extends ProblemError {
  override name = 'IoError';
  readonly code: string;

  constructor(problems: readonly Problem[], code: string, options?: { cause?: unknown }) {
    super(problems, options);
    this.code = code;
  }
}

/** The command was called wrongly (exit 2), as opposed to the content being wrong (exit 1). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'EUSAGE';
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
