// Writing dist/ all at once. The new output is written into a spare folder beside it, which then
// replaces dist/ by renames; a build that fails before that point leaves the previous dist/ untouched.
//
// The spare folder is the output of the build before last, kept rather than deleted: on most disks
// creating a file costs many times more than overwriting one, so a rebuild overwrites the files that
// are still there, creates only the new ones and deletes only those that are gone.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { walkTree } from '../content/walk.ts';

export type OutputFiles = Map<string, string | Buffer>;

/** The hidden sibling that holds the spare output, e.g. `.dist.spare` beside `dist`. */
export function spareDir(outDir: string): string {
  const target = path.resolve(outDir);
  return path.join(path.dirname(target), `.${path.basename(target)}.spare`);
}

/**
 * A new output being written into the spare folder. `begin` takes the lock and makes the spare hold
 * exactly the folders the named files need (deleting what is gone); files are then written by
 * `write`, or by anyone else into `dir`; `commit` swaps the spare in, `abort` drops it.
 */
export class StagedOutput {
  private constructor(
    private readonly target: string,
    readonly dir: string,
    private readonly release: () => void,
  ) {}

  static async begin(outDir: string, files: Iterable<string>): Promise<StagedOutput> {
    const target = path.resolve(outDir);
    const spare = spareDir(target);
    const release = await lock(`${spare}.lock`, target);
    const staged = new StagedOutput(target, spare, release);
    try {
      prepareTree(spare, new Set(files));
    } catch (err) {
      await staged.abort();
      throw err;
    }
    return staged;
  }

  write(file: string, data: string | Buffer): void {
    overwrite(path.join(this.dir, file), data);
  }

  async commit(): Promise<void> {
    const swap = `${this.target}.swap-${process.pid}`;
    try {
      const hadOld = existsSync(this.target);
      if (hadOld) await rename(this.target, swap);
      await rename(this.dir, this.target);
      if (hadOld) await rename(swap, this.dir);
    } finally {
      this.release();
    }
  }

  /** The spare is only an optimisation: whatever state a failed build left it in, drop it. */
  async abort(): Promise<void> {
    try {
      await rm(this.dir, { recursive: true, force: true });
    } finally {
      this.release();
    }
  }
}

const LOCK_WAIT_MS = 60_000;

/**
 * One writer at a time per output folder (a build and an `issue build` started together, say):
 * the second waits for the first. A lock left by a process that no longer runs is taken over.
 */
async function lock(file: string, target: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(file, 'utf8')) || 0;
    } catch {
      continue; // released between our attempts
    }
    // An empty lock is one being written this instant: its owner is alive.
    if (holder && !isRunning(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another almanac process (pid ${holder}) is still writing ${target}; try again when it has finished`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isRunning(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes `dir` hold the folders `files` need and nothing that is not among `files`. */
function prepareTree(dir: string, files: ReadonlySet<string>): void {
  const existing = listTree(dir);
  const wantedDirs = new Set<string>();
  for (const file of files) {
    for (let d = path.posix.dirname(file); d !== '.'; d = path.posix.dirname(d)) wantedDirs.add(d);
  }
  for (const [rel, isDir] of existing) {
    if (isDir ? !wantedDirs.has(rel) : !files.has(rel)) rmSync(path.join(dir, rel), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  for (const d of [...wantedDirs].sort()) {
    if (!existing.get(d)) mkdirSync(path.join(dir, d), { recursive: true });
  }
}

/**
 * Writes `data` over an existing file without opening it with O_TRUNC: on ext4 a truncate-to-zero
 * makes close() wait for the data to reach the disk, which costs ten times the write itself.
 */
export function overwrite(file: string, data: string | Buffer): void {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fd = openSync(file, 'w');
  }
  try {
    const bytes = typeof data === 'string' ? writeSync(fd, data, 0, 'utf8') : writeAll(fd, data);
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Buffer): number {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, written);
  return written;
}

/** Relative path → is a directory, for everything below `dir` (empty when it does not exist). */
function listTree(dir: string): Map<string, boolean> {
  const entries = walkTree(dir).map((e): [string, boolean] => [e.rel, e.isDirectory]);
  // Deepest first, so a folder is judged only after what it holds.
  return new Map(entries.sort(([a], [b]) => b.length - a.length));
}
