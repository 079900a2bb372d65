// The confirmation queue and its worker as `serve` runs them, for tests that drive createApp in process.
import { copyFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/content/config.ts';
import type { Config } from '../../src/content/config-schema.ts';
import { confirmationComposer } from '../../src/server/confirmation-mail.ts';
import { smtpTransport } from '../../src/mail/transport.ts';
import type { MessageSigner } from '../../src/mail/dkim-signer.ts';
import { startConfirmationWorker } from '../../src/server/confirm-worker.ts';
import { ConfirmationQueue } from '../../src/store/confirmations.ts';
import { databasePath, openDatabase, type Db } from '../../src/store/database.ts';
import { SqliteSubscribers, type SubscriberStore } from '../../src/store/subscribers.ts';
import { TemplateSet } from '../../src/render/templates.ts';
import { createApp } from '../../src/server/app.ts';
import { PROJECT, tempSite } from './cli.ts';
import { smtpSink } from './smtp.ts';

export function confirmationWorker(o: { db: Db; subscribers: SubscriberStore; config: Config; secret: string; smtpUrl: string; clock: () => number; signer?: MessageSigner }) {
  const queue = new ConfirmationQueue(o.db);
  const transport = smtpTransport({ url: o.smtpUrl, concurrency: 1, ratePerSecond: 0, signer: o.signer });
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

/**
 * The reader endpoints in process on loopback, over a fresh site with the sample config, a real
 * SQLite file and a real SMTP server receiving the confirmation mails. Identity, not pacing, is
 * what its users test: every sign-up gets its mail.
 */
export async function readerServer(o: { secret: string; clock: () => number; subscribeLimit: { max: number; windowMs: number } }) {
  const root = await tempSite();
  await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
  const sink = await smtpSink();
  const db = openDatabase(databasePath(root));
  const store = new SqliteSubscribers(db);
  const config = (await loadConfig(root)).config;
  const worker = confirmationWorker({ db, subscribers: store, config, secret: o.secret, smtpUrl: sink.url, clock: o.clock });
  const server = http.createServer(
    createApp({
      distDir: path.join(root, 'dist'),
      config,
      subscribers: store,
      secret: o.secret,
      templates: await TemplateSet.load(root, 'site'),
      confirmations: worker.confirmations,
      recipientGapMs: 0,
      clock: o.clock,
      log: () => {},
      subscribeLimit: o.subscribeLimit,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    root,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sink,
    db,
    store,
    config,
    stop: async () => {
      await worker.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await sink.close();
      db.close();
    },
  };
}
