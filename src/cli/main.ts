// The command line: parses arguments, calls one stage, prints its result. No logic of its own.
import { Command, CommanderError, Option } from 'commander';
import { ContentError, ProblemError, UsageError, formatProblem } from '../content/problems.ts';
import { requireSite } from './site-root.ts';
import { describeSystemError, systemError, systemErrorWords } from './system-error.ts';
import { warmMjml } from '../render/mjml-thread.ts';

type Register = (program: Command) => void;

// Each command's module is imported only when that command runs (or for --help), so `build` does not
// load the mail, database and server libraries.
const COMMANDS: Record<string, () => Promise<Register>> = {
  build: async () => (await import('./build.ts')).registerBuild,
  check: async () => (await import('./check.ts')).registerCheck,
  guide: async () => (await import('./guide.ts')).registerGuide,
  issue: async () => (await import('./issue.ts')).registerIssue,
  subscribers: async () => (await import('./subscribers.ts')).registerSubscribers,
  serve: async () => (await import('./serve.ts')).registerServe,
  schedule: async () => (await import('./schedule.ts')).registerSchedule,
  status: async () => (await import('./status.ts')).registerStatus,
  preview: async () => (await import('./preview.ts')).registerPreview,
  bounces: async () => (await import('./bounces.ts')).registerBounces,
  keys: async () => (await import('./keys.ts')).registerKeys,
  doctor: async () => (await import('./doctor.ts')).registerDoctor,
  news: async () => (await import('./news.ts')).registerNews,
};

/** Global options that take a value, to find the command name after them. */
const VALUED_GLOBALS = new Set(['--root', '--now']);

/** Where the command's name is in `argv` (its length when there is none). */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUED_GLOBALS.has(arg)) i++;
    else if (!arg.startsWith('-')) return i;
  }
  return argv.length;
}

/**
 * Slow work a command is sure to need, started before the command's own module loads: `issue build`
 * loads MJML on a second thread meanwhile instead of after it.
 */
function headStart(argv: readonly string[], at: number): void {
  if (argv[at] === 'issue' && argv[at + 1] === 'build') warmMjml();
}

/** The program with the command named in `argv` (or every command, for help and unknown names). */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('almanac')
    .description('Versioned guide pages and email issues (Midweek & Sunday, or the editions you configure) from Markdown.')
    .version('0.1.0')
    .addOption(new Option('--root <dir>', 'the site folder').default('.'))
    .addOption(new Option('--now <iso>', 'fix the clock, e.g. 2026-11-24T09:00:00Z (reproducible output)'))
    .showHelpAfterError('(run "almanac --help" for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .hook('preAction', (_program, action) => requireSite(action, action.optsWithGlobals<{ root: string }>().root));
  const at = commandIndex(argv);
  const name = argv[at];
  headStart(argv, at);
  // The version alone needs no command; help and an unknown name list them all.
  const versionOnly = name === undefined && (argv.includes('--version') || argv.includes('-V'));
  const wanted = versionOnly ? [] : name !== undefined && Object.hasOwn(COMMANDS, name) && !argv.includes('help') ? [name] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((n) => COMMANDS[n]!()))) register(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 done, 1 a problem with the input, 2 wrong usage. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  try {
    await (await createProgram(argv)).parseAsync(argv, { from: 'user' });
    // A command that finished but did not complete its job (a send stopped early) sets exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return report(err);
  }
}

let pipesWatched = false;

/**
 * A reader that stops early (`almanac subscribers list | head -1`) closes the pipe: that is not an
 * error, and the command ends as usual with what it did. Writes after it go nowhere. Any other
 * failure of an output stream sets the exit code; one of standard output (a full disk) is also told
 * on standard error, once, as the output the user asked for is incomplete.
 */
function endQuietlyOnClosedPipe(): void {
  if (pipesWatched) return;
  pipesWatched = true;
  let told = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return;
    process.exitCode = 1;
    if (told) return;
    told = true;
    const io = systemError(err);
    process.stderr.write(`almanac: standard output: ${io ? systemErrorWords(io) : err.message}; the output is incomplete\n`);
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.exitCode = 1;
  });
}

/** Prints what went wrong (never a stack, unless ALMANAC_DEBUG asks) and returns the exit code. */
export function report(err: unknown): number {
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`almanac: ${err.message}\n`);
    return 2;
  }
  if (err instanceof ProblemError) {
    for (const p of err.problems) process.stderr.write(`${formatProblem(p)}\n`);
    // The count and "nothing was written" are about content to fix, not about a setting or a server.
    if (err instanceof ContentError) {
      const files = new Set(err.problems.map((p) => p.file.replace(/:\d+$/, ''))).size;
      const n = err.problems.length;
      process.stderr.write(`\n${n} problem${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}; nothing was written.\n`);
    }
    return 1;
  }
  // The system refused a file operation (disk full, permissions): one line naming the file.
  const io = systemError(err);
  if (io) {
    process.stderr.write(`almanac: ${describeSystemError(io)}\n`);
    debugStack(err);
    return 1;
  }
  // Anything else is a fault of ours: one line, no stack, unless the user asks for it.
  process.stderr.write(`almanac: ${err instanceof Error ? err.message : String(err)}\n`);
  debugStack(err);
  return 1;
}

function debugStack(err: unknown): void {
  if (process.env.ALMANAC_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}
