// Writing dist/ all at once: files go to a sibling temporary folder which then replaces the old
// output in two renames. A build that fails before that point leaves the previous dist/ untouched.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type OutputFiles = Map<string, string | Buffer>;

export async function writeOutputAtomically(outDir: string, files: OutputFiles): Promise<void> {
  const target = path.resolve(outDir);
  const stamp = `${process.pid}-${Date.now().toString(36)}`;
  const temp = `${target}.tmp-${stamp}`;
  const old = `${target}.old-${stamp}`;
  try {
    await writeTree(temp, files);
    const hadOld = await rename(target, old).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    });
    await rename(temp, target);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function writeTree(dir: string, files: OutputFiles): Promise<void> {
  const dirs = new Set<string>();
  for (const file of files.keys()) dirs.add(path.dirname(path.join(dir, file)));
  // Parents before children, so each mkdir is a single system call.
  for (const d of [...dirs].sort()) await mkdir(d, { recursive: true });
  const entries = [...files];
  const WIDTH = 64;
  for (let i = 0; i < entries.length; i += WIDTH) {
    await Promise.all(entries.slice(i, i + WIDTH).map(([file, data]) => writeFile(path.join(dir, file), data)));
  }
}
