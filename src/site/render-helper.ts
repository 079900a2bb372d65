// The two-thread renderer. A second thread starts with the build: while the main thread reads the
// build cache, it checks the stamps of the cached files from the first one on while the main thread
// does from the last one back; while the main thread loads the site, it lists the staged output and
// renders the Markdown of whatever the main thread parses afresh (all of it in a first build). Then
// the main thread composes the pages and hands the guides' pages over in batches as it goes; this
// thread renders and writes them while the main thread is still composing. Once it has composed
// everything and rendered the listings, the main thread renders batches too, from the last one back,
// while this thread works from the first one on. Each batch is claimed through a shared array, so
// every batch is rendered once, by whichever thread reaches it first, and both threads finish at
// about the same time however fast each one runs.
//
// The same file is both sides: imported, it exports TwoThreadRenderer; run as a worker, it serves one.
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { startWorker } from '../threads/worker.ts';
import { checkFromFirst, type StampChecker } from '../cache/stored-index.ts';
import type { MarkdownRenderer, MarkdownWork, RenderedMarkdown } from '../content/render-queue.ts';
import { renderMarkdown } from '../render/markdown.ts';
import type { TemplateSet } from '../render/templates.ts';
import { OutputWriter, listOutput, type Listing, type StagedOutput } from '../output/staged.ts';
import type { Page } from './page-context.ts';
import { sameTemplates, siteTemplates, writeFiles, type ComposedSite, type SiteRenderer } from './renderer.ts';
import { receivedError, sendableError, type SentError } from './thread-error.ts';

type Request =
  | { type: 'stamps'; index: Uint8Array; checks: Int32Array }
  | { type: 'output'; dir: string }
  | { type: 'markdown'; work: MarkdownWork }
  | { type: 'batch'; index: number; pages: readonly Page[] }
  | { type: 'copies'; copies: ReadonlyMap<string, string> }
  | { type: 'done' };
type Reply =
  | { type: 'listing'; listing: Listing }
  | { type: 'markdown'; rendered: RenderedMarkdown }
  | ({ type: 'done' } & ({ ok: true; templates: string } | { ok: false; error: SentError }));

/** Batches beyond this many are not shared; the main thread renders them. */
const SHARED_BATCHES = 1 << 16;
const MAIN = 1;
const HELPER = 2;

/** Pages go to rendering in batches of about this many, small enough to share out evenly at the end. */
const PAGES_PER_BATCH = 24;

interface Setup {
  root: string;
  claims: Int32Array;
}

/** True when `by` is the first to claim batch `index`. */
function claim(claims: Int32Array, index: number, by: number): boolean {
  return index < claims.length && Atomics.compareExchange(claims, index, 0, by) === 0;
}

export class TwoThreadRenderer implements SiteRenderer {
  private readonly root: string;
  private readonly worker: Worker;
  private readonly claims = new Int32Array(new SharedArrayBuffer(SHARED_BATCHES * Int32Array.BYTES_PER_ELEMENT));
  /** Resolves with the textDigest of the templates the helper compiled. */
  private readonly finished: Promise<string>;
  private readonly listed: Promise<Listing | undefined>;
  private gotListing: (listing: Listing) => void = () => undefined;
  /** Markdown asked for and not yet back, oldest first (the helper answers in order). */
  private readonly rendering: ((rendered: RenderedMarkdown) => void)[] = [];
  private output: StagedOutput | undefined;
  private readonly batches: Page[][] = [];
  private batch: Page[] = [];
  private closed: Promise<void> | undefined;

  readonly stamps: StampChecker = {
    share: (index, entries) => {
      const checks = new Int32Array(new SharedArrayBuffer(entries * Int32Array.BYTES_PER_ELEMENT));
      this.worker.postMessage({ type: 'stamps', index, checks } satisfies Request, [index.buffer as ArrayBuffer]);
      return checks;
    },
  };

  readonly markdown: MarkdownRenderer = {
    render: async (work) => {
      const back = new Promise<RenderedMarkdown>((resolve) => this.rendering.push(resolve));
      this.worker.postMessage({ type: 'markdown', work } satisfies Request);
      // A thread that stopped answers nothing: then this thread renders it (and the failure is reported by finish).
      const stopped = this.finished.then(() => undefined, () => undefined);
      return (await Promise.race([back, stopped])) ?? renderMarkdown(work);
    },
  };

