// Which folder a build may write its output into. The atomic swap (see staged.ts) renames the whole
// output folder away and prunes the spare, so a wrong `--out` would take the site itself, its content
// or its subscriber database with it. The output must be a folder of its own: not the root or a folder
// above it, nothing the site reads or stores into, and either new, empty, or an earlier output (marked).
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE } from '../content/paths.ts';
import { ContentError, type Problem } from '../content/problems.ts';

/** Written into every output: the folder is Almanac's to replace. */
export const OUTPUT_MARKER = '.almanac-output';
export const OUTPUT_MARKER_TEXT = 'Written by "almanac build". This folder is replaced on every build: keep nothing of your own here.\n';

/** Folders below the root that the site reads or stores into. */
const SITE_FOLDERS = ['content', 'templates', '.almanac', 'node_modules', '.git'];

/** Files that an output of every earlier Almanac build has, before outputs were marked. */
const UNMARKED_OUTPUT = ['index.html', '404.html', 'sitemap.xml', 'robots.txt'];

/**
 * What the top of an earlier output can hold: its folders and its pages, feeds and text files. Anything
 * else (a `.git`, someone's notes) means the folder is not only an output, however much it looks like one.
 */
const OUTPUT_FOLDERS = new Set(['assets', 'guides', 'topics', 'news', 'issues', 'feeds', 'figures', 'social']);
const OUTPUT_FILE = /^[^.][^/]*\.(?:html|xml|atom|json|txt)$/;

export interface OutputGuard {
  /** The site folder. */
  root: string;
  /** The output folder as given (relative to the root, or absolute). */
  out: string;
  /** The subscriber database's file, wherever DATABASE_URL puts it. */
  databaseFile?: string;
}

/**
 * The output folder with symbolic links and ".." resolved, once it is known to be safe to replace;
 * throws ContentError (exit 1) naming `--out` otherwise. Reads only: nothing is moved.
 */
export function safeOutputFolder({ root, out, databaseFile }: OutputGuard): string {
  const realRoot = realPath(path.resolve(root));
  const target = realPath(path.resolve(root, out));
  const refuse = (found: string, expected = 'a folder of its own for the built site'): never => {
    const problem: Problem = { file: '--out', expected, found: `${JSON.stringify(out)}, ${found}` };
    throw new ContentError([problem]);
  };
  if (target === realRoot) refuse('the site folder itself (building there would replace the whole site)');
  if (isInside(realRoot, target)) refuse(`a folder that contains the site folder ${realRoot}`);
  for (const name of SITE_FOLDERS) {
    const folder = realPath(path.join(realRoot, name));
    if (target === folder || isInside(target, folder)) refuse(`the site's ${name}/ folder${target === folder ? '' : ' or a folder inside it'}`);
    if (isInside(folder, target)) refuse(`a folder that contains the site's ${name}/ folder`);
  }
  if (databaseFile) {
    const database = realPath(path.resolve(realRoot, databaseFile));
    if (target === path.dirname(database) || isInside(database, target)) refuse(`the folder that holds the subscriber database ${database}`);
  }
  let stats;
  try {
    stats = statSync(target, { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    refuse('a path below a file, not a folder');
  }
  if (!stats) return target;
  if (!stats.isDirectory()) refuse('a file, not a folder');
  const names = readdirSync(target);
  if (names.includes(CONFIG_FILE)) refuse(`a folder with its own ${CONFIG_FILE} (the root of a site)`);
  if (names.length === 0 || names.includes(OUTPUT_MARKER)) return target;
  const foreign = names.filter((name) => !OUTPUT_FOLDERS.has(name) && !OUTPUT_FILE.test(name));
  if (foreign.length === 0 && UNMARKED_OUTPUT.every((name) => names.includes(name)) && existsSync(path.join(target, 'assets'))) return target;
  const listed = (foreign.length > 0 ? foreign : names).sort();
  const shown = listed.slice(0, 3).join(', ') + (listed.length > 3 ? ', …' : '');
  return refuse(
    `a folder that almanac did not write, holding ${shown} (choose a new or empty folder, or empty this one first if nothing in it is needed)`,
    `an empty folder or one that "almanac build" wrote (it holds ${OUTPUT_MARKER})`,
  );
}

/** The real path: symbolic links and ".." resolved, also for a path whose last parts do not exist yet. */
function realPath(p: string): string {
  const missing: string[] = [];
  let cur = p;
  // Bounded, as the system's own resolution is: a loop of dangling links must not hang the build.
  for (let links = 0; ; ) {
    try {
      return path.join(realpathSync.native(cur), ...missing.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      // A dangling symbolic link: what it points at is where the output would go.
      // Below a file (ENOTDIR) nothing is a link: the caller finds the file in the way.
      const link = code === 'ENOENT' ? lstatSync(cur, { throwIfNoEntry: false }) : undefined;
      if (link?.isSymbolicLink()) {
        if (++links > 40) throw new ContentError([{ file: p, expected: 'a path that resolves', found: 'a loop of symbolic links' }]);
        cur = path.resolve(path.dirname(cur), readlinkSync(cur));
        continue;
      }
      const parent = path.dirname(cur);
      if (parent === cur) return path.join(cur, ...missing.reverse());
      missing.push(path.basename(cur));
      cur = parent;
    }
  }
}

/** Whether `inner` is strictly below `outer` (both real, absolute). */
function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
