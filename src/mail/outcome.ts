// What an SMTP failure means, decided from nodemailer's error code, the command it failed at and
// the server's reply code (never from the wording of a message):
//   - reader, permanent: that one address was refused (5xx at RCPT TO, or after DATA);
//   - reader, transient: try that address again later (4xx at RCPT TO, or after DATA);
//   - run: the connection, TLS, authentication or the sender itself failed. No reader is at fault,
//     so no reader's state changes: the run stops and can be resumed once the cause is fixed.
//     `delivered` says whether the message may already have been accepted (a connection that died
//     or stopped answering in the middle of a transaction), so that its row is marked uncertain.

import { ProblemError, type Problem } from '../content/problems.ts';

/** An SMTP failure as nodemailer reports it. */
export interface SmtpFailure {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
  timeoutType?: string;
  originalCode?: string;
  message?: string;
}

export type Verdict =
  | { kind: 'permanent'; reason: string }
  | { kind: 'transient'; reason: string }
  | { kind: 'run'; reason: string; maybeDelivered: boolean };

/** Codes that are never about one recipient: the connection, its security, the login, the setup. */
const RUN_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EREQUIRETLS', 'EDNS', 'ECONFIG', 'EPROXY', 'EPROTOCOL']);
/** 530 authentication required, 534 mechanism too weak, 535 credentials invalid, 538 encryption required (RFC 4954). */
const AUTH_REPLIES = new Set([530, 534, 535, 538]);
/** Commands of the session's setup, before any message. */
const SESSION_COMMANDS = new Set(['EHLO', 'HELO', 'LHLO', 'STARTTLS']);
/** Timeouts while a connection was being set up: no message had started. */
const SETUP_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);
/** Socket errors that mean the connection was never made. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** The server's own words where it answered, else nodemailer's description. */
function reasonOf(err: SmtpFailure): string {
  const text = err.response?.trim() || err.message?.trim() || 'unknown error';
  const where = err.command && err.command !== 'CONN' && err.command !== 'API' ? ` (at ${err.command})` : '';
  return `${text}${where}`;
}

export function classify(err: unknown): Verdict {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SmtpFailure;
  const reason = reasonOf(e);
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (e.code && RUN_CODES.has(e.code)) return { kind: 'run', reason, maybeDelivered: false };
  if (e.command === 'MAIL FROM' || (e.command?.startsWith('AUTH') ?? false)) return { kind: 'run', reason, maybeDelivered: false };
  // Replies about the client's login, wherever a server gives them (some only ask at RCPT TO):
  // never a reader's fault, and no message was taken.
  if (code !== undefined && AUTH_REPLIES.has(code)) return { kind: 'run', reason, maybeDelivered: false };
  // 421: the server is closing the session (overloaded, rate-limited, shutting down), whatever
  // command it answered (RFC 5321 4.2.2). Not the reader's: retrying each reader would spend their
  // attempts on the server's trouble and fail them all for good within a minute.
  if (code === 421) return { kind: 'run', reason, maybeDelivered: false };
  // Refused or cut off while greeting or securing the session: no message had started.
  if (e.command !== undefined && SESSION_COMMANDS.has(e.command)) return { kind: 'run', reason, maybeDelivered: false };
  if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && code !== undefined) {
    // RCPT TO, the DATA command, or the reply after the message: this recipient's answer.
    return code >= 500 ? { kind: 'permanent', reason } : code >= 400 ? { kind: 'transient', reason } : { kind: 'run', reason, maybeDelivered: false };
  }
  // An address nodemailer itself will not put in an envelope: that reader's problem, for good.
  if (e.code === 'EENVELOPE' && e.command === 'API') return { kind: 'permanent', reason };
  if (e.code === 'ETIMEDOUT' && e.timeoutType && SETUP_TIMEOUTS.has(e.timeoutType)) return { kind: 'run', reason, maybeDelivered: false };
  if ((e.code === 'ECONNECTION' || e.code === 'ESOCKET') && e.originalCode && NOT_CONNECTED.has(e.originalCode)) {
    return { kind: 'run', reason, maybeDelivered: false };
  }
  // A connection that dropped or went silent mid-transaction (or anything unknown): the message
  // may have been accepted just before, so its fate is uncertain; going on would only repeat it.
  return { kind: 'run', reason, maybeDelivered: true };
}

/**
 * The SMTP server refused, or could not be reached, as a problem for the user. `code` is nodemailer's
 * (EAUTH, EENVELOPE, ECONNECTION, …), `responseCode` the server's reply code where it answered.
 */
export class SmtpError extends ProblemError {
  override name = 'SmtpError';
  readonly code: string;
  readonly responseCode: number | undefined;
  readonly command: string | undefined;

  constructor(problem: Omit<Problem, 'found'>, failure: unknown) {
    const e = (typeof failure === 'object' && failure !== null ? failure : { message: String(failure) }) as SmtpFailure;
    super([{ ...problem, found: reasonOf(e) }], { cause: failure });
    this.code = e.code ?? 'ESMTP';
    this.responseCode = e.responseCode;
    this.command = e.command;
  }
}
