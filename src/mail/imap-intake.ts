// The bounce mailbox polled over IMAP (`bounces.imap`): each message not yet processed is handed to
// the intake (classified and recorded), then marked processed on the server: flagged with
// $AlmanacProcessed and \Seen, and moved to `processed.moveTo` when that is set. A message that was
// recorded but not marked (the process died in between) comes back on the next poll; the store
// knows its report id and records it as a replay, so its effect is never applied twice.
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
// Writes a list of UIDs as ranges ("1:300,305"): servers cap a command line (Dovecot at 64 KB).
import { packMessageRange } from 'imapflow/lib/tools.js';
import type { ImapConfig } from '../content/config-schema.ts';
import { ConfigError, type Problem } from '../content/problems.ts';
import { MAX_REPORT_BYTES } from './bounce-classify.ts';
import type { MailboxMessage } from './mailbox.ts';
import { secretSetting } from './secret-setting.ts';

/** The keyword a processed message carries; a message with it is never handed to the intake again. */
export const PROCESSED_KEYWORD = '$AlmanacProcessed';

const PASSWORD = 'BOUNCES_IMAP_PASSWORD';

/** The mailbox password, from BOUNCES_IMAP_PASSWORD or the file BOUNCES_IMAP_PASSWORD_FILE names. */
export function imapPasswordFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const problems: Problem[] = [];
  const setting = secretSetting(PASSWORD, env, { what: 'password', fileExpected: 'a readable file holding the password', encoding: 'utf8' }, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  if (!setting) {
    throw new ConfigError([
      { file: 'environment', field: PASSWORD, expected: `the password of the bounces.imap mailbox (or a file named by ${PASSWORD}_FILE)`, found: 'nothing' },
    ]);
  }
  if (setting.variable === PASSWORD) return setting.text;
  // A file written by an editor or `echo` ends with a line break that is not part of the password.
  const password = setting.text.replace(/\r?\n$/, '');
  if (!password) throw new ConfigError([{ file: 'environment', field: `${PASSWORD}_FILE`, expected: 'a file holding the password', found: 'an empty file' }]);
  return password;
}

/** The server could not be reached, refused the login or failed mid-poll: its own words. */
export class ImapFailure extends Error {
  override name = 'ImapFailure';
  constructor(
    readonly words: string,
    /** Messages recorded in this poll before it failed (the last of them possibly not marked). */
    readonly handled: number,
    options?: { cause?: unknown },
  ) {
    super(words, options);
  }
}

export type PolledMessage<T> = { uid: number; source: string; entry: T } | { uid: number; source: string; error: string };

export interface PollResult<T> {
  messages: PolledMessage<T>[];
  /** Messages not yet processed beyond this poll's batch: the next poll takes them. */
  waiting: number;
}

export interface PollOptions<T> {
  imap: ImapConfig;
  password: string;
  /** Classifies and records one message; its result is reported back. A throw skips the message (not marked). */
  handle: (m: MailboxMessage) => Promise<T>;
  /** Closes the connection: the poll ends at once with an ImapFailure, in the words of a reason given as text. */
  signal?: AbortSignal;
  /** Called after a message is recorded and before it is marked (tests inject a crash there). */
  afterRecord?: (uid: number) => void;
  /** For tests: a server without TLS that is not loopback, and extra client options. */
  client?: Partial<ImapFlowOptions>;
}

