// One writer at a time: a lock file holding the writer's process id, made with an exclusive create.
// A lock left by a process that no longer runs is taken over.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { processRunning } from './pid.ts';

const LOCK_WAIT_MS = 60_000;

/**
 * Takes the lock `file` for writing `target` (named in the error), waiting while another live
 * process holds it; returns its release.
 */
export async function lock(file: string, target: string, waitMs = LOCK_WAIT_MS): Promise<() => void> {
  const deadline = Date.now() + waitMs;
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
    if (holder && !processRunning(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another almanac process (pid ${holder}) is still writing ${target}; try again when it has finished`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
