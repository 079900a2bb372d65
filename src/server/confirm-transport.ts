// SMTP for confirmation mails: one connection at a time, with a deadline on every step (connect,
// greeting, each command's answer), so a relay that hangs cannot hold the queue. Pooled so that
// close() drops the connection at once, ending a send in flight when `serve` stops.
import nodemailer from 'nodemailer';
import type { Transport } from '../mail/send.ts';

export interface Deadlines {
  connectMs: number;
  greetingMs: number;
  socketMs: number;
}

export const DEFAULT_DEADLINES: Deadlines = { connectMs: 10_000, greetingMs: 10_000, socketMs: 30_000 };

export function confirmationTransport(url: string, deadlines: Deadlines = DEFAULT_DEADLINES): Transport {
  const transporter = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 1,
    maxMessages: Infinity,
    connectionTimeout: deadlines.connectMs,
    greetingTimeout: deadlines.greetingMs,
    socketTimeout: deadlines.socketMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    async send(raw, envelope) {
      await transporter.sendMail({ envelope, raw });
    },
    close() {
      transporter.close();
    },
  };
}
