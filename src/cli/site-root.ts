// What counts as a site for --root: a folder that holds content/ or almanac.config.json (DESIGN: a
// folder with only content/ builds; every configuration key is optional). Checked before any command
// runs, so that a mistyped --root is named instead of receiving an empty site, a database or dist/.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE, CONTENT_DIR } from '../content/paths.ts';
import { ConfigError } from '../content/problems.ts';

/** Commands that start a site, and so may run where there is none yet. */
const STARTS_SITE = new WeakSet<Command>();

export function startsSite(command: Command): Command {
  STARTS_SITE.add(command);
  return command;
}

export async function requireSite(command: Command, root: string): Promise<void> {
  // An empty value (a shell variable left unset) names no folder: it is not taken for the current
  // one, not even by a command that starts a site there.
  if (root.trim() === '') {
    throw new ConfigError([{ file: '--root', expected: 'a folder', found: 'an empty value' }]);
  }
  if (STARTS_SITE.has(command)) return;
  const problem = (found: string) =>
    new ConfigError([{ file: `--root ${path.resolve(root)}`, expected: `a site folder, one that holds content/ or ${CONFIG_FILE}`, found }]);
  const kind = await stat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw problem('no such folder');
    if (err.code === 'ENOTDIR') throw problem('a path through a file');
    throw err;
  });
  if (!kind.isDirectory()) throw problem('a file');
  const entry = (name: string) => stat(path.join(root, name)).catch(() => undefined);
  // A file named "content" makes no site: only a folder of that name holds content. The configuration
  // counts whatever it is, as reading it names what is wrong with it.
  const hasContent = (await entry(CONTENT_DIR))?.isDirectory() ?? false;
  if (!hasContent && !(await entry(CONFIG_FILE))) throw problem(`a folder with neither content/ nor ${CONFIG_FILE}`);
}
