// A file written whole or not at all: into a temporary file beside it, named after this process (see
// pid.ts), then renamed over it. A reader sees the old file or the new one, never half of one.
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/** Writes `data` to `file` through a temporary file; on failure the temporary file is removed and the error thrown. */
export function writeFileAtomically(file: string, data: string | Uint8Array): void {
  const temp = `${file}.tmp-${process.pid}`;
  try {
    // Created afresh, never opened through whatever stands at its name (a link planted there would
    // take the data wherever it points): what a killed run of this pid left is removed first.
    rmSync(temp, { force: true });
    writeFileSync(temp, data, { flag: 'wx' });
    renameSync(temp, file);
  } catch (err) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The first failure is the one to tell.
    }
    throw err;
  }
}
