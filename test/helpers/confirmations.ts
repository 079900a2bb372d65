// The confirmation queue and its worker as `serve` runs them, for tests that drive createApp in process.
import type { Config } from '../../src/content/schema.ts';
import { confirmationComposer } from '../../src/server/confirmation-mail.ts';
import { smtpTransport } from '../../src/mail/transport.ts';
import { startConfirmationWorker } from '../../src/server/confirm-worker.ts';
import { ConfirmationQueue } from '../../src/store/confirmations.ts';
import type { Db } from '../../src/store/database.ts';
import type { SubscriberStore } from '../../src/store/subscribers.ts';

export function confirmationWorker(o: { db: Db; subscribers: SubscriberStore; config: Config; secret: string; smtpUrl: string; clock: () => number }) {
  const queue = new ConfirmationQueue(o.db);
  const transport = smtpTransport({ url: o.smtpUrl, concurrency: 1, ratePerSecond: 0 });
  const worker = startConfirmationWorker({
    queue,
    transport,
    compose: confirmationComposer({ config: o.config, secret: o.secret, subscribers: o.subscribers }),
    clock: o.clock,
    log: () => {},
    idleMs: 20,
  });
  return {
    confirmations: { queue, wake: () => worker.wake() },
    stop: async () => {
      await worker.stop();
      transport.close();
    },
  };
}
