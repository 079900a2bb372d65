// A second thread for the build. The main thread composes the pages and hands them over in batches
// as it goes; this thread renders and writes them into the staged output while the main thread is
// still composing. Once it has composed everything, the main thread renders batches too, from the
// last one back, while this thread works from the first one on. Each batch is claimed through a
// shared array, so every batch is rendered once, by whichever thread reaches it first, and both
// threads finish at about the same time however fast each one runs.
//
// The same file is both sides: imported, it exports RenderHelper; run as a worker, it serves one.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { FileCache } from '../content/cache.ts';
import { ContentError, type Problem } from '../content/problems.ts';
import { TemplateSet } from '../render/templates.ts';
import { listOutput, overwrite, type Listing } from './output.ts';
import type { Page } from './pages.ts';

type Request = { list: string } | { batch: number; pages: readonly Page[]; dir: string } | { done: true };
type Reply = { ok: true; written: number; listing?: Listing } | { ok: false; problems?: Problem[]; message: string };

/** Batches beyond this many are not shared; the main thread renders them. */
const SHARED_BATCHES = 1 << 16;
const MAIN = 1;
const HELPER = 2;

interface Setup {
  root: string;
  claims: Int32Array;
}

/** True when `by` is the first to claim batch `index`. */
function claim(claims: Int32Array, index: number, by: number): boolean {
  return index < claims.length && Atomics.compareExchange(claims, index, 0, by) === 0;
}

/** The main thread's handle on the helper. */
export class RenderHelper {
  private readonly worker: Worker;
  private readonly claims = new Int32Array(new SharedArrayBuffer(SHARED_BATCHES * Int32Array.BYTES_PER_ELEMENT));
  private readonly finished: Promise<{ written: number; listing?: Listing }>;
  private closed: Promise<void> | undefined;

  /** Starts the thread now, so that it loads its templates while the main thread loads content. */
  constructor(root: string) {
    const self = import.meta.url;
    const options = {
      workerData: { root, claims: this.claims } satisfies Setup,
      // A render allocates many short-lived strings: a larger young generation collects them cheaper.
      resourceLimits: { maxYoungGenerationSizeMb: 96 },
    };
    if (self.endsWith('.ts')) {
      // Running from src/ (tests, editing): the worker registers the TypeScript loader, then loads this file.
      const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
      const file = JSON.stringify(new URL('./render-helper.ts', self).href);
      this.worker = new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${file}); });`, { ...options, eval: true });
    } else {
      this.worker = new Worker(new URL('./render-helper.js', self), options);
    }
    this.finished = new Promise((resolve, reject) => {
      this.worker.once('message', (reply: Reply) => {
        if (reply.ok) resolve(reply);
        else reject(reply.problems ? new ContentError(reply.problems) : new Error(reply.message));
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the render thread stopped (exit code ${code})`)));
    });
    // Until asked for, a failure is held (not thrown as unhandled).
    this.finished.catch(() => undefined);
  }

  /** Asks for a listing of `dir` (see StagedOutput.commit), taken while this thread would be idle. */
  list(dir: string): void {
    this.worker.postMessage({ list: dir } satisfies Request);
  }

  /** Offers batch number `index` (numbered from 0 in the order offered) to render and write below `dir`. */
  offer(index: number, pages: readonly Page[], dir: string): void {
    if (index < SHARED_BATCHES) this.worker.postMessage({ batch: index, pages, dir } satisfies Request);
  }

  /** Claims a batch for the main thread: false when the helper has taken it. */
  claim(index: number): boolean {
    return index >= SHARED_BATCHES || claim(this.claims, index, MAIN);
  }

  /** Waits for every batch the helper claimed to be written; resolves with the count and the listing. */
  async done(): Promise<{ written: number; listing?: Listing }> {
    this.worker.postMessage({ done: true } satisfies Request);
    return this.finished;
  }

  /** Stops the thread; once this resolves it writes nothing more. */
  async close(): Promise<void> {
    this.closed ??= this.worker.terminate().then(() => undefined);
    return this.closed;
  }
}

/** The worker's side. Messages sent while the templates load wait on the port until it listens. */
async function serve({ root, claims }: Setup): Promise<void> {
  const port = parentPort!;
  let templates: TemplateSet | undefined;
  let failed: Reply | undefined;
  try {
    // Compiled as the main thread last saved them; this thread only reads that cache.
    templates = await TemplateSet.load(root, 'site', FileCache.open(root, 'templates', ''));
  } catch (err) {
    failed = failure(err);
  }
  let written = 0;
  let listing: Listing | undefined;
  port.on('message', (request: Request) => {
    if ('done' in request) {
      port.postMessage(failed ?? ({ ok: true, written, listing } satisfies Reply));
      return;
    }
    if ('list' in request) {
      listing = listOutput(request.list);
      return;
    }
    const { batch, pages, dir } = request;
    if (failed || !templates || !claim(claims, batch, HELPER)) return;
    try {
      templates.renderAll(pages, (file, html) => {
        overwrite(path.join(dir, file), html);
        written++;
      });
    } catch (err) {
      failed = failure(err);
    }
  });
}

function failure(err: unknown): Reply {
  if (err instanceof ContentError) return { ok: false, problems: [...err.problems], message: err.message };
  return { ok: false, message: err instanceof Error ? err.message : String(err) };
}

if (!isMainThread && parentPort && (workerData as Partial<Setup> | null)?.root) {
  await serve(workerData as Setup);
}
