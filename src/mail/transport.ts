// SMTP through nodemailer's connection pool: `concurrency` connections, at most `ratePerSecond`
// messages a second (0 for no limit). Messages arrive already encoded (`raw`), so nodemailer only
// moves bytes.
import nodemailer from 'nodemailer';
import type { Transport } from './send.ts';

export interface SmtpSettings {
  url: string;
  concurrency: number;
  ratePerSecond: number;
}

export function smtpTransport(settings: SmtpSettings): Transport {
  const transporter = nodemailer.createTransport({
    url: settings.url,
    pool: true,
    maxConnections: settings.concurrency,
    maxMessages: Infinity,
    ...(settings.ratePerSecond > 0 ? { rateDelta: 1000, rateLimit: settings.ratePerSecond } : {}),
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
