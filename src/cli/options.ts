import type { Command } from 'commander';
import { ConfigError, UsageError } from '../content/problems.ts';

export interface GlobalOptions {
  root: string;
  now?: string;
}

/** The clock: --now when given (reproducible output), otherwise the system time. */
export function resolveNow(now: string | undefined): number {
  if (now === undefined) return Date.now();
  const ms = Date.parse(now);
  if (!/^\d{4}-\d{2}-\d{2}/.test(now) || Number.isNaN(ms)) {
    throw new UsageError(`--now expects an ISO 8601 date-time such as 2026-11-24T09:00:00Z, found "${now}"`);
  }
  return ms;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** SMTP_URL with any password replaced, for messages: secrets never appear in output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'an unparsable URL';
  }
}

/**
 * Whether the mail library can read `url`: a host, and a user name and password that decode (it
 * decodes them itself, and would fail later with a bare "URI malformed").
 */
function parsesAsSmtpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
    return u.hostname !== '';
  } catch {
    return false;
  }
}

export function smtpUrlFromEnv(): string {
  const url = process.env.SMTP_URL?.trim();
  if (!url || !/^smtps?:\/\//.test(url) || !parsesAsSmtpUrl(url)) {
    throw new ConfigError([
      { file: 'environment', field: 'SMTP_URL', expected: 'where mail goes, e.g. smtp://user:password@mail.example.org:587', found: url ? redactUrl(url) : 'nothing' },
    ]);
  }
  return url;
}
