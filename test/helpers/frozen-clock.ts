// A file system whose clock never moves on: every file's times are the same whole second, whatever
// is done to it, as an edit within one tick of a clock that counts in seconds leaves them.
import { lstatSync, type Stats } from 'node:fs';

/** What `file` is (lstat), with its modification and change times both `second` (ms since the epoch). */
export function frozenClock(second = 1_765_000_000_000): (file: string) => Stats | undefined {
  return (file) => {
    const real = lstatSync(file, { throwIfNoEntry: false });
    if (!real) return undefined;
    return Object.assign(Object.create(Object.getPrototypeOf(real) as object) as Stats, real, { mtimeMs: second, ctimeMs: second });
  };
}
