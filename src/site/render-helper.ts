// A second thread for the build: it renders pages with the site's templates and writes them into the
// staged output, while the main thread renders and writes the rest. A page depends only on its own
// view model, so the pages are shared out once composed (see splitForHelper in build.ts).
//
// The same file is both sides: imported, it exports RenderHelper; run as a worker, it serves one.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { ContentError, type Problem } from '../content/problems.ts';
import { TemplateSet } from '../render/templates.ts';
import { overwrite } from './output.ts';
import type { Page } from './pages.ts';

type Request = { pages: readonly Page[]; dir: string } | { done: true };
type Reply = { ok: true; written: number } | { ok: false; problems?: Problem[]; message: string };

/** The main thread's handle on the helper. */
export class RenderHelper {
  private readonly worker: Worker;
  private readonly finished: Promise<number>;
  private closed: Promise<void> | undefined;

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
    this.worker.postMessage({ pages, dir } satisfies Request);
  }

  /** Waits for every page handed over to be written; resolves with how many files were. */
  async done(): Promise<number> {
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
async function serve(root: string): Promise<void> {
  const port = parentPort!;
  let templates: TemplateSet | undefined;
  let failed: Reply | undefined;
  try {
    templates = await TemplateSet.load(root, 'site');
  } catch (err) {
    failed = failure(err);
  }
  let written = 0;
  port.on('message', (request: Request) => {
    if ('done' in request) {
      port.postMessage(failed ?? ({ ok: true, written } satisfies Reply));
      return;
    }
    if (failed || !templates) return;
    try {
      templates.renderAll(request.pages, (file, html) => {
        overwrite(path.join(request.dir, file), html);
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

if (!isMainThread && parentPort && (workerData as { root?: string } | null)?.root) {
  await serve((workerData as { root: string }).root);
}
