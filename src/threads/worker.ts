// Starting a worker thread from a module of src/. Compiled, the module is a file of its own in lib/cli/
// (see scripts/compile.mjs); run from src/ (tests, editing), the thread first registers the TypeScript
// loader, then loads the .ts file.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** A worker running `name` (e.g. "render-helper"), the module beside `self` (the caller's import.meta.url). */
export function startWorker(self: string, name: string, options: WorkerOptions): Worker {
  if (self.endsWith('.ts')) {
    const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const file = JSON.stringify(new URL(`./${name}.ts`, self).href);
    return new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${file}); });`, { ...options, eval: true });
  }
  return new Worker(new URL(`./${name}.js`, self), options);
}
