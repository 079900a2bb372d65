// The command line: parses arguments, calls one stage, prints its result. No logic of its own.
import { Command, CommanderError, Option } from 'commander';
import { ContentError, UsageError, formatProblem } from '../content/problems.ts';
import { registerBuild } from './build.ts';
import { registerCheck } from './check.ts';
import { registerGuide } from './guide.ts';
import { registerIssue } from './issue.ts';
import { registerPreview } from './preview.ts';
import { registerSchedule } from './schedule.ts';
import { registerServe } from './serve.ts';
import { registerSubscribers } from './subscribers.ts';

export function createProgram(): Command {
  const program = new Command('almanac')
    .description('Versioned guide pages and Midweek & Sunday email issues from Markdown.')
    .version('0.1.0')
    .addOption(new Option('--root <dir>', 'the site folder').default('.'))
    .addOption(new Option('--now <iso>', 'fix the clock, e.g. 2026-11-24T09:00:00Z (reproducible output)'))
    .showHelpAfterError('(run "almanac --help" for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerBuild(program);
  registerCheck(program);
  registerGuide(program);
  registerIssue(program);
  registerSubscribers(program);
  registerServe(program);
  registerSchedule(program);
  registerPreview(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 done, 1 a problem with the input, 2 wrong usage. */
export async function main(argv: string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv, { from: 'user' });
    // A command that finished but did not complete its job (a send stopped early) sets exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`almanac: ${err.message}\n`);
    return 2;
  }
  if (err instanceof ContentError) {
    for (const p of err.problems) process.stderr.write(`${formatProblem(p)}\n`);
    const files = new Set(err.problems.map((p) => p.file.replace(/:\d+$/, ''))).size;
    const n = err.problems.length;
    process.stderr.write(`\n${n} problem${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}; nothing was written.\n`);
    return 1;
  }
  // Anything else is a fault of ours or of the system (disk full, permissions): one line, no stack,
  // unless the user asks for it.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`almanac: ${message}\n`);
  if (process.env.ALMANAC_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}
