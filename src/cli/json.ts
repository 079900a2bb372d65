// `--json`: one option and one printer, so every command that reports does it the same way.
import type { Command } from 'commander';

/** Adds --json to a command that reports. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print the result as one JSON value on standard output (problems still go to standard error)');
}

/** The command's result as JSON: the whole of standard output, one value, two-space indented. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A list as one JSON array, written an entry at a time: a list of any length is printed without
 * being held whole in memory.
 */
export function printJsonList<T, U>(items: Iterable<T>, entry: (item: T) => U): void {
  let first = true;
  for (const item of items) {
    process.stdout.write(`${first ? '[\n' : ',\n'}  ${JSON.stringify(entry(item))}`);
    first = false;
  }
  process.stdout.write(first ? '[]\n' : '\n]\n');
}
