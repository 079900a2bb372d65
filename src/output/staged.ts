// Writing dist/ all at once. The new output is written into a spare folder beside it, which then
// replaces dist/ by renames; a build that fails before that point leaves the previous dist/ untouched.
//
// The spare folder is the output of the build before last, kept rather than deleted: on most disks
// creating a file costs many times more than overwriting one, so a rebuild overwrites the files that
// are still there, creates only the new ones and deletes only those that are gone.
import { chmodSync, closeSync, constants, copyFileSync, fchmodSync, existsSync, fstatSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeSync, type Stats } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomically } from '../files/atomic.ts';
import { fixedMode, otherMode } from '../files/modes.ts';
import { lock } from '../files/lock.ts';
import { processRunning } from '../files/pid.ts';
import { readRegularFile } from '../files/regular-file.ts';
import { walkTree } from '../files/walk.ts';
import type { DebugLog } from '../log/debug.ts';
import { OUTPUT_MARKER, OUTPUT_MARKER_TEXT } from './guard.ts';
import { WrittenPages, foldersAbove, type OutputMade } from './written-pages.ts';

export type OutputFiles = Map<string, string | Buffer>;

/** The hidden sibling that holds the spare output, e.g. `.dist.spare` beside `dist`. */
function spareDir(outDir: string): string {
  const target = path.resolve(outDir);
  return path.join(path.dirname(target), `.${path.basename(target)}.spare`);
}

/** What the spare folder held when a build began. */
export interface Listing {
  /** Every file and folder, relative, deepest first. */
  paths: string[];
  /** The folders among them: a build need not make them again. */
  folders: string[];
}

/**
 * A new output being written into the spare folder (made as files need it). `begin` takes the lock;
 * files are then written by `write`, or by another thread once the spare is lent; `commit`
 * removes from the spare whatever the new output does not contain and swaps it in, `abort` drops it.
 */
export class StagedOutput {
  private touched = false;
  private writer: OutputWriter;
  private listing: Listing | undefined;

  /** Which pages the spare holds already as this build writes them. */
  private readonly pages: WrittenPages;

  private constructor(
    private readonly target: string,
    /** The spare (see spareDir), where the new output is written. */
    readonly dir: string,
    private readonly release: () => void,
    log: DebugLog | undefined,
  ) {
    this.writer = new OutputWriter(dir);
    this.pages = WrittenPages.read(target, dir, log);
  }

