// A real SMTP server on loopback (the smtp-server package) that keeps every message it accepts.
// `rcpt` decides per recipient: accept, or answer with a code (451 to try later, 550 to refuse);
// `mailFrom` does the same for the sender; `auth` requires a login; `hold` keeps each message's
// answer back until it resolves (a gate, or a promise that never resolves for a server that hangs).
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  to: string;
  /** The envelope sender (MAIL FROM). */
  from: string;
  raw: Buffer;
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: Received[];
  /** Recipients whose message arrived in full, answered or not (yet). */
  arrived: string[];
  close: () => Promise<void>;
}

export async function smtpSink(options: {
  port?: number;
  rcpt?: (address: string) => number | undefined;
  delayMs?: number;
  mailFrom?: (address: string) => number | undefined;
  auth?: { user: string; pass: string };
  hold?: (to: string) => Promise<void>;
} = {}): Promise<SmtpSink> {
  const messages: Received[] = [];
  const arrived: string[] = [];
  const refuse = (code: number) => Object.assign(new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: code });
  const server = new SMTPServer({
    authOptional: !options.auth,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    // A held connection would keep close() waiting for its default 30 s.
    ...(options.hold ? { closeTimeout: 200 } : {}),
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onMailFrom(address, _session, callback) {
      const code = options.mailFrom?.(address.address);
      callback(code ? Object.assign(new Error('Sender address rejected'), { responseCode: code }) : undefined);
    },
    onRcptTo(address, _session, callback) {
      const code = options.rcpt?.(address.address);
      if (code) return callback(refuse(code));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const finish = () => {
          for (const r of session.envelope.rcptTo) messages.push({ to: r.address, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', raw: Buffer.concat(chunks) });
          callback();
        };
        arrived.push(...session.envelope.rcptTo.map((r) => r.address));
        if (options.hold) await options.hold(session.envelope.rcptTo[0]?.address ?? '');
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
    arrived,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
