// Runs `almanac` in this process: the same `main` the binary calls, with the same arguments, output
// and exit code, but without starting Node and loading every library again for each command. For
// tests of what a command reports; the process boundary itself (signals, exit codes, a second
// process) is tested through `almanac` in ./cli.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import { main } from '../../src/cli/main.ts';
import { COMMAND_DEADLINE_MS, type Run } from './cli.ts';

interface Captured {
  stdout: string[];
  stderr: string[];
}

// Only writes made by the command (its own async context) are captured; the test runner keeps
// writing its reports to the real stdout meanwhile.
const capture = new AsyncLocalStorage<Captured>();

function intercept(stream: NodeJS.WriteStream, key: keyof Captured): void {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const into = capture.getStore();
    if (!into) return original(chunk, ...rest);
    into[key].push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stream.write;
}
intercept(process.stdout, 'stdout');
intercept(process.stderr, 'stderr');

// The working folder, the environment and process.exitCode belong to the whole process: one command
// at a time.
let queue: Promise<unknown> = Promise.resolve();

export function almanac(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const run = queue.then(() => runOnce(args, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runOnce(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const into: Captured = { stdout: [], stderr: [] };
  try {
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (options.cwd) process.chdir(options.cwd);
    process.exitCode = undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`almanac ${args.join(' ')} still running after ${COMMAND_DEADLINE_MS} ms`)), COMMAND_DEADLINE_MS);
      timer.unref();
    });
    const code = await Promise.race([capture.run(into, () => main([...args])), deadline]).finally(() => clearTimeout(timer));
    return { code, stdout: into.stdout.join(''), stderr: into.stderr.join('') };
  } finally {
    process.exitCode = undefined;
    process.chdir(savedCwd);
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}
