// A second thread for the build. While the main thread loads the site, it lists the staged output
// and renders ahead the Markdown of whatever the main thread had to parse afresh (all of it in a
// first build). Then the main thread composes the pages and hands the guides' pages over in batches
// as it goes; this thread renders and writes them while the main thread is still composing. Once it
// has composed everything and rendered the listings, the main thread renders batches too, from the
// last one back, while this thread works from the first one on. Each batch is claimed through a
// shared array, so every batch is rendered once, by whichever thread reaches it first, and both
// threads finish at about the same time however fast each one runs.
//
// Before any of that, while the main thread reads the build cache, it checks the stamps of the
// cached files from the first one on while the main thread does from the last one back.
//
// The same file is both sides: imported, it exports RenderHelper; run as a worker, it serves one.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FileCache, checkShared } from '../cache/file-cache.ts';
import { ContentError, type Problem } from '../content/problems.ts';
import { renderAhead, type RenderedAhead } from '../render/markdown.ts';
import type { TemplateSet } from '../render/templates.ts';
import { OutputWriter, listOutput, type Listing } from '../output/staged.ts';
import type { Page } from './pages.ts';

type Request =
  | { type: 'stamps'; index: Uint8Array; checks: Int32Array<SharedArrayBuffer> }
  | { type: 'output'; dir: string }
  | { type: 'ahead'; guideBodies: readonly string[]; summaries: readonly string[] }
  | { type: 'batch'; index: number; pages: readonly Page[] }
  | { type: 'done' };
type Failure = { ok: false; problems?: Problem[]; message: string };
type Reply =
  | { type: 'listing'; listing: Listing }
  | { type: 'rendered'; rendered: RenderedAhead }
  | ({ type: 'done' } & ({ ok: true; written: number } | Failure));

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
  private readonly finished: Promise<{ written: number }>;
  private readonly listed: Promise<Listing | undefined>;
  private gotListing: (listing: Listing) => void = () => undefined;
  /** Markdown asked for ahead and not yet back, oldest first (the helper answers in order). */
  private readonly ahead: ((rendered: RenderedAhead) => void)[] = [];
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
      this.worker.on('message', (reply: Reply) => {
        if (reply.type === 'listing') this.gotListing(reply.listing);
        else if (reply.type === 'rendered') this.ahead.shift()?.(reply.rendered);
        else if (reply.ok) resolve(reply);
        else reject(reply.problems ? new ContentError(reply.problems) : new Error(reply.message));
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the render thread stopped (exit code ${code})`)));
    });
    // Until asked for, a failure is held (not thrown as unhandled).
    this.finished.catch(() => undefined);
    const listing = new Promise<Listing>((resolve) => (this.gotListing = resolve));
    this.listed = Promise.race([listing, this.finished.then(() => undefined, () => undefined)]);
  }

  /**
   * Has guide bodies and news summaries rendered on the helper; resolves with them, in the order
   * given, or with undefined if the helper stopped.
   */
  renderAhead(guideBodies: readonly string[], summaries: readonly string[]): Promise<RenderedAhead | undefined> {
    const back = new Promise<RenderedAhead>((resolve) => this.ahead.push(resolve));
    this.worker.postMessage({ type: 'ahead', guideBodies, summaries } satisfies Request);
    // A thread that stopped answers nothing: the main thread then renders what is missing itself.
    return Promise.race([back, this.finished.then(() => undefined, () => undefined)]);
  }

  /** Has the helper check the stamps of a cache's entries with the main thread (see FileCache.open). */
  checkStamps(index: Uint8Array, checks: Int32Array<SharedArrayBuffer>): void {
    this.worker.postMessage({ type: 'stamps', index, checks } satisfies Request, [index.buffer as ArrayBuffer]);
  }

  /**
   * Tells the helper where the staged output is (locked by now): it lists what is there while it
   * would wait (see `listing`), and writes the batches it renders there.
   */
  useOutput(dir: string): void {
    this.worker.postMessage({ type: 'output', dir } satisfies Request);
  }

  /** What the staged output held before anything was written (see useOutput); undefined if the helper stopped. */
  listing(): Promise<Listing | undefined> {
    return this.listed;
  }

  /** Offers batch number `index` (numbered from 0 in the order offered) to render and write. */
  offer(index: number, pages: readonly Page[]): void {
    if (index < SHARED_BATCHES) this.worker.postMessage({ type: 'batch', index, pages } satisfies Request);
  }

  /** Claims a batch for the main thread: false when the helper has taken it. */
  claim(index: number): boolean {
    return index >= SHARED_BATCHES || claim(this.claims, index, MAIN);
  }

  /** Waits for every batch the helper claimed to be written; resolves with their count. */
  async done(): Promise<{ written: number }> {
    this.worker.postMessage({ type: 'done' } satisfies Request);
    return this.finished;
  }

  /** Stops the thread; once this resolves it writes nothing more. */
  async close(): Promise<void> {
    this.closed ??= this.worker.terminate().then(() => undefined);
    return this.closed;
  }
}

/**
 * The worker's side. A stamp check is wanted at once (the main thread is reading the cache meanwhile);
 * every other request waits for the templates.
 */
async function serve({ root, claims }: Setup): Promise<void> {
  const port = parentPort!;
  const waiting: Request[] = [];
  let handle: ((request: Request) => void) | undefined;
  port.on('message', (request: Request) => {
    if (request.type === 'stamps') checkShared(request.index, request.checks);
    else if (handle) handle(request);
    else waiting.push(request);
  });
  let templates: TemplateSet | undefined;
  let failed: Failure | undefined;
  try {
    // Loaded only now: Handlebars is the largest thing this thread loads, and the stamp check needs none of it.
    const { TemplateSet } = await import('../render/templates.ts');
    // Compiled as the main thread last saved them; this thread only reads that cache.
    templates = await TemplateSet.load(root, 'site', FileCache.open(root, 'templates'));
  } catch (err) {
    failed = failure(err);
  }
  let written = 0;
  let output: OutputWriter | undefined;
  handle = (request: Request) => {
    switch (request.type) {
      case 'output': {
        const listing = listOutput(request.dir);
        port.postMessage({ type: 'listing', listing } satisfies Reply);
        output = new OutputWriter(request.dir, listing.folders);
        return;
      }
      case 'ahead':
        port.postMessage({ type: 'rendered', rendered: renderAhead(request.guideBodies, request.summaries) } satisfies Reply);
        return;
      case 'done':
        port.postMessage({ type: 'done', ...(failed ?? { ok: true, written }) } satisfies Reply);
        return;
      case 'batch': {
        const { index, pages } = request;
        if (failed || !templates || !output || !claim(claims, index, HELPER)) return;
        const writer = output;
        try {
          templates.renderAll(pages, (paths, html) => {
            writer.write(paths, html);
            written += paths.length;
          });
        } catch (err) {
          failed = failure(err);
        }
      }
    }
  };
  for (const request of waiting.splice(0)) handle(request);
}

function failure(err: unknown): Failure {
  if (err instanceof ContentError) return { ok: false, problems: [...err.problems], message: err.message };
  return { ok: false, message: err instanceof Error ? err.message : String(err) };
}

if (!isMainThread && parentPort && (workerData as Partial<Setup> | null)?.root) {
  await serve(workerData as Setup);
}
