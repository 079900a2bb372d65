// Debug lines for one part of Almanac, written to stderr when ALMANAC_DEBUG names that part
// (ALMANAC_DEBUG=cache, several separated by commas, or 1 or * for every part) or when the command
// was given --verbose. They say why something happened (a cache discarded, say), never what a secret is.

/** Writes one debug line; absent when that part's lines are off. */
export type DebugLog = (line: string) => void;

/** Whether `namespace` is named in `setting` (the value of ALMANAC_DEBUG). */
function debugEnabled(namespace: string, setting = process.env.ALMANAC_DEBUG): boolean {
  if (!setting) return false;
  return setting.split(/[\s,]+/).some((name) => name === '1' || name === '*' || name === namespace);
}

/** The debug log of `namespace` (lines prefixed with it), or undefined when it is off and not forced by --verbose. */
export function debugLog(namespace: string, verbose = false, write: (text: string) => void = (text) => process.stderr.write(text)): DebugLog | undefined {
  if (!verbose && !debugEnabled(namespace)) return undefined;
  return (line) => write(`almanac:${namespace} ${line}\n`);
}
