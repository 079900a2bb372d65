// A real IMAP server on 127.0.0.1 for the bounce-mailbox tests: hoodiecrow-imap (an in-memory,
// scriptable IMAP4rev1 server) loaded with the given messages; and a server that accepts the
// connection and then says nothing, or greets and then never answers, or never stops talking.
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
  setCommandHandler(command: string, handler: (connection: { send(response: unknown, description: string, parsed: unknown, data: unknown): void }, parsed: { tag: string }, data: unknown, done: () => void) => void): void;
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

/**
 * `starttls`: offers STARTTLS (with hoodiecrow's own self-signed certificate) and refuses LOGIN before it.
 * `refuse`: commands answered NO, as a server does where the login may read but not change the mailbox.
 * `prefix`: the personal namespace's prefix, "INBOX." as Courier and Cyrus have it (folders under INBOX, "." between).
 */
export async function imapServer(options: { messages: string[]; move?: boolean; keywords?: boolean; starttls?: boolean; refuse?: string[]; prefix?: string }): Promise<ImapServer> {
  const plugins = ['ID', 'ENABLE', 'UIDPLUS', 'UNSELECT', 'NAMESPACE', 'LITERALPLUS', ...(options.move === false ? [] : ['MOVE']), ...(options.starttls ? ['STARTTLS', 'LOGINDISABLED'] : [])];
  const inbox = { messages: options.messages.map((raw) => ({ raw, internaldate: '15-Apr-2026 07:03:11 +0000' })), allowPermanentFlags: options.keywords !== false };
  const server = hoodiecrow({
    plugins,
    users: { [IMAP_USER]: { password: IMAP_PASSWORD } },
    storage: { INBOX: inbox, ...(options.prefix ? { [options.prefix]: { separator: '.', type: 'personal', folders: {} } } : { '': { separator: '/', folders: {} } }) },
  });
  for (const command of options.refuse ?? []) {
    server.setCommandHandler(command, (connection, parsed, data, done) => {
      connection.send({ tag: parsed.tag, command: 'NO', attributes: [{ type: 'TEXT', value: 'Permission denied' }] }, `${command} REFUSED`, parsed, data);
      done();
    });
  }
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

/**
 * Greets, then keeps talking without ever finishing an answer: an untagged line every `everyMs`, so
 * the connection is never idle (a socket timeout never fires) and no command ever completes.
 */
export async function babblingServer(everyMs: number): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.setNoDelay(true);
    const talk = setInterval(() => s.write('* OK still working\r\n'), everyMs);
    s.on('close', () => {
      clearInterval(talk);
      sockets.delete(s);
    });
    s.on('error', () => undefined);
    s.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, connections: () => count, close: () => closeServer(server, sockets) };
}

/** Refuses every login, quoting the client's command back in its answer (as some proxies do). */
export async function echoingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write('* OK [CAPABILITY IMAP4rev1] ready\r\n');
    let text = '';
    s.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      for (let end = text.indexOf('\r\n'); end >= 0; end = text.indexOf('\r\n')) {
        const line = text.slice(0, end);
        text = text.slice(end + 2);
        const [tag, command] = line.split(' ');
        if (/^capability$/i.test(command ?? '')) s.write(`* CAPABILITY IMAP4rev1\r\n${tag} OK done\r\n`);
        else if (/^logout$/i.test(command ?? '')) s.end(`* BYE\r\n${tag} OK bye\r\n`);
        else s.write(`${tag} NO [AUTHENTICATIONFAILED] refused: ${line}\r\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => closeServer(server, sockets) };
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}
