// Processed images, kept by the hash of their source bytes (and the recipe that made them) in
// .almanac/cache/figures/, so that a rebuild with unchanged images processes none. Each entry is a
// folder written whole under a temporary name and renamed into place: a folder that is there is
// complete. Like the rest of the cache it only ever saves work; a damaged entry is made again.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE_DIR } from './file-cache.ts';

const FACTS = 'facts.json';

export class FigureStore {
  private readonly dir: string;

  constructor(
    root: string,
    private readonly recipe: string,
    /** When false, entries are read but never written (a command that writes nothing, such as check). */
    private readonly writable = true,
  ) {
    this.dir = path.join(root, CACHE_DIR, 'figures');
  }

  /** The facts and files kept for `key`, or undefined. */
  get<F>(key: string): { facts: F; files: Map<string, Buffer> } | undefined {
    const entry = this.entryDir(key);
    try {
      const facts = JSON.parse(readFileSync(path.join(entry, FACTS), 'utf8')) as { recipe: string; facts: F; files: string[] };
      if (facts.recipe !== this.recipe) return undefined;
      const files = new Map<string, Buffer>();
      for (const name of facts.files) files.set(name, readFileSync(path.join(entry, name)));
      return { facts: facts.facts, files };
    } catch {
      return undefined;
    }
  }

  /**
   * The facts kept for `key` and where its files are, without reading them (a build copies them into
   * its output, see OutputWriter.copyFrozen); undefined when the entry is not there whole.
   */
  paths<F>(key: string): { facts: F; files: Map<string, string> } | undefined {
    const entry = this.entryDir(key);
    try {
      const facts = JSON.parse(readFileSync(path.join(entry, FACTS), 'utf8')) as { recipe: string; facts: F; files: string[] };
      if (facts.recipe !== this.recipe) return undefined;
      const files = new Map<string, string>();
      for (const name of facts.files) {
        const file = path.join(entry, name);
        if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return undefined;
        files.set(name, file);
      }
      return { facts: facts.facts, files };
    } catch {
      return undefined;
    }
  }

  /** Keeps `facts` and `files` for `key`; a store that cannot be written costs speed, not correctness. */
  put(key: string, facts: unknown, files: ReadonlyMap<string, Buffer>): void {
    if (!this.writable) return;
    const entry = this.entryDir(key);
    const temporary = `${entry}.tmp-${process.pid}`;
    try {
      rmSync(temporary, { recursive: true, force: true });
      mkdirSync(temporary, { recursive: true });
      for (const [name, bytes] of files) writeFileSync(path.join(temporary, name), bytes);
      writeFileSync(path.join(temporary, FACTS), JSON.stringify({ recipe: this.recipe, facts, files: [...files.keys()] }));
      rmSync(entry, { recursive: true, force: true });
      renameSync(temporary, entry);
    } catch {
      rmSync(temporary, { recursive: true, force: true });
    }
  }

  /** The keys kept, for tests and clean-ups. */
  keys(): string[] {
    try {
      return readdirSync(this.dir).filter((name) => !name.includes('.tmp-'));
    } catch {
      return [];
    }
  }

  private entryDir(key: string): string {
    if (!/^[0-9a-z-]+$/.test(key)) throw new Error(`figure cache key ${JSON.stringify(key)} is not a hash`);
    return path.join(this.dir, key);
  }
}
