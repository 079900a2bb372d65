// A real SMTP server on loopback (the smtp-server package) that keeps every message it accepts.
// `rcpt` decides per recipient: accept, or answer with a code (451 to try later, 550 to refuse).
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  to: string;
  raw: Buffer;
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: Received[];
  close: () => Promise<void>;
}

export async function smtpSink(options: {
  port?: number;
  rcpt?: (address: string) => number | undefined;
  delayMs?: number;
} = {}): Promise<SmtpSink> {
  const messages: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const code = options.rcpt?.(address.address);
      if (code) {
        const err = Object.assign(new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: code });
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const finish = () => {
          for (const r of session.envelope.rcptTo) messages.push({ to: r.address, raw: Buffer.concat(chunks) });
          callback();
        };
        if (options.delayMs) setTimeout(finish, options.delayMs);
        else finish();
      });
    },
  });
  // A client killed mid-message resets its connection: expected in these tests, not a failure.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
