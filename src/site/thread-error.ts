// An error as it crosses from a worker thread to the main one. Structured cloning keeps an Error's
// message, stack and cause but drops the fields the CLI reports from (a file-system error's path and
// code), and a ContentError's problems: this keeps all of them, down the chain of causes.
import { ContentError, type Problem } from '../content/problems.ts';

export interface SentError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  path?: string;
  syscall?: string;
  errno?: number;
  problems?: Problem[];
  cause?: SentError;
}

/** How deep a chain of causes is sent (a cause may point back at its error). */
const MAX_CAUSES = 8;

export function sendableError(err: unknown, depth = 0): SentError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const { code, path, syscall, errno } = err as NodeJS.ErrnoException;
  const sent: SentError = { name: err.name, message: err.message, stack: err.stack };
  if (typeof code === 'string') sent.code = code;
  if (typeof path === 'string') sent.path = path;
  if (typeof syscall === 'string') sent.syscall = syscall;
  if (typeof errno === 'number') sent.errno = errno;
  if (err instanceof ContentError) sent.problems = [...err.problems];
  if (err.cause !== undefined && depth < MAX_CAUSES) sent.cause = sendableError(err.cause, depth + 1);
  return sent;
}

/** The error `sent` describes: a ContentError with its problems, or an Error with its fields and causes. */
export function receivedError(sent: SentError): Error {
  const cause = sent.cause && receivedError(sent.cause);
  const err = sent.problems ? new ContentError(sent.problems) : new Error(sent.message, cause ? { cause } : undefined);
  if (sent.problems && cause) Object.defineProperty(err, 'cause', { value: cause, configurable: true, writable: true });
  err.name = sent.name;
  if (sent.stack) err.stack = sent.stack;
  Object.assign(err, pick(sent));
  return err;
}

function pick({ code, path, syscall, errno }: SentError): Partial<NodeJS.ErrnoException> {
  const fields: Partial<NodeJS.ErrnoException> = {};
  if (code !== undefined) fields.code = code;
  if (path !== undefined) fields.path = path;
  if (syscall !== undefined) fields.syscall = syscall;
  if (errno !== undefined) fields.errno = errno;
  return fields;
}
