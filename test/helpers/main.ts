// Runs the CLI in this process through main(argv), with standard output and error captured: the
// same code as the binary, without the cost of a child process.
import { main } from '../../src/cli/main.ts';
import type { Run } from './cli.ts';

type Write = typeof process.stdout.write;

/** One run of `almanac …args`, with `env` set for its duration (undefined removes a variable). */
export async function runMain(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const saved = { out: process.stdout.write, err: process.stderr.write };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  // The CLI writes strings. The test runner reports to its parent through this process's standard
  // output in binary chunks, at any moment: those pass through untouched.
  const capture = (append: (s: string) => void, original: Write, stream: NodeJS.WriteStream): Write =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk !== 'string') return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      append(chunk);
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as Write;
  setEnv(env);
  process.stdout.write = capture((s) => (stdout += s), saved.out, process.stdout);
  process.stderr.write = capture((s) => (stderr += s), saved.err, process.stderr);
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = undefined;
    setEnv(savedEnv);
  }
}

function setEnv(env: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/** The JSON a `--json` run printed: the whole of its standard output, one value. */
export function json<T = Record<string, unknown>>(run: Run): T {
  return JSON.parse(run.stdout) as T;
}
