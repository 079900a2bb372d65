// Which pages the spare output (see staged.ts) holds already as this build would write them. For each
// page a build writes, the record keeps the key of what it was rendered from (given by the build: its
// template, data and paths) and the stamps of its paths as written. A page whose key is the same as
// then, and whose paths are still as stamped, is neither rendered nor written again.
//
// The record is kept beside the output (`.dist.pages` beside `dist`), one part per folder, for the
// output and its spare, which swap places on every build: each part names its folder by device and
// inode, which a rename keeps. A stamp holds the file's inode, size, modification and change times:
// the change time cannot be set by hand, so a file edited, replaced or linked since it was written is
// written again. A file whose stamp was taken within one tick of the file system's clock before the
// record was saved could have been changed again within that tick, unseen (git's "racily clean"
// entries): the record also keeps a digest of its bytes, and its bytes are read and compared. The
// record only ever saves work: missing, damaged or of another folder, it is ignored.
//
// The part of a folder also lists the files that are not pages (feeds, assets, the search index),
// with what the whole output was made from: a build from the same inputs, finding the output with
// exactly those files as written and nothing else, has nothing to write (see `upToDate`).
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { writeFileAtomically } from '../files/atomic.ts';
import { otherMode } from '../files/modes.ts';
import { readRegularFile } from '../files/regular-file.ts';
import type { DebugLog } from '../log/debug.ts';

interface Written {
  /** What the page was rendered from; FILE for a file that is not a page. */
  key: string;
  /** The page's paths after its first, when it has more. */
  also?: string[];
  /** Four numbers for each of the page's paths, in order: inode, size, modification and change times. */
  stamps: number[];
  /** The digest of the bytes at the page's paths, for a page written within a tick of the record's saving (see racy). */
  bytes?: string;
}

/** The key of a file that is not a page: no page key (a SHA-256 in hex) is ever this. */
const FILE = 'file';

/** What a whole output was made from, and what it holds (for the build's summary). */
export interface OutputMade {
  /** A digest of every input of the build (see build.ts). */
  inputs: string;
  pages: number;
  files: number;
  search?: { records: number; shards: number };
}

interface Part {
  /** By the page's first path; since `made` was recorded, every other file of the folder too. */
  pages: Map<string, Written>;
  /**
   * When the part was saved, by the file system's clock: the change time of a file made beside the
   * record once every stamp was taken. Absent when it could not be told: then no stamp vouches.
   */
  savedAt?: number;
  /** Present when `pages` lists every file the folder was given. */
  made?: OutputMade;
}

/** Parts by the folder they describe (`device:inode`). */
type Stored = Map<string, Part>;

/** Far more than the record of any site (a few hundred bytes a page). */
const RECORD_LIMIT = 256 * 1024 * 1024;

/**
 * One tick of a file system's clock, as a time it gave (a part's save time) shows it: whole seconds for the
 * file systems that keep no finer times (ext3, small ext4, FAT's two seconds, many network
 * mounts); otherwise the kernel's clock tick, a few milliseconds, with a margin.
 */
function tickOf(savedAt: number): number {
  return savedAt % 1000 === 0 ? 2_000 : 20;
}

/**
 * Whether a file last changed at `changed` when its stamp was taken, for a record saved at
 * `savedAt`, may have been changed again since without its stamp showing it: within the same tick.
 */
export function racy(changed: number, savedAt: number): boolean {
  return changed > savedAt - tickOf(savedAt);
}

