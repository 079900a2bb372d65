// Which pages the spare output (see staged.ts) holds already as this build would write them. For each
// page a build writes, the record keeps the key of what it was rendered from (given by the build: its
// template, data and paths) and the stamps of its paths as written. A page whose key is the same as
// then, and whose paths are still as stamped, is neither rendered nor written again.
//
// The record is kept beside the output (`.dist.pages` beside `dist`), one part per folder, for the
// output and its spare, which swap places on every build: each part names its folder by device and
// inode, which a rename keeps. A stamp holds the file's inode, size, modification and change times:
// the change time cannot be set by hand, so a file edited, replaced or linked since it was written is
// written again. The record only ever saves work: missing, damaged or of another folder, it is ignored.
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { writeFileAtomically } from '../files/atomic.ts';
import type { DebugLog } from '../log/debug.ts';

interface Written {
  key: string;
  /** Four numbers for each of the page's paths, in order: inode, size, modification and change times. */
  stamps: number[];
}

/** The pages of one folder, by their first path. */
type Part = Map<string, Written>;

/** Parts by the folder they describe (`device:inode`). */
type Stored = Map<string, Part>;

function recordFile(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.pages`);
}

/** What `file` is, or undefined when it cannot be told (missing, below a file rather than a folder, unreadable). */
function examine(file: string): Stats | undefined {
  try {
    return lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function folderId(dir: string): string | undefined {
  const stats = examine(dir);
  return stats?.isDirectory() ? `${stats.dev}:${stats.ino}` : undefined;
}

/** The stamps of `paths` below `dir`; undefined when one is not a plain file. */
function stampsOf(dir: string, paths: readonly string[]): number[] | undefined {
  const stamps: number[] = [];
  for (const rel of paths) {
    const stats = examine(path.join(dir, rel));
    if (!stats?.isFile()) return undefined;
    stamps.push(stats.ino, stats.size, stats.mtimeMs, stats.ctimeMs);
  }
  return stamps;
}

/** Whether a part of a record read back has the shape this code writes (a damaged or foreign one is not trusted). */
function validPart(part: unknown): part is Part {
  if (!(part instanceof Map)) return false;
  for (const [first, written] of part as Map<unknown, Partial<Written> | null>) {
    if (typeof first !== 'string' || typeof written?.key !== 'string' || !Array.isArray(written.stamps)) return false;
    if (!written.stamps.every((n) => typeof n === 'number')) return false;
  }
  return true;
}

function sameStamps(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function read(file: string): Stored {
  try {
    const stored = v8.deserialize(readFileSync(file)) as unknown;
    return stored instanceof Map ? (stored as Stored) : new Map();
  } catch {
    return new Map();
  }
}

export class WrittenPages {
  /** The pages asked about in this build, with their keys, by first path. */
  private readonly asked = new Map<string, { paths: readonly string[]; key: string; inPlace: boolean }>();
  private reused = 0;
  /** Pages recorded with the same key whose files were changed since they were written. */
  private changedOnDisk = 0;

  private constructor(
    private readonly target: string,
    /** The spare, where this build writes. */
    private readonly dir: string,
    private readonly stored: Stored,
    /** The spare's part of the record, when it describes the spare as it is. */
    private readonly spare: Part | undefined,
    private readonly log: DebugLog | undefined,
  ) {}

  /** The record of the output `target`, for a build writing into its spare `dir`. */
  static read(target: string, dir: string, log: DebugLog | undefined): WrittenPages {
    const stored = read(recordFile(target));
    const id = folderId(dir);
    const spare = id === undefined ? undefined : stored.get(id);
    return new WrittenPages(target, dir, stored, validPart(spare) ? spare : undefined, log);
  }

  /**
   * Whether the spare holds, at every one of `paths` (relative, the page's own first), the page
   * rendered from `key`, untouched since it was written: then it need not be written again. Either
   * way the page is recorded as written by this build, with this key.
   */
  inPlace(paths: readonly string[], key: string): boolean {
    const written = this.spare?.get(paths[0]!);
    const stamps = written?.key === key ? stampsOf(this.dir, paths) : undefined;
    const inPlace = stamps !== undefined && sameStamps(stamps, written!.stamps);
    if (inPlace) this.reused++;
    else if (written?.key === key) this.changedOnDisk++;
    this.asked.set(paths[0]!, { paths, key, inPlace });
    return inPlace;
  }

  /**
   * Once the spare holds the whole new output, before it is swapped in: records the pages as they
   * were written (the spare's part), beside the part of the output it replaces (the next spare's).
   */
  save(): void {
    const id = folderId(this.dir);
    if (id === undefined) return;
    const part: Part = new Map();
    for (const [first, { paths, key, inPlace }] of this.asked) {
      const stamps = inPlace ? this.spare!.get(first)!.stamps : stampsOf(this.dir, paths);
      if (stamps) part.set(first, { key, stamps });
    }
    const rendered = this.asked.size - this.reused;
    const changed = this.changedOnDisk > 0 ? ` (${this.changedOnDisk} of them because their files were changed since they were written)` : '';
    this.log?.(`pages: ${this.reused} of ${this.asked.size} in place already, ${rendered} rendered${changed}`);
    const next: Stored = new Map([[id, part]]);
    const outputId = folderId(this.target);
    const output = outputId === undefined ? undefined : this.stored.get(outputId);
    if (validPart(output) && outputId !== id) next.set(outputId!, output);
    try {
      writeFileAtomically(recordFile(this.target), v8.serialize(next));
    } catch {
      // Costs speed, not correctness: a page of the older record is still checked against its stamps,
      // and every page this build wrote has new ones.
    }
  }
}
