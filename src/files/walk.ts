// Listing a folder tree and reading the files in it, from inside the site folder only.
//
// A walk of one readdir per folder: Node 20's `readdir({ recursive: true })` costs several times more
// on large trees. When the walk is given the site root, every entry is checked on the way:
// - a symbolic link whose target stays inside the root is followed, file or folder alike (a folder
//   that leads back to one of its own parents is an error, not an endless walk);
// - a link that leaves the root, or points at nothing, is an error naming it;
// - anything that is neither a file nor a folder (FIFO, socket, device) is an error and is never opened.
import { closeSync, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync, constants, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { decodeText } from '../content/text.ts';
import { ContentError, type Problem } from '../content/problems.ts';

export interface Entry {
  /** Path below the walked folder, with "/" separators. */
  rel: string;
  isDirectory: boolean;
  /** A symbolic link (never followed: its target's files are not listed). */
  isSymbolicLink: boolean;
}

export interface WalkOptions {
  skipHidden?: boolean;
  /** The site folder: nothing outside it is listed, and what is not a file or folder is an error. */
  root?: string;
  /** How many levels to list: 1 for the folder's own entries. Unlimited by default. */
  depth?: number;
}

/** Every file and folder below `dir`, parents before children; empty when `dir` does not exist. */
export function walkTree(dir: string, options: WalkOptions = {}): Entry[] {
  const out: Entry[] = [];
  const problems: Problem[] = [];
  const guard = options.root === undefined ? undefined : guardFor(options.root);
  const visit = (abs: string, prefix: string, parents: readonly string[]): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      if (prefix === '' && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (!guard) throw err;
      problems.push(guard.fsProblem(abs, err));
      return;
    }
    // Names from readdir hold no separator, so joining is concatenation: path.join would normalise
    // each of the tens of thousands of paths again.
    const under = abs.endsWith(path.sep) ? abs : abs + path.sep;
    const here = parents.at(-1)!;
    const realUnder = here.endsWith(path.sep) ? here : here + path.sep;
    for (const e of entries) {
      if (options.skipHidden && e.name.startsWith('.')) continue;
      const rel = prefix + e.name;
      const child = under + e.name;
      let isDirectory = e.isDirectory();
      let real = realUnder + e.name;
      if (guard && !e.isFile() && !isDirectory) {
        // A link (resolved and checked against the root) or something that is no file or folder.
        const kind = guard.classify(child, e, real);
        if ('problem' in kind) {
          problems.push(kind.problem);
          continue;
        }
        isDirectory = kind.isDirectory;
        real = kind.real;
        if (isDirectory && (here === real || here.startsWith(real.endsWith(path.sep) ? real : real + path.sep))) {
          problems.push({ file: guard.display(child), expected: 'a folder that does not contain itself', found: 'a link to a folder that contains it' });
          continue;
        }
      }
      out.push({ rel, isDirectory, isSymbolicLink: e.isSymbolicLink() });
      if (isDirectory && (options.depth === undefined || parents.length < options.depth)) visit(child, `${rel}/`, [...parents, real]);
    }
  };
  if (guard) {
    const start = guard.classifyPath(dir);
    if (start === undefined) return out;
    if ('problem' in start) throw new ContentError([start.problem]);
    if (!start.isDirectory) throw new ContentError([{ file: guard.display(dir), expected: 'a folder', found: 'a file' }]);
    visit(dir, '', [start.real]);
  } else {
    visit(dir, '', [dir]);
  }
  if (problems.length) throw new ContentError(problems);
  return out;
}

/** The files below `dir` (no hidden files or folders), sorted, relative with "/" separators. */
export function listFiles(dir: string, root?: string): string[] {
  return walkTree(dir, { skipHidden: true, root })
    .filter((e) => !e.isDirectory)
    .map((e) => e.rel)
    .sort();
}

/** The largest text file (Markdown, template, configuration) read: checked before reading. */
const MAX_TEXT_BYTES = 2 * 1024 * 1024;
/** The largest asset (image, stylesheet, script) copied into the site. */
export const MAX_ASSET_BYTES = 20 * 1024 * 1024;

/**
 * Reads `file` (absolute, or relative to `root`) when it is a regular file inside `root` no larger than
 * `maxBytes`. Undefined when there is no such file; a ContentError naming the file otherwise.
 */
export function readInsideRoot(root: string, file: string, maxBytes = MAX_TEXT_BYTES): Buffer | undefined {
  const guard = guardFor(root);
  const abs = path.resolve(root, file);
  const kind = guard.classifyPath(abs);
  if (kind === undefined) return undefined;
  if ('problem' in kind) throw new ContentError([kind.problem]);
  if (kind.isDirectory) throw new ContentError([{ file: guard.display(abs), expected: 'a file', found: 'a folder' }]);
  let fd: number;
  try {
    fd = openSync(kind.real, READ_FLAGS);
  } catch (err) {
    throw new ContentError([guard.fsProblem(abs, err)]);
  }
  return readOpened(guard, abs, fd, maxBytes);
}