  /** Starts the thread now, so that it loads its templates while the main thread loads content. */
  constructor(root: string) {
    this.root = root;
    const self = import.meta.url;
    const options = {
      workerData: { root, claims: this.claims } satisfies Setup,
      // A render allocates many short-lived strings: a larger young generation collects them cheaper.
      resourceLimits: { maxYoungGenerationSizeMb: 96 },
    };
    this.worker = startWorker(self, 'render-helper', options);
    this.finished = new Promise((resolve, reject) => {
      this.worker.on('message', (reply: Reply) => {
        if (reply.type === 'listing') this.gotListing(reply.listing);
        else if (reply.type === 'markdown') this.rendering.shift()?.(reply.rendered);
        else if (reply.ok) resolve(reply.templates);
        else reject(receivedError(reply.error));
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the render thread stopped (exit code ${code})`)));
    });
    // Until asked for, a failure is held (not thrown as unhandled).
    this.finished.catch(() => undefined);
    const listing = new Promise<Listing>((resolve) => (this.gotListing = resolve));
    this.listed = Promise.race([listing, this.finished.then(() => undefined, () => undefined)]);
  }

  /** The helper lists what the staged output holds while it would wait, and writes the batches it renders there. */
  start(output: StagedOutput): void {
    this.output = output;
    this.worker.postMessage({ type: 'output', dir: output.dir } satisfies Request);
  }

  page(page: Page): void {
    if (this.batch.length >= PAGES_PER_BATCH) this.offer();
    this.batch.push(page);
  }

  async finish(site: ComposedSite, expected: string): Promise<void> {
    this.offer();
    const output = this.output!;
    // Made by the helper once it has no batch left to claim: the copies take it about as long as
    // the batches the main thread renders meanwhile, and they leave this thread's event loop free.
    if (site.copies.size > 0) {
      output.lend();
      this.worker.postMessage({ type: 'copies', copies: site.copies } satisfies Request);
    }
    // Loaded only now, so that the helper has pages to render as early as possible.
    const { templates, save } = await siteTemplates(this.root);
    sameTemplates(templates.textDigest, expected);
    // What the output held (listed by the helper meanwhile): what is gone is pruned at the end.
    output.useListing(await this.listed);
    writeFiles(output, site.files);
    const write = (paths: readonly string[], html: string) => output.write(paths, html);
    for (let at = 0; at < site.listings.length; at += PAGES_PER_BATCH) {
      templates.renderAll(site.listings.slice(at, at + PAGES_PER_BATCH), write);
      await letOthersRun();
    }
    // Then guide pages from the last batch back, meeting the helper, which works from the first one on.
    for (let i = this.batches.length - 1; i >= 0; i--) {
      if (i >= SHARED_BATCHES || claim(this.claims, i, MAIN)) templates.renderAll(this.batches[i]!, write);
      await letOthersRun();
    }
    this.worker.postMessage({ type: 'done' } satisfies Request);
    sameTemplates(await this.finished, expected);
    save();
  }

  async close(): Promise<void> {
    this.closed ??= this.worker.terminate().then(() => undefined);
    return this.closed;
  }

  /** Offers the batch collected so far to the helper; the main thread renders whatever it leaves. */
  private offer(): void {
    if (this.batch.length === 0) return;
    const index = this.batches.push(this.batch) - 1;
    this.batch = [];
    // From here on the helper may write into the staged output.
    if (index === 0) this.output!.lend();
    if (index < SHARED_BATCHES) this.worker.postMessage({ type: 'batch', index, pages: this.batches[index]! } satisfies Request);
  }
}

/**
 * Between batches the event loop turns: a search indexer fed through a pipe (Pagefind's process) is
 * given its records while the pages render, rather than after.
 */
function letOthersRun(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
    if (request.type === 'stamps') checkFromFirst(request.index, request.checks);
    else if (handle) handle(request);
    else waiting.push(request);
  });
  let templates: TemplateSet | undefined;
  let failed: SentError | undefined;
  try {
    // Compiled as the main thread last saved them; this thread only reads that cache.
    templates = (await siteTemplates(root)).templates;
  } catch (err) {
    failed = sendableError(err);
  }
  let output: OutputWriter | undefined;
  handle = (request: Request) => {
    switch (request.type) {
      case 'output': {
        const listing = listOutput(request.dir);
        port.postMessage({ type: 'listing', listing } satisfies Reply);
        output = new OutputWriter(request.dir, listing.folders);
        return;
      }
      case 'markdown':
        port.postMessage({ type: 'markdown', rendered: renderMarkdown(request.work) } satisfies Reply);
        return;
      case 'copies':
        if (failed || !output) return;
        try {
          for (const [file, source] of request.copies) output.copyFrozen(file, source);
        } catch (err) {
          failed = sendableError(err);
        }
        return;
      case 'done':
        port.postMessage({ type: 'done', ...(failed || !templates ? { ok: false as const, error: failed! } : { ok: true as const, templates: templates.textDigest }) } satisfies Reply);
        return;
      case 'batch': {
        const { index, pages } = request;
        if (failed || !templates || !output || !claim(claims, index, HELPER)) return;
        const writer = output;
        try {
          templates.renderAll(pages, (paths, html) => writer.write(paths, html));
        } catch (err) {
          failed = sendableError(err);
        }
      }
    }
  };
  for (const request of waiting.splice(0)) handle(request);
}

if (!isMainThread && parentPort && (workerData as Partial<Setup> | null)?.root) {
  await serve(workerData as Setup);
}