  /** Takes the output's lock and recovers what a killed build left; `log` is told how many pages were written again. */
  static async begin(outDir: string, log?: DebugLog): Promise<StagedOutput> {
    const target = path.resolve(outDir);
    const spare = spareDir(target);
    // The lock sits beside the output, in a folder that may not exist yet (`--out public/site`).
    mkdirSync(path.dirname(target), { recursive: true });
    const release = await lock(`${spare}.lock`, target);
    try {
      recoverSwap(target, spare);
      // The spare is written into and pruned: a link in its place would take both to wherever it points.
      if (lstatSync(spare, { throwIfNoEntry: false })?.isDirectory() === false) rmSync(spare, { force: true });
    } catch (err) {
      release();
      throw err;
    }
    try {
      return new StagedOutput(target, spare, release, log);
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * What the spare held before anything was written (listed by another thread, say); without it, the
   * spare is listed now. Call before the first write: its folders are not made again.
   */
  useListing(listing: Listing = listOutput(this.dir)): void {
    this.listing = listing;
    this.writer = new OutputWriter(this.dir, listing.folders);
  }

  /** From here on another thread may write into the spare (see spareDir): it counts as written to. */
  lend(): void {
    this.touched = true;
  }

  /** Writes one document at every path it has (see OutputWriter.write). */
  write(paths: readonly string[], data: string | Buffer): void {
    this.touched = true;
    this.writer.write(paths, data);
  }

  /**
   * Whether the spare holds the page `key` names (what it is rendered from) at all its `paths`, as
   * an earlier build wrote it: then it is neither rendered nor written. Ask before writing the page.
   */
  inPlace(paths: readonly string[], key: string): boolean {
    return this.pages.inPlace(paths, key);
  }

  /** Whether the spare holds the copy of a file (see copyFrozen) that `key` names, as an earlier build made it. */
  copyInPlace(rel: string, key: string): boolean {
    return this.pages.inPlace([rel], key, true);
  }

  /** Puts a copy of a file that is never written in place at `rel` (see OutputWriter.copyFrozen). */
  copyFrozen(rel: string, source: string): void {
    this.touched = true;
    this.writer.copyFrozen(rel, source);
  }

  /**
   * What the output was made from, when that is `inputs` and it is exactly as the build that made it
   * left it (see WrittenPages.upToDate): then there is nothing to write, and `leave` ends this build.
   */
  upToDate(inputs: string): OutputMade | undefined {
    return this.pages.upToDate(inputs);
  }

  /** Ends a build that wrote nothing, leaving the output and its spare as they are. */
  leave(): void {
    this.release();
  }

  /**
   * Swaps the new output in, once everything in `files` is written, marked as an output folder (see
   * guard.ts) so that a later build may replace it, and with the digest of the `inputs` it was made
   * from, if they are known (see updateOutput). `made` says what the whole output was made from
   * (see upToDate), when that is known.
   */
  async commit(files: ReadonlySet<string>, inputs?: string, made?: OutputMade): Promise<void> {
    const swap = `${this.target}${SWAP}${process.pid}`;
    try {
      mkdirSync(this.dir, { recursive: true });
      this.write([OUTPUT_MARKER], OUTPUT_MARKER_TEXT);
      const all = new Set([...files, OUTPUT_MARKER]);
      prune(this.dir, all, this.listing ?? listOutput(this.dir));
      this.pages.save(all, made);
      const hadOld = existsSync(this.target);
      if (hadOld) await rename(this.target, swap);
      await rename(this.dir, this.target);
      if (hadOld) await rename(swap, this.dir);
      recordInputs(this.target, inputs);
    } finally {
      this.release();
    }
  }

  /** The spare is only an optimisation: whatever state a failed build left it in, drop it. */
  async abort(): Promise<void> {
    try {
      if (this.touched) await rm(this.dir, { recursive: true, force: true });
    } finally {
      this.release();
    }
  }
}

/**
 * What an output was made from, kept beside it (`.dist.made-from` beside `dist`) rather than in it, so
 * that the output stays the same bytes for the same site: the digest of its inputs, and the stamp of
 * the marker that build wrote, which tells whether the folder is still that build's output.
 */
function madeFromFile(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.made-from`);
}

function markerStamp(target: string): string | undefined {
  const stats = lstatSync(path.join(target, OUTPUT_MARKER), { throwIfNoEntry: false });
  return stats?.isFile() ? `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}` : undefined;
}

/**
 * Called once the new output is in place: a record that cannot be written costs an issue build its
 * shortcut, not the build its success. One left from before names the old output's marker, which
 * the new output's does not match.
 */
function recordInputs(target: string, inputs: string | undefined): void {
  const file = madeFromFile(target);
  const marker = markerStamp(target);
  try {
    if (!inputs || !marker) rmSync(file, { force: true });
    else writeFileAtomically(file, `${marker}\n${inputs}\n`);
  } catch {
    // See above.
  }
}

/**
 * Writes the files `make` gives into the output at `outDir` in place, each file whole or not at all,
 * when that output was made from the inputs `make` names (see commit): a change that touches a few
 * files of a large site. `make` runs under the build lock, so that what it reads (the stored issues,
 * say) is not changed by another process's update before its files are written: a second issue build
 * composing the archive in between would otherwise have its issue dropped from it. Returns the number
 * of files written, or undefined, writing nothing, when the output was not made from those inputs (or
 * is not there) or `make` gives nothing.
 */
export async function updateOutput(outDir: string, make: () => Promise<{ inputs: string; files: OutputFiles } | undefined>): Promise<number | undefined> {
  const target = path.resolve(outDir);
  if (!existsSync(target)) return undefined;
  const release = await lock(`${spareDir(target)}.lock`, target);
  try {
    const recorded = readRegularFile(madeFromFile(target), 64 * 1024)?.toString('utf8');
    if (recorded === undefined) return undefined;
    const made = await make();
    if (!made || recorded !== `${markerStamp(target)}\n${made.inputs}\n`) return undefined;
    const { files } = made;
    // A link in the output (which a build never writes) would take files out of it: a build removes them.
    if ([...files.keys()].some((rel) => throughLink(target, rel))) return undefined;
    const folders = new Set<string>();
    for (const [rel, data] of files) {
      const file = path.join(target, rel);
      const parent = path.dirname(file);
      if (!folders.has(parent)) makeFolder(parent);
      folders.add(parent);
      writeFileAtomically(file, data);
    }
    removeTemporaries(target, files);
    return files.size;
  } finally {
    release();
  }
}

/** Between a file's name and the pid of the update writing it (as writeFileAtomically names it). */
const TEMPORARY = '.tmp-';

/**
 * Removes what an update killed between writing a file and renaming it left beside it: under the
 * lock no other update runs, and the next update writes the same files (every one that shows
 * issues), so it finds them. Left there, they would be published until the next whole build.
 */
function removeTemporaries(target: string, files: OutputFiles): void {
  const byFolder = new Map<string, Set<string>>();
  for (const rel of files.keys()) {
    const folder = path.join(target, path.dirname(rel));
    const names = byFolder.get(folder) ?? byFolder.set(folder, new Set()).get(folder)!;
    names.add(path.basename(rel));
  }
  for (const [folder, names] of byFolder) {
    for (const name of readdirSync(folder)) {
      const at = name.lastIndexOf(TEMPORARY);
      if (at > 0 && names.has(name.slice(0, at)) && /^[1-9]\d*$/.test(name.slice(at + TEMPORARY.length))) rmSync(path.join(folder, name), { force: true });
    }
  }
}

/** Whether a folder on the way to `rel` below `dir`, or the file itself, is a symbolic link. */
function throughLink(dir: string, rel: string): boolean {
  let at = dir;
  for (const part of rel.split('/')) {
    at = path.join(at, part);
    const stats = lstatSync(at, { throwIfNoEntry: false });
    if (!stats) return false;
    if (stats.isSymbolicLink()) return true;
  }
  return false;
}

/** Between `<out>` and the pid of the build that moved the previous output aside while swapping. */
const SWAP = '.swap-';

/**
 * Finishes the swap of a build that was killed between its renames (see commit): with the output
 * moved aside and the new one not yet in place, the previous output goes back; with the new one in
 * place, the previous one becomes the spare. Called under the lock, so no live build is swapping.
 */
function recoverSwap(target: string, spare: string): void {
  const prefix = path.basename(target) + SWAP;
  for (const name of readdirSync(path.dirname(target))) {
    const pid = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    const swap = path.join(path.dirname(target), name);
    if (!/^[1-9]\d*$/.test(pid) || processRunning(Number(pid)) || !lstatSync(swap).isDirectory()) continue;
    if (!existsSync(target)) renameSync(swap, target);
    else if (!existsSync(spare)) renameSync(swap, spare);
    else rmSync(swap, { recursive: true, force: true });
  }
}

/**
 * Removes from `dir` every file not among `files` and every folder none of them needs. `before` lists
 * what was there before writing began: anything written since is among `files`.
 */
function prune(dir: string, files: ReadonlySet<string>, before: Listing): void {
  const wantedDirs = foldersAbove(files);
  // A path that was a file and is now a folder (or the reverse) was replaced when written: keep it.
  for (const rel of before.paths) {
    if (files.has(rel) || wantedDirs.has(rel)) continue;
    try {
      rmSync(path.join(dir, rel), { recursive: true, force: true });
    } catch (err) {
      // ENOTDIR: a folder above it was replaced by a file, and it went with the folder.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
  }
}

/**
 * Writes files below a folder, as a build does: each folder is made once, and each file is written
 * over the one already there. A document with several paths (a guide's URL and its latest version)
 * is written once, and its other paths are hard links to it. A file or folder of an older output
 * standing in the way is replaced.
 */
export class OutputWriter {
  private readonly made = new Set<string>();

  /** `folders` (relative) exist already: they are not made again (a call each saved). */
  constructor(
    private readonly dir: string,
    folders: readonly string[] = [],
  ) {
    for (const folder of folders) this.made.add(path.join(dir, folder));
  }

  /** Writes `data` at the first of `paths` (relative), and makes the others the same file. */
  write(paths: readonly string[], data: string | Buffer): void {
    const [first, ...others] = paths.map((rel) => path.join(this.dir, rel));
    if (!first) return;
    for (const file of [first, ...others]) this.makeParent(file);
    const written = overwrite(first, data, others);
    for (const other of others) {
      if (sameFile(other, written)) continue;
      rmSync(other, { recursive: true, force: true });
      try {
        linkSync(first, other);
      } catch {
        // A file system without hard links (FAT, some network mounts): a copy reads the same.
        overwrite(other, data);
      }
    }
  }

  /**
   * Puts a copy of the file at `source` (absolute; one that is never written in place, such as a
   * frozen card) at `rel`, with the source's modification time. A copy, not a hard link: a link
   * changes the source's ctime, which the content cache reads as an edit of the guide it belongs to.
   * Whether the spare holds the copy already is for the page record to tell (see build.ts).
   */
  copyFrozen(rel: string, source: string): void {
    const file = path.join(this.dir, rel);
    this.makeParent(file);
    const from = statSync(source);
    if (lstatSync(file, { throwIfNoEntry: false })) rmSync(file, { recursive: true, force: true });
    copyFileSync(source, file);
    // With the permissions of a file this build makes, not the original's.
    if (otherMode(statSync(file).mode, false)) chmodSync(file, fixedMode(0, false));
    utimesSync(file, from.atime, from.mtimeMs / 1000);
  }

  private makeParent(file: string): void {
    const parent = path.dirname(file);
    if (this.made.has(parent)) return;
    makeFolder(parent);
    this.made.add(parent);
  }
}

/** mkdir -p, removing a file that stands where one of the folders must go. */
function makeFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw err;
  }
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    const stats = statSync(d, { throwIfNoEntry: false });
    if (stats && !stats.isDirectory()) {
      rmSync(d, { force: true });
      break;
    }
  }
  mkdirSync(dir, { recursive: true });
}

/**
 * Writes `data` over the file, or creates it, without opening it with O_TRUNC: on ext4 a
 * truncate-to-zero makes close() wait for the data to reach the disk, which costs ten times the
 * write itself. A file that is also linked elsewhere than at `links` (an older output's alias) is
 * first unlinked, so that the write cannot reach the other paths. The parent folder must exist.
 */
function overwrite(file: string, data: string | Buffer, links: readonly string[] = []): Stats {
  let fd = open(file);
  let stats = fstatSync(fd);
  if (stats.nlink > 1 && stats.nlink - 1 !== links.filter((l) => sameFile(l, stats)).length) {
    closeSync(fd);
    rmSync(file, { force: true });
    fd = open(file);
    stats = fstatSync(fd);
  }
  try {
    // A file given other permissions since (chmod by hand) gets those of a new one back.
    if (otherMode(stats.mode, false)) fchmodSync(fd, fixedMode(stats.mode, false));
    const bytes = typeof data === 'string' ? writeSync(fd, data, 0, 'utf8') : writeAll(fd, data);
    // Only a file that was longer keeps a tail to cut off (a call per file saved on most rebuilds).
    if (stats.size > bytes) ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
  return stats;
}

function open(file: string): number {
  try {
    return openSync(file, OPEN_OR_CREATE, 0o666);
  } catch (err) {
    // A folder in an older output, or a file of it this process may not write: made anew.
    if (!['EISDIR', 'EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    rmSync(file, { recursive: true, force: true });
    return openSync(file, OPEN_OR_CREATE, 0o666);
  }
}

function sameFile(file: string, stats: Stats): boolean {
  const other = lstatSync(file, { throwIfNoEntry: false });
  return other !== undefined && other.ino === stats.ino && other.dev === stats.dev;
}

const OPEN_OR_CREATE = constants.O_RDWR | constants.O_CREAT;

function writeAll(fd: number, bytes: Buffer): number {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, written);
  return written;
}

/**
 * Every file and folder below `dir` (none when it does not exist), deepest first so that a folder is
 * judged only after what it holds. Safe to take while files are being written: what existed before
 * is listed either way. Taken before anything is written, it also removes every symbolic link: a
 * build writes none, and one left in an older output (`topics -> /somewhere`) would take the pages
 * written below it out of the output.
 */
export function listOutput(dir: string): Listing {
  const entries = walkTree(dir).filter((e) => {
    if (e.isSymbolicLink) rmSync(path.join(dir, e.rel), { force: true });
    return !e.isSymbolicLink;
  });
  const folders = entries.filter((e) => e.isDirectory).map((e) => e.rel);
  // A folder given other permissions since (chmod by hand) gets those of a new one back.
  for (const folder of ['', ...folders]) {
    const stats = lstatSync(path.join(dir, folder), { throwIfNoEntry: false });
    if (stats?.isDirectory() && otherMode(stats.mode, true)) chmodSync(path.join(dir, folder), fixedMode(stats.mode, true));
  }
  return { paths: entries.map((e) => e.rel).sort((a, b) => b.length - a.length), folders };
}
