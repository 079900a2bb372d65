// Errors the operating system gives for a file operation, told apart by their errno code and
// system call (never by their wording), and described with the file they are about.
import { getSystemErrorMap } from 'node:util';

export interface SystemError extends Error {
  code: string;
  errno?: number;
  syscall: string;
  path?: string;
  dest?: string;
}

export function systemError(err: unknown): SystemError | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Partial<SystemError>;
  return typeof e.code === 'string' && typeof e.syscall === 'string' ? (err as SystemError) : undefined;
}

/** "dist/x: permission denied (open, EACCES)": the file first, as every other problem line. */
export function describeSystemError(err: SystemError): string {
  const where = err.path === undefined ? '' : err.dest === undefined ? `${err.path}: ` : `${err.path} → ${err.dest}: `;
  return `${where}${systemErrorWords(err)}`;
}

/** "permission denied (open, EACCES)", without the file. */
export function systemErrorWords(err: SystemError): string {
  const words = (typeof err.errno === 'number' ? getSystemErrorMap().get(err.errno)?.[1] : undefined) ?? err.code;
  return `${words} (${err.syscall}, ${err.code})`;
}