// Non-blocking, so a FIFO swapped in after a check cannot hang the read; never through a final link.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/**
 * `readInsideRoot` for a file a root-checked walk has just listed (its folders are known to be inside
 * the root): a plain file is opened directly, saving two system calls a file on large news folders;
 * a link, or a file gone since, takes the full check.
 */
export function readListedFile(root: string, file: string, maxBytes = MAX_TEXT_BYTES): Buffer | undefined {
  const abs = path.resolve(root, file);
  let fd: number;
  try {
    fd = openSync(abs, READ_FLAGS);
  } catch {
    return readInsideRoot(root, file, maxBytes);
  }
  return readOpened(guardFor(root), abs, fd, maxBytes);
}

function readOpened(guard: RootGuard, abs: string, fd: number, maxBytes: number): Buffer {
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new ContentError([{ file: guard.display(abs), expected: 'a regular file', found: describeKind(stats) }]);
    if (stats.size > maxBytes) {
      throw new ContentError([{ file: guard.display(abs), expected: `a file of at most ${formatBytes(maxBytes)}`, found: `one of ${formatBytes(stats.size)}` }]);
    }
    const buffer = Buffer.allocUnsafe(stats.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === buffer.length ? buffer : buffer.subarray(0, read);
  } catch (err) {
    if (err instanceof ContentError) throw err;
    throw new ContentError([guard.fsProblem(abs, err)]);
  } finally {
    closeSync(fd);
  }
}

/** `readInsideRoot` as UTF-8 text. */
export function readTextInsideRoot(root: string, file: string, maxBytes = MAX_TEXT_BYTES): string | undefined {
  const bytes = readInsideRoot(root, file, maxBytes);
  if (bytes === undefined) return undefined;
  const decoded = decodeText(bytes, file);
  if (decoded.problem) throw new ContentError([decoded.problem]);
  return decoded.text;
}

// One guard per root: the root's real path is looked up once, not once per file read.
const guards = new Map<string, RootGuard>();
function guardFor(root: string): RootGuard {
  let guard = guards.get(root);
  if (!guard) {
    if (guards.size > 64) guards.clear();
    guards.set(root, (guard = new RootGuard(root)));
  }
  return guard;
}

type Kind = { isDirectory: boolean; real: string } | { problem: Problem };

/** Decides what a path below the root is, without ever opening it. */
class RootGuard {
  private readonly real: string;

  constructor(private readonly root: string) {
    this.real = realpathSync.native(root);
  }

  display(abs: string): string {
    const rel = path.relative(this.root, abs);
    return rel === '' ? '.' : rel.split(path.sep).join('/');
  }

  inside(real: string): boolean {
    return real === this.real || real.startsWith(this.real.endsWith(path.sep) ? this.real : this.real + path.sep);
  }

  /** What `abs` is; undefined when it does not exist (and is not a broken link). */
  classifyPath(abs: string): Kind | undefined {
    let real: string;
    try {
      real = realpathSync.native(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // A dangling link is a mistake to report; a file that is not there is simply absent.
        try {
          statSync(abs);
        } catch {
          return undefined;
        }
      }
      return { problem: this.fsProblem(abs, err) };
    }
    if (!this.inside(real)) return { problem: this.outside(abs, real) };
    let stats: Stats;
    try {
      stats = statSync(real);
    } catch (err) {
      return { problem: this.fsProblem(abs, err) };
    }
    if (stats.isDirectory()) return { isDirectory: true, real };
    if (stats.isFile()) return { isDirectory: false, real };
    return { problem: { file: this.display(abs), expected: 'a regular file or folder', found: describeKind(stats) } };
  }

  /** `real` is where the entry is once the links above it are resolved. */
  classify(abs: string, entry: Dirent, real: string): Kind {
    if (entry.isFile()) return { isDirectory: false, real };
    if (entry.isDirectory()) return { isDirectory: true, real };
    if (entry.isSymbolicLink()) {
      const kind = this.classifyPath(abs);
      return kind ?? { problem: { file: this.display(abs), expected: 'a link to a file or folder inside the site folder', found: 'a link to nothing' } };
    }
    return { problem: { file: this.display(abs), expected: 'a regular file or folder', found: describeEntry(entry) } };
  }

  private outside(abs: string, real: string): Problem {
    return { file: this.display(abs), expected: 'a file or folder inside the site folder', found: `a link to ${real}, outside it` };
  }

  fsProblem(abs: string, err: unknown): Problem {
    const code = (err as NodeJS.ErrnoException).code;
    const found: Record<string, string> = {
      ENOENT: 'a link to nothing',
      EISDIR: 'a folder',
      EACCES: 'a file it is not allowed to read',
      EPERM: 'a file it is not allowed to read',
      ELOOP: 'a link that leads back to itself',
      ENOTDIR: 'a path through something that is not a folder',
      EAGAIN: 'a file that cannot be read now (a FIFO or device)',
    };
    return { file: this.display(abs), expected: 'a readable file or folder inside the site folder', found: (code && found[code]) ?? `an error from the file system (${code ?? 'unknown'})` };
  }
}

function describeEntry(entry: Dirent): string {
  if (entry.isFIFO()) return 'a FIFO (named pipe)';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return 'a device';
  return 'something that is not a file';
}

function describeKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isDirectory()) return 'a folder';
  return 'something that is not a file';
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}