function recordFile(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.pages`);
}

/** What `file` is, or undefined when it cannot be told (missing, below a file rather than a folder, unreadable). */
export type Examine = (file: string) => Stats | undefined;

function lstatOf(file: string): Stats | undefined {
  try {
    return lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function folderId(dir: string, examine: Examine): string | undefined {
  const stats = examine(dir);
  return stats?.isDirectory() ? `${stats.dev}:${stats.ino}` : undefined;
}

/** Whether a part read back has the shape this code writes (a damaged or foreign one is not trusted). */
function validPart(part: unknown): part is Part {
  const { pages, savedAt, made } = (part ?? {}) as Partial<Part>;
  if (!(pages instanceof Map) || (savedAt !== undefined && typeof savedAt !== 'number') || !(made === undefined || validMade(made))) return false;
  for (const [first, written] of pages as Map<unknown, Partial<Written> | null>) {
    if (typeof first !== 'string' || typeof written?.key !== 'string' || !Array.isArray(written.stamps)) return false;
    if (!written.stamps.every((n) => typeof n === 'number') || (written.bytes !== undefined && typeof written.bytes !== 'string')) return false;
    const { also } = written;
    if (also !== undefined && !(Array.isArray(also) && also.every((p) => typeof p === 'string'))) return false;
    // Four numbers for each path, the first and the others.
    if (written.stamps.length !== 4 * (1 + (also?.length ?? 0))) return false;
  }
  return true;
}

function validMade(made: unknown): made is OutputMade {
  const { inputs, pages, files, search } = (made ?? {}) as Partial<OutputMade>;
  if (typeof inputs !== 'string' || typeof pages !== 'number' || typeof files !== 'number') return false;
  return search === undefined || (typeof search?.records === 'number' && typeof search.shards === 'number');
}

function read(file: string): Stored {
  const bytes = readRegularFile(file, RECORD_LIMIT);
  if (!bytes) return new Map();
  try {
    const stored = v8.deserialize(bytes) as unknown;
    return stored instanceof Map ? (stored as Stored) : new Map();
  } catch {
    return new Map();
  }
}

/** The file system's clock now, as the change time of a file made and removed beside `file`; undefined when it cannot be told. */
function clockBeside(file: string, examine: Examine): number | undefined {
  const probe = `${file}.tmp-clock-${process.pid}`;
  try {
    rmSync(probe, { force: true });
    writeFileSync(probe, '', { flag: 'wx' });
    return examine(probe)?.ctimeMs;
  } catch {
    return undefined;
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      // Left for the next build to remove.
    }
  }
}

export class WrittenPages {
  /** The pages (and copies) asked about in this build, with their keys, by first path. */
  private readonly asked = new Map<string, { paths: readonly string[]; key: string; inPlace: boolean; copy?: boolean }>();
  /** Folders below the spare found to be folders, not links or files. */
  private readonly folders = new Set<string>(['.']);
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
    private readonly examine: Examine,
  ) {}

  /**
   * The record of the output `target`, for a build writing into its spare `dir`. `examine` tells
   * what a file is (lstat; a test may give a file system whose clock counts in seconds).
   */
  static read(target: string, dir: string, log: DebugLog | undefined, examine: Examine = lstatOf): WrittenPages {
    const stored = read(recordFile(target));
    const id = folderId(dir, examine);
    const spare = id === undefined ? undefined : stored.get(id);
    return new WrittenPages(target, dir, stored, validPart(spare) ? spare : undefined, log, examine);
  }

  /**
   * Whether the spare holds, at every one of `paths` (relative, the page's own first), the page
   * rendered from `key`, untouched since it was written: then it need not be written again. Either
   * way the page is recorded as written by this build, with this key. A `copy` (see copyFrozen) is
   * not counted among the pages in the log.
   */
  inPlace(paths: readonly string[], key: string, copy = false): boolean {
    const written = this.spare?.pages.get(paths[0]!);
    const stamps = written?.key === key ? this.stampsOf(paths) : undefined;
    const inPlace = stamps !== undefined && sameStamps(stamps, written!.stamps) && this.unchanged(paths, written!);
    if (!inPlace && written?.key === key && !copy) this.changedOnDisk++;
    this.asked.set(paths[0]!, { paths, key, inPlace, ...(copy ? { copy } : {}) });
    return inPlace;
  }

  /**
   * Once the spare holds the whole new output, before it is swapped in: records the pages as they
   * were written (the spare's part), beside the part of the output it replaces (the next spare's).
   * Given every file of the new output and what it was `made` from, records the other files too,
   * so that a build from the same inputs can tell the output is as this one left it (see upToDate).
   */
  save(files?: ReadonlySet<string>, made?: OutputMade): void {
    const id = folderId(this.dir, this.examine);
    if (id === undefined) return;
    const pages = new Map<string, Written>();
    const paths = new Map<string, readonly string[]>();
    let reused = 0;
    let asked = 0;
    let complete = true;
    for (const [first, { paths: all, key, inPlace, copy }] of this.asked) {
      if (!copy) asked++;
      if (inPlace && !copy) reused++;
      const also = all.length > 1 ? { also: all.slice(1) } : {};
      // A page in place is as it was recorded, its digest too.
      const written = inPlace ? { ...this.spare!.pages.get(first)!, ...also } : { key, ...also, stamps: this.stampsOf(all) };
      paths.set(first, all);
      if (written.stamps) pages.set(first, written as Written);
      else complete = false;
    }
    if (files && made) {
      const covered = new Set([...paths.values()].flat());
      for (const rel of files) {
        if (covered.has(rel)) continue;
        const stamps = this.stampsOf([rel]);
        paths.set(rel, [rel]);
        if (stamps) pages.set(rel, { key: FILE, stamps });
        else complete = false;
      }
    }
    // Taken once every stamp was: no earlier than any of them.
    const savedAt = clockBeside(recordFile(this.target), this.examine);
    // A page that may be racy then is read back, so that the build that trusts it can compare its bytes.
    for (const [first, written] of pages) {
      if (written.bytes !== undefined || (savedAt !== undefined && !changedWithin(written.stamps, savedAt))) continue;
      const bytes = digestOf(this.dir, paths.get(first)!);
      if (bytes) written.bytes = bytes;
      else {
        pages.delete(first);
        complete = false;
      }
    }
    const changed = this.changedOnDisk > 0 ? ` (${this.changedOnDisk} of them because their files were changed since they were written)` : '';
    this.log?.(`pages: ${reused} of ${asked} in place already, ${asked - reused} rendered${changed}`);
    const part: Part = { pages, ...(savedAt === undefined ? {} : { savedAt }), ...(files && made && complete ? { made } : {}) };
    const next: Stored = new Map([[id, part]]);
    const outputId = folderId(this.target, this.examine);
    const output = outputId === undefined ? undefined : this.stored.get(outputId);
    if (outputId !== id && validPart(output)) next.set(outputId!, output);
    try {
      writeFileAtomically(recordFile(this.target), v8.serialize(next));
    } catch {
      // Costs speed, not correctness: a page of the older record is still checked against its stamps,
      // and every page this build wrote has new ones.
    }
  }

  /**
   * What the output itself was made from, when that is `inputs` and the output holds exactly the
   * files that build gave it, each as it was written (told as for a page in place), and no folder
   * besides theirs: a build from the same inputs would write those same files, so it need write
   * nothing. Undefined otherwise, and the log is told why.
   */
  upToDate(inputs: string): OutputMade | undefined {
    const found = this.madeFrom(inputs);
    if (typeof found === 'string') {
      this.log?.(`output: not up to date: ${found}`);
      return undefined;
    }
    return found;
  }

  /** What the output was made from (see upToDate), or why it cannot be told to be as that build left it. */
  private madeFrom(inputs: string): OutputMade | string {
    const id = folderId(this.target, this.examine);
    const part = id === undefined ? undefined : this.stored.get(id);
    if (!validPart(part)) return 'the record says nothing of the output';
    if (!part.made) return 'the record does not list every file of the output';
    if (part.made.inputs !== inputs) return 'the output was made from other inputs';
    const found = entriesBelow(this.target);
    if (!found) return 'the output holds something other than files and folders';
    // A folder's permissions are not in any stamp: changed by hand, a build gives them back (see listOutput).
    for (const folder of ['', ...found.folders]) {
      const stats = this.examine(path.join(this.target, folder));
      if (!stats?.isDirectory() || otherMode(stats.mode, true)) return `the permissions of ${folder || 'the output folder'} changed`;
    }
    const files = new Set<string>();
    for (const [first, written] of part.pages) {
      const paths = [first, ...(written.also ?? [])];
      for (const rel of paths) files.add(rel);
      const missing = paths.find((rel) => !found.files.has(rel));
      if (missing !== undefined) return `${missing} is no longer in the output`;
      // Listed through folders only: no folder on their way is a link.
      const stamps = stampsIn(this.target, paths, this.examine);
      if (!stamps || !sameStamps(stamps, written.stamps) || !unchanged(this.target, part, paths, written)) return `${first} changed since it was written, or has other permissions`;
    }
    const folders = foldersAbove(files);
    // Every file and folder recorded was found: the same number of each means nothing else is there.
    if (files.size !== found.files.size || folders.size !== found.folders.size) {
      const other = [...found.files].find((rel) => !files.has(rel)) ?? [...found.folders].find((rel) => !folders.has(rel));
      return `the output holds ${other ?? 'a file'}, which the build did not write`;
    }
    return part.made;
  }

  /**
   * The stamps of `paths` in the spare; undefined when one is not a plain file, or lies below
   * anything but folders (a link to a folder elsewhere is removed before pages are written).
   */
  private stampsOf(paths: readonly string[]): number[] | undefined {
    if (!paths.every((rel) => this.inFolders(path.posix.dirname(rel)))) return undefined;
    return stampsIn(this.dir, paths, this.examine);
  }

  /** Whether a page of the spare's part, its stamps as recorded, is as it was written (see unchanged). */
  private unchanged(paths: readonly string[], written: Written): boolean {
    return this.spare !== undefined && unchanged(this.dir, this.spare, paths, written);
  }

  /** Whether `folder` (relative) and every folder above it in the spare are folders. */
  private inFolders(folder: string): boolean {
    if (this.folders.has(folder)) return true;
    if (!this.inFolders(path.posix.dirname(folder)) || !this.examine(path.join(this.dir, folder))?.isDirectory()) return false;
    this.folders.add(folder);
    return true;
  }
}

/**
 * The stamps of `paths` below `dir`; undefined when one is not a plain file, or not with the
 * permissions a build gives (a build that wrote it under another umask): it is written again.
 */
function stampsIn(dir: string, paths: readonly string[], examine: Examine): number[] | undefined {
  const stamps: number[] = [];
  for (const rel of paths) {
    const stats = examine(path.join(dir, rel));
    if (!stats?.isFile() || otherMode(stats.mode, false)) return undefined;
    stamps.push(stats.ino, stats.size, stats.mtimeMs, stats.ctimeMs);
  }
  return stamps;
}

/**
 * Whether the files at `paths` below `dir`, recorded in `part` as `written` and found with the same
 * stamps, are as they were written: told by their stamps, or, when those may not tell (see racy),
 * by their bytes.
 */
function unchanged(dir: string, part: Part, paths: readonly string[], written: Written): boolean {
  const { savedAt } = part;
  if (savedAt !== undefined && !changedWithin(written.stamps, savedAt)) return true;
  return written.bytes !== undefined && digestOf(dir, paths) === written.bytes;
}

/** Every folder that holds one of `files` (relative paths), however deep: the folders an output of them has. */
export function foldersAbove(files: Iterable<string>): Set<string> {
  const folders = new Set<string>();
  for (const file of files) {
    for (let d = path.posix.dirname(file); d !== '.' && !folders.has(d); d = path.posix.dirname(d)) folders.add(d);
  }
  return folders;
}

/**
 * Every file and folder below `dir` (relative paths), found through folders only; undefined when
 * anything else is there (a link, a pipe), or the folder cannot be read: a build would replace it.
 */
function entriesBelow(dir: string): { files: Set<string>; folders: Set<string> } | undefined {
  const files = new Set<string>();
  const folders = new Set<string>();
  const visit = (rel: string): boolean => {
    let entries;
    try {
      entries = readdirSync(rel ? path.join(dir, rel) : dir, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const entry of entries) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isFile()) files.add(child);
      else if (!entry.isDirectory()) return false;
      else {
        folders.add(child);
        if (!visit(child)) return false;
      }
    }
    return true;
  };
  return visit('') ? { files, folders } : undefined;
}

/** Whether any of the files `stamps` describe changed within a tick of `savedAt` (see racy). */
function changedWithin(stamps: readonly number[], savedAt: number): boolean {
  for (let at = 3; at < stamps.length; at += 4) if (racy(stamps[at]!, savedAt)) return true;
  return false;
}

/** The digest of the bytes at every one of `paths` below `dir` (copies where links cannot be made, or links). */
function digestOf(dir: string, paths: readonly string[]): string | undefined {
  const hash = createHash('sha256');
  for (const rel of paths) {
    const bytes = readRegularFile(path.join(dir, rel), RECORD_LIMIT);
    if (!bytes) return undefined;
    hash.update(`${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex');
}

function sameStamps(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
