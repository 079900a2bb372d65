import type { Command } from 'commander';
import { UsageError } from '../content/problems.ts';

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
