// A real IMAP server on 127.0.0.1 for the bounce-mailbox tests: hoodiecrow-imap (an in-memory,
// scriptable IMAP4rev1 server) loaded with the given messages; and a server that accepts the
// connection and then says nothing, or greets and then never answers.
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);
const hoodiecrow = require('hoodiecrow-imap') as (options: unknown) => Hoodiecrow;

interface StoredMessage {
  uid: number;
  raw: string;
  flags: string[];
}

interface Hoodiecrow {
  server: net.Server;
  listen(port: number, host: string, done: () => void): void;
  getMailbox(path: string): { messages: StoredMessage[] } | undefined;
  appendMessage(path: string, flags: string[], internaldate: string, raw: string): void;
}

export const IMAP_USER = 'bounces';
export const IMAP_PASSWORD = 'correct horse battery staple';

export interface ImapServer {
  port: number;
  /** The messages of a mailbox as the server holds them now (undefined: no such mailbox). */
  messages(path: string): StoredMessage[] | undefined;
  /** Adds a message to INBOX, as delivery would. */
  deliver(raw: string): void;
  close(): Promise<void>;
}

/** `starttls`: offers STARTTLS (with hoodiecrow's own self-signed certificate) and refuses LOGIN before it. */
export async function imapServer(options: { messages: string[]; move?: boolean; keywords?: boolean; starttls?: boolean }): Promise<ImapServer> {
  const plugins = ['ID', 'ENABLE', 'UIDPLUS', 'UNSELECT', 'NAMESPACE', 'LITERALPLUS', ...(options.move === false ? [] : ['MOVE']), ...(options.starttls ? ['STARTTLS', 'LOGINDISABLED'] : [])];
  const inbox = { messages: options.messages.map((raw) => ({ raw, internaldate: '15-Apr-2026 07:03:11 +0000' })), allowPermanentFlags: options.keywords !== false };
  const server = hoodiecrow({
    plugins,
    users: { [IMAP_USER]: { password: IMAP_PASSWORD } },
    storage: { INBOX: inbox, '': { separator: '/', folders: {} } },
  });
  const sockets = new Set<net.Socket>();
  server.server.on('connection', (s: net.Socket) => {
    // hoodiecrow writes an answer in pieces: without this each command waits on delayed ACKs.
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    port,
    messages: (path) => server.getMailbox(path)?.messages.map((m) => ({ uid: m.uid, raw: m.raw, flags: [...m.flags] })),
    deliver: (raw) => server.appendMessage('INBOX', [], '16-Apr-2026 07:03:11 +0000', raw),
    close: () => closeServer(server.server, sockets),
  };
}

/** Accepts connections and then never answers (`greet`: sends the greeting first, then nothing). */
export async function silentServer(greet: boolean): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    if (greet) s.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, connections: () => count, close: () => closeServer(server, sockets) };
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}
