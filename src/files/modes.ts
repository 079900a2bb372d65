// The permissions a file or folder this process makes gets (0666 or 0777 less the umask): those of an
// output built from scratch, which an output built over an older one must have too.
let umask: number | undefined;

/** The permission bits of a folder (`folder`) or a file this process makes. */
export function madeMode(folder: boolean): number {
  umask ??= process.umask();
  return (folder ? 0o777 : 0o666) & ~umask;
}

/** Whether `mode` (a Stats mode) has other permission bits, or special ones, than `madeMode` gives. */
export function otherMode(mode: number, folder: boolean): boolean {
  return (mode & 0o7777) !== madeMode(folder);
}
