// Lock and temporary files are named after the process that made them; one whose process is gone
// was left by a run that was killed, and may be cleared.

/** Whether process `pid` still runs on this host (EPERM: it runs, as another user). */
export function processRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
