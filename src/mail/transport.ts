// SMTP through nodemailer's connection pool: `concurrency` connections, at most `ratePerSecond`
// messages a second (0 for no limit). Messages arrive already encoded (`raw`), so nodemailer only
// moves bytes. Every step has a deadline: connecting, the greeting, each command's reply
// (nodemailer's socket inactivity timeout) and the whole message up to the reply after its end.
import nodemailer from 'nodemailer';
import type { MessageSigner } from './dkim-signer.ts';
import type { Transport } from './send-ports.ts';

export interface SmtpTimeouts {
  connectMs: number;
  greetingMs: number;
  commandMs: number;
  /** From the first command of a message to the server's reply after its final dot. */
  dataMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { connectMs: 30_000, greetingMs: 30_000, commandMs: 60_000, dataMs: 120_000 };

export interface SmtpSettings {
  url: string;
  concurrency: number;
  ratePerSecond: number;
  timeouts?: SmtpTimeouts;
  /** Signs each message as it is sent, after every reader's value is in it (DKIM). */
  signer?: MessageSigner;
}

/** The error of a preflight that got no answer in time: shaped like nodemailer's own timeouts. */
function preflightTimeout(ms: number): Error {
  return Object.assign(new Error(`the server did not finish the greeting and login within ${ms} ms`), { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT', command: 'CONN' });
}

/** The error of a message that got no final answer in time: shaped like nodemailer's own timeouts. */
function messageTimeout(ms: number): Error {
  return Object.assign(new Error(`no answer to the message within ${ms} ms`), { code: 'ETIMEDOUT', timeoutType: 'MESSAGE_TIMEOUT', command: 'DATA' });
}

export function smtpTransport(settings: SmtpSettings): Transport {
  const t = settings.timeouts ?? DEFAULT_SMTP_TIMEOUTS;
  const transporter = nodemailer.createTransport({
    url: settings.url,
    pool: true,
    maxConnections: settings.concurrency,
    maxMessages: Infinity,
    connectionTimeout: t.connectMs,
    greetingTimeout: t.greetingMs,
    socketTimeout: t.commandMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  // The rate is kept here, across all connections, one message every 1/ratePerSecond s. (nodemailer's
  // own limit counts per connection and in whole messages per second: `concurrency` times the rate,
  // and never under one a second per connection.) A message's deadline starts once its turn comes.
  const gapMs = settings.ratePerSecond > 0 ? 1000 / settings.ratePerSecond : 0;
  let nextTurn = 0;
  let closed = false;
  const waiting = new Set<() => void>();
  const turn = async (): Promise<void> => {
    if (gapMs === 0) return;
    const now = Date.now();
    const at = Math.max(now, nextTurn);
    nextTurn = at + gapMs;
    if (at > now) {
      await new Promise<void>((resolve) => {
        const done = () => (clearTimeout(timer), waiting.delete(done), resolve());
        const timer = setTimeout(done, at - now);
        waiting.add(done);
      });
    }
    if (closed) throw Object.assign(new Error('the transport was closed before this message could start'), { code: 'ECONNECTION', command: 'CONN' });
  };
  return {
    async send(runs, envelope) {
      await turn();
      const message = settings.signer ? await settings.signer.sign(runs) : Buffer.isBuffer(runs) ? runs : Buffer.concat(runs);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          transporter.sendMail({ envelope, raw: message }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(messageTimeout(t.dataMs)), t.dataMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async verify() {
      // nodemailer's own timeouts bound each step; this bounds them all together, so a server that
      // answers each step just in time still cannot hold the run.
      const ms = t.connectMs + t.greetingMs + t.commandMs;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          transporter.verify(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(preflightTimeout(ms)), ms);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      closed = true;
      for (const done of [...waiting]) done();
      transporter.close();
      settings.signer?.close();
    },
  };
}
