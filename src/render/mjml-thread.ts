// MJML → HTML. MJML takes longer to load than an issue takes to compose and check: a command that is
// about to build an issue calls `warmMjml()` first, and MJML then loads on a second thread while this
// one reads the site, and compiles there. Without it (the preview server, tests) MJML loads here, once.
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { startWorker } from '../threads/worker.ts';

const OPTIONS = { validationLevel: 'strict', beautify: false, minify: false, keepComments: false, fonts: {} } as const;

/** One problem MJML found, at a line of the generated document. */
export interface MjmlProblem {
  line: number;
  message: string;
  tagName: string;
}

/** MJML refused the document: `problems` as it listed them (empty when it only threw). */
export class MjmlFailure extends Error {
  constructor(
    message: string,
    readonly problems: readonly MjmlProblem[],
  ) {
    super(message);
  }
}

type Reply = { id: number; html: string } | { id: number; failure: { message: string; problems: MjmlProblem[] } };

class MjmlThread {
  private readonly worker: Worker;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (html: string) => void; reject: (err: unknown) => void }>();
  /** Set once the thread has failed: compiling goes on here instead. */
  broken = false;

  constructor() {
    this.worker = startWorker(import.meta.url, 'mjml-thread', { workerData: { mjmlThread: true } });
    // An idle thread does not keep the command running; one with work does (see compile). Said again
    // once it is online: a thread started through the TypeScript loader forgets the first.
    this.worker.unref();
    this.worker.once('online', () => {
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      if ('html' in reply) waiter?.resolve(reply.html);
      else waiter?.reject(new MjmlFailure(reply.failure.message, reply.failure.problems));
    });
    const fail = (err: unknown) => {
      this.broken = true;
      for (const waiter of this.waiting.values()) waiter.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('the MJML thread stopped')));
  }

  compile(source: string): Promise<string> {
    const id = this.next++;
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, source });
    });
  }
}

let thread: MjmlThread | undefined;

/** Starts loading MJML on a second thread; later compiles run there. */
export function warmMjml(): void {
  thread ??= new MjmlThread();
}

/** The HTML MJML makes of `source`. Throws MjmlFailure when MJML refuses it. */
export async function compileMjml(source: string): Promise<string> {
  if (thread && !thread.broken) {
    try {
      return await thread.compile(source);
    } catch (err) {
      if (err instanceof MjmlFailure) throw err;
      // The thread itself failed (out of memory, say): the same work is done here.
    }
  }
  return compileHere(source);
}

async function compileHere(source: string): Promise<string> {
  const { default: mjml2html } = await import('mjml');
  try {
    return (await mjml2html(source, OPTIONS)).html;
  } catch (err) {
    const problems = (err as { errors?: unknown }).errors;
    throw new MjmlFailure(err instanceof Error ? err.message : String(err), Array.isArray(problems) ? problems.map(plainProblem) : []);
  }
}

function plainProblem(p: Partial<MjmlProblem>): MjmlProblem {
  return { line: Number(p.line ?? 0), message: String(p.message ?? ''), tagName: String(p.tagName ?? '') };
}

if (!isMainThread && parentPort && (workerData as { mjmlThread?: boolean } | null)?.mjmlThread) {
  const port = parentPort;
  // Loaded at once: that is the point of this thread.
  await import('mjml');
  port.on('message', async ({ id, source }: { id: number; source: string }) => {
    try {
      port.postMessage({ id, html: await compileHere(source) } satisfies Reply);
    } catch (err) {
      const failure = err instanceof MjmlFailure ? { message: err.message, problems: [...err.problems] } : { message: String(err), problems: [] };
      port.postMessage({ id, failure } satisfies Reply);
    }
  });
}
