// The CLI run in this process (see ./in-process.ts), as the CLI tests call it, and what a --json run printed.
import type { Run } from './cli.ts';
import { almanac } from './in-process.ts';

/** One run of `almanac …args`, with `env` set for its duration (undefined removes a variable). */
export function runMain(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return almanac(args, { env });
}

/** The JSON a `--json` run printed: the whole of its standard output, one value. */
export function json<T = Record<string, unknown>>(run: Run): T {
  return JSON.parse(run.stdout) as T;
}
