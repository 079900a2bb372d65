// Reading a file that a build keeps for itself (a cache, a record beside the output), which someone
// may have replaced: only a regular file of a sane size is read. A named pipe would block the build
// for ever, a link to /dev/zero would fill its memory.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/**
 * The bytes of `file` when it is a regular file (not a link to one) of at most `limit` bytes;
 * undefined when it is missing, anything else, larger, or cannot be read.
 */
export function readRegularFile(file: string, limit: number): Buffer | undefined {
  let fd: number;
  try {
    // Not blocking: opening a named pipe for reading would wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > limit) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