/** One poll: connect, take up to `batchSize` unprocessed messages, record and mark each, log out. */
export async function pollMailbox<T>(o: PollOptions<T>): Promise<PollResult<T>> {
  const { imap } = o;
  const ms = imap.timeoutSeconds * 1000;
  const client = new ImapFlow({
    host: imap.host,
    port: imap.port,
    secure: imap.secure,
    // Without implicit TLS: STARTTLS required when asked for, never attempted otherwise (the
    // configuration allows plain text only on loopback or when said so).
    doSTARTTLS: imap.secure ? undefined : imap.starttls,
    auth: { user: imap.user, pass: o.password },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: ms,
    greetingTimeout: ms,
    socketTimeout: ms,
    // A report is read up to MAX_REPORT_BYTES (+1, so that a bigger one is known as such).
    maxLiteralSize: MAX_REPORT_BYTES + 1024,
    maxResponseSize: MAX_REPORT_BYTES + 1024 * 1024,
    ...o.client,
  });
  // Failures also come as events (a socket timeout while idle); the awaited command reports them.
  client.on('error', () => undefined);
  const abort = () => client.close();
  // The socket timeout only notices silence: a server that keeps sending without ever completing its
  // answer is cut off when one command (connecting and logging in included) outlasts timeoutSeconds.
  // A second more, so that a silent server is still reported in the client's own words.
  let overdue = false;
  const step = async <R>(command: () => Promise<R>): Promise<R> => {
    const timer = setTimeout(() => {
      overdue = true;
      client.close();
    }, ms + 1000);
    try {
      return await command();
    } finally {
      clearTimeout(timer);
    }
  };
  if (o.signal?.aborted) throw new ImapFailure('stopped before connecting', 0);
  o.signal?.addEventListener('abort', abort, { once: true });
  const messages: PolledMessage<T>[] = [];
  const handled = () => messages.filter((m) => 'entry' in m).length;
  try {
    await step(() => client.connect());
    const moveTo = imap.processed.moveTo;
    if (moveTo) await step(() => ensureMailbox(client, moveTo));
    const lock = await step(() => client.getMailboxLock(imap.mailbox));
    try {
      const box = client.mailbox === false ? undefined : client.mailbox;
      const keeps = !box?.permanentFlags || box.permanentFlags.has('\\*') || box.permanentFlags.has(PROCESSED_KEYWORD);
      if (!keeps && !imap.processed.moveTo) {
        throw new ImapFailure(`mailbox "${imap.mailbox}" does not keep keywords such as ${PROCESSED_KEYWORD}; set bounces.imap.processed.moveTo to move processed messages instead`, 0);
      }
      // Recorded and flagged, but the move did not happen (the process ended in between): finish it.
      if (moveTo) {
        const stranded = (await step(() => client.search({ keyword: PROCESSED_KEYWORD, deleted: false }, { uid: true }))) || [];
        if (stranded.length) await step(() => client.messageMove(packMessageRange(stranded), moveTo, { uid: true }));
      }
      const todo = ((await step(() => client.search({ unKeyword: PROCESSED_KEYWORD, deleted: false }, { uid: true }))) || []).sort((a, b) => a - b);
      const batch = todo.slice(0, imap.batchSize);
      const sizes = new Map<number, number>();
      if (batch.length) {
        await step(async () => {
          for await (const m of client.fetch(packMessageRange(batch), { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
        });
      }
      for (const uid of batch) {
        const size = sizes.get(uid);
        if (size === undefined) continue; // expunged meanwhile by another client
        // A bigger message is read only up to the limit: the classifier ignores it by its size.
        const source = size > MAX_REPORT_BYTES ? { start: 0, maxLength: MAX_REPORT_BYTES + 1 } : true;
        const fetched = await step(() => client.fetchOne(String(uid), { uid: true, source }, { uid: true }));
        if (!fetched || !fetched.source) continue;
        const where = `imap:${imap.mailbox}:${uid}`;
        let entry: T;
        try {
          entry = await o.handle({ source: where, raw: fetched.source });
        } catch (err) {
          // One message the intake could not record is left for the next poll; the rest go on.
          messages.push({ uid, source: where, error: err instanceof Error ? err.message : String(err) });
          continue;
        }
        messages.push({ uid, source: where, entry });
        o.afterRecord?.(uid);
        await step(() => markProcessed(client, uid, moveTo, keeps));
      }
      return { messages, waiting: todo.length - batch.length };
    } finally {
      lock.release();
    }
  } catch (err) {
    if (err instanceof ImapFailure) throw new ImapFailure(err.words, handled(), { cause: err });
    const words = overdue ? `no complete answer within ${imap.timeoutSeconds} s` : o.signal?.aborted ? abortWords(o.signal.reason) : serverWords(err);
    throw new ImapFailure(withoutPassword(words, imap.user, o.password), handled(), { cause: err });
  } finally {
    o.signal?.removeEventListener('abort', abort);
    await logout(client);
  }
}

/**
 * The keyword first, even when moving: a move that fails leaves a message that is skipped, and moved
 * next time. imapflow answers a refused STORE or MOVE with false, not an error; a message left with
 * neither would be read again on every poll, so that ends the poll. `keeps`: whether the mailbox keeps
 * keywords at all (where it does not, a STORE of \Seen alone succeeds and marks nothing).
 */
async function markProcessed(client: ImapFlow, uid: number, moveTo: string | undefined, keeps: boolean): Promise<void> {
  const flagged = (await client.messageFlagsAdd(String(uid), [PROCESSED_KEYWORD, '\\Seen'], { uid: true })) && keeps;
  const moved = moveTo ? Boolean(await client.messageMove(String(uid), moveTo, { uid: true })) : false;
  if (flagged || moved) return;
  const refused = `the server refused to store ${PROCESSED_KEYWORD}${moveTo ? ` and to move it to "${moveTo}"` : ''}`;
  throw new ImapFailure(`message ${uid} was recorded but could not be marked processed: ${refused}`, 0);
}

async function ensureMailbox(client: ImapFlow, path: string): Promise<void> {
  // imapflow creates "Processed" as "INBOX.Processed" where the personal namespace has that prefix
  // (Courier, Cyrus), and such servers do not all answer a second CREATE with ALREADYEXISTS.
  const prefix = client.namespace?.prefix ?? '';
  const boxes = await client.list();
  if (boxes.some((b) => b.path === path || b.path === prefix + path)) return;
  await client.mailboxCreate(path);
}

async function logout(client: ImapFlow): Promise<void> {
  if (!client.usable) {
    client.close();
    return;
  }
  try {
    await client.logout();
  } catch {
    client.close();
  }
}

/** Why the poll was aborted: a reason given as text (the scheduler's deadline), or 'stopped'. */
function abortWords(reason: unknown): string {
  return typeof reason === 'string' ? reason : 'stopped';
}

/**
 * The server's words with the password taken out: a server or proxy may quote the login command back
 * in its refusal, and these words go to the terminal and the scheduler's log. Also as IMAP quotes it,
 * and inside a SASL PLAIN answer.
 */
function withoutPassword(words: string, user: string, password: string): string {
  const forms = [Buffer.from(`\0${user}\0${password}`).toString('base64'), password.replace(/["\\]/g, (c) => `\\${c}`), password];
  return forms.reduce((text, form) => text.replaceAll(form, '…'), words);
}

/** What the server said (a NO or BAD answer's text), or what went wrong on the way to it. */
function serverWords(err: unknown): string {
  const e = err as { message?: string; code?: string; responseText?: string; authenticationFailed?: boolean } | undefined;
  const said = e?.responseText?.trim();
  if (e?.authenticationFailed) return `login refused${said ? `: ${said}` : ''}`;
  if (said) return said;
  const message = e?.message ?? String(err);
  return e?.code ? `${message} (${e.code})` : message;
}
