// The permissions a file or folder this process makes gets (0666 or 0777 less the umask): those of an
// output built from scratch, which an output built over an older one must have too.
let umask: number | undefined;

/** The permission bits of a folder (`folder`) or a file this process makes. */
export function madeMode(folder: boolean): number {
  umask ??= process.umask();
  return (folder ? 0o777 : 0o666) & ~umask;
}

/**
 * Whether `mode` (a Stats mode) is not what this process would make. A file is made with no special
 * bit; a folder may inherit set-group-ID from its parent, so only its permission bits count.
 */
export function otherMode(mode: number, folder: boolean): boolean {
  return (mode & (folder ? 0o777 : 0o7777)) !== madeMode(folder);
}

/** The mode to give a file or folder found with `mode` (see otherMode): a folder keeps its set-group-ID bit. */
export function fixedMode(mode: number, folder: boolean): number {
  return madeMode(folder) | (folder ? mode & 0o2000 : 0);
}
