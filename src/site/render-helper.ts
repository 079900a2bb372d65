// A second thread for the build: it renders pages with the site's templates and writes them into the
// staged output, while the main thread renders and writes the rest. Guide pages are most of a site's
// rendering and writing, and each depends only on its own view model, so they are what it gets.
//
// The same file is both sides: imported, it exports RenderHelper; run as a worker, it serves one.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { ContentError, type Problem } from '../content/problems.ts';
import { TemplateSet } from '../render/templates.ts';
import { overwrite } from './output.ts';
import type { Page } from './pages.ts';

type Request = { pages: Pick<Page, 'file' | 'template' | 'data'>[]; dir: string } | { done: true };
type Reply = { ok: true; written: number } | { ok: false; problems?: Problem[]; message: string };

/** The main thread's handle on the helper. */
export class RenderHelper {
  private readonly worker: Worker;
  private readonly finished: Promise<number>;

  /** Starts the thread now, so that it loads its templates while the main thread loads content. */
  constructor(root: string) {
    const self = import.meta.url;
    const options = {
      workerData: { root },
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
        if (reply.ok) resolve(reply.written);
        else reject(reply.problems ? new ContentError(reply.problems) : new Error(reply.message));
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the render thread stopped (exit code ${code})`)));
    });
    // Until asked for, a failure is held (not thrown as unhandled).
    this.finished.catch(() => undefined);
  }

  /** Hands over pages to render and write below `dir`; pages sharing a view model are rendered once. */
  render(pages: readonly Page[], dir: string): void {
    this.worker.postMessage({ pages: pages.map(({ file, template, data }) => ({ file, template, data })), dir } satisfies Request);
  }

  /** Waits for every page handed over to be written; resolves with how many files were. */
  async done(): Promise<number> {
    this.worker.postMessage({ done: true } satisfies Request);
    return this.finished;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

async function serve(root: string): Promise<void> {
  const port = parentPort!;
  const templates = TemplateSet.load(root, 'site');
  let written = 0;
  let failed: Reply | undefined;
  const queue: Request[] = [];
  let busy = false;
  const drain = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length) {
        const request = queue.shift()!;
        if ('done' in request) {
          port.postMessage(failed ?? ({ ok: true, written } satisfies Reply));
          return;
        }
        if (failed) continue;
        try {
          const set = await templates;
          const rendered = new Map<object, string>();
          for (const page of request.pages) {
            let html = rendered.get(page.data);
            if (html === undefined) rendered.set(page.data, (html = set.render(page.template, page.data)));
            overwrite(path.join(request.dir, page.file), html);
            written++;
          }
        } catch (err) {
          failed = err instanceof ContentError ? { ok: false, problems: [...err.problems], message: err.message } : { ok: false, message: err instanceof Error ? err.message : String(err) };
        }
      }
    } finally {
      busy = false;
    }
  };
  port.on('message', (request: Request) => {
    queue.push(request);
    void drain();
  });
}

if (!isMainThread && parentPort && (workerData as { root?: string } | null)?.root) {
  await serve((workerData as { root: string }).root);
}
