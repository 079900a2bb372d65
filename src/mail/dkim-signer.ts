// Signing every outgoing message with the site's DKIM keys. This thread canonicalises the message;
// the signatures themselves (the costly part, RSA above all) are made on libuv's thread pool, so
// during a bulk send they run on the other cores while this thread fills and sends the next copies.
// Only as many signatures are made at once as there are cores besides this thread's: more would
// take the CPU from the thread that sends, and make no more signatures a second.
import { availableParallelism } from 'node:os';
import type { Config } from '../content/config-schema.ts';
import { dkimKeys } from './dkim-keys.ts';
import { dkimSignaturesAsync, signOnPool, type DkimKey, type SignOne } from './dkim-sign.ts';
import type { MessageRuns } from './message.ts';

export interface MessageSigner {
  /** The message joined, its signatures in front. */
  sign(message: MessageRuns): Promise<Buffer>;
  close(): void;
}

/** The site's signer, or undefined when it signs with no key; throws ConfigError for bad key settings. */
export function messageSigner(config: Config, o: { clock?: () => number; env?: NodeJS.ProcessEnv } = {}): MessageSigner | undefined {
  const keys = dkimKeys(config, o.env);
  return keys.length === 0 ? undefined : keySigner(keys, o.clock ?? Date.now);
}

export function keySigner(keys: readonly DkimKey[], clock: () => number, atOnce = Math.max(1, availableParallelism() - 1)): MessageSigner {
  const signOne = limited(signOnPool, atOnce);
  return {
    async sign(message) {
      try {
        const signatures = Buffer.from(await dkimSignaturesAsync(message, keys, clock(), signOne), 'latin1');
        return Buffer.concat([signatures, ...(Buffer.isBuffer(message) ? [message] : message)]);
      } catch (err) {
        throw signingFailure(err instanceof Error ? err.message : String(err), err);
      }
    },
    close: () => undefined,
  };
}

/** `signOne`, with at most `atOnce` signatures under way; the others wait their turn, first come first served. */
export function limited(signOne: SignOne, atOnce: number): SignOne {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (algorithm, data, key) => {
    if (running >= atOnce) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await signOne(algorithm, data, key);
    } finally {
      // The slot passes straight to the next in line, if any.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * A message that could not be signed was not sent: the run stops (nodemailer's ECONFIG is one of the
 * codes that fail a run, not a reader) and nobody's copy is in doubt.
 */
function signingFailure(reason: string, cause?: unknown): Error {
  return Object.assign(new Error(`DKIM signing failed: ${reason}`, { cause }), { code: 'ECONFIG', command: 'DKIM' });
}
