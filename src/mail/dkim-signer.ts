// Signing every outgoing message with the site's DKIM keys, in this thread or in a second one. A bulk
// send signs on the second thread, so the RSA signatures of one batch overlap the SMTP work and ledger
// writes of the next; a single confirmation or test copy signs here.
import { Worker } from 'node:worker_threads';
import type { Config } from '../content/config-schema.ts';
import { dkimKeys } from './dkim-keys.ts';
import { dkimSign, type DkimKey } from './dkim-sign.ts';

export interface MessageSigner {
  sign(raw: Buffer): Promise<Buffer>;
  close(): void;
}

/** The site's signer, or undefined when it signs with no key; throws ConfigError for bad key settings. */
export function messageSigner(config: Config, o: { thread: boolean; clock?: () => number; env?: NodeJS.ProcessEnv }): MessageSigner | undefined {
  const keys = dkimKeys(config, o.env);
  if (keys.length === 0) return undefined;
  const clock = o.clock ?? Date.now;
  return o.thread ? threadSigner(keys, clock) : inlineSigner(keys, clock);
}

/**
 * A message that could not be signed was not sent: the run stops (nodemailer's ECONFIG is one of the
 * codes that fail a run, not a reader) and nobody's copy is in doubt.
 */
function signingFailure(reason: string, cause?: unknown): Error {
  return Object.assign(new Error(`DKIM signing failed: ${reason}`, { cause }), { code: 'ECONFIG', command: 'DKIM' });
}

export function inlineSigner(keys: readonly DkimKey[], clock: () => number): MessageSigner {
  return {
    async sign(raw) {
      try {
        return dkimSign(raw, keys, clock());
      } catch (err) {
        throw signingFailure(err instanceof Error ? err.message : String(err), err);
      }
    },
    close: () => undefined,
  };
}

/** What the signing thread is sent and answers. */
export interface SignRequest {
  id: number;
  raw: Uint8Array;
  now: number;
}
export type SignReply = { id: number; signatures: string } | { id: number; error: string };

export function threadSigner(keys: readonly DkimKey[], clock: () => number): MessageSigner {
  const self = import.meta.url;
  // Keys cross to the thread as KeyObjects: never as PEM text.
  const options = { workerData: { keys } };
  let worker: Worker;
  if (self.endsWith('.ts')) {
    // Running from src/ (tests, editing): the thread registers the TypeScript loader, then loads its module.
    const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const file = JSON.stringify(new URL('./dkim-thread.ts', self).href);
    worker = new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${file}); });`, { ...options, eval: true });
  } else {
    worker = new Worker(new URL('./dkim-thread.js', self), options);
  }
  const waiting = new Map<number, { raw: Buffer; resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  const failAll = (err: Error) => {
    failure ??= signingFailure(err.message, err);
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.on('message', (reply: SignReply) => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if ('error' in reply) w.reject(signingFailure(reply.error));
    else w.resolve(Buffer.concat([Buffer.from(reply.signatures, 'latin1'), w.raw]));
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the DKIM signing thread stopped (exit code ${code})`)));
  // Only work in flight keeps the process alive.
  worker.unref();
  return {
    sign(raw) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { raw, resolve, reject });
        if (waiting.size === 1) worker.ref();
        worker.postMessage({ id, raw, now: clock() } satisfies SignRequest);
      }).finally(() => {
        if (waiting.size === 0) worker.unref();
      }) as Promise<Buffer>;
    },
    close() {
      void worker.terminate();
    },
  };
}
