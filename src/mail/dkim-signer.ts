// Signing every outgoing message with the site's DKIM keys. This thread canonicalises the message;
// the signatures themselves (the costly part, RSA above all) are made on libuv's thread pool, so
// during a bulk send they run on the second core while this thread fills and sends the next copies.
import type { Config } from '../content/config-schema.ts';
import { dkimKeys } from './dkim-keys.ts';
import { dkimSignaturesAsync, type DkimKey } from './dkim-sign.ts';
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

export function keySigner(keys: readonly DkimKey[], clock: () => number): MessageSigner {
  return {
    async sign(message) {
      try {
        const signatures = Buffer.from(await dkimSignaturesAsync(message, keys, clock()), 'latin1');
        return Buffer.concat([signatures, ...(Buffer.isBuffer(message) ? [message] : message)]);
      } catch (err) {
        throw signingFailure(err instanceof Error ? err.message : String(err), err);
      }
    },
    close: () => undefined,
  };
}

/**
 * A message that could not be signed was not sent: the run stops (nodemailer's ECONFIG is one of the
 * codes that fail a run, not a reader) and nobody's copy is in doubt.
 */
function signingFailure(reason: string, cause?: unknown): Error {
  return Object.assign(new Error(`DKIM signing failed: ${reason}`, { cause }), { code: 'ECONFIG', command: 'DKIM' });
}
