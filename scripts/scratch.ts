// A temporary folder for one benchmark run, removed when the run's process exits, however it exits:
// each run of `npm run bench` otherwise left its databases and sites behind, some 80 MB a run.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
const removeAll = () => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
};
process.on('exit', removeAll);
// A signal ends the process without 'exit': the folders are removed, then the signal is taken again.
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(name, () => {
    removeAll();
    process.kill(process.pid, name);
  });
}

export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
