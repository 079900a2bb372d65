// The spam score of a message as sent (EMAIL-CHECKS 24), from a local SpamAssassin: local tests only
// (`-L`: no DNS blocklists, Razor or Pyzor), no Bayes database, no user preferences written, and a
// deadline. SpamAssassin is optional: when it is not installed the caller says so once.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Finding } from './checks.ts';

export interface SpamRule {
  name: string;
  points: number;
  description: string;
}

export interface SpamReport {
  score: number;
  rules: SpamRule[];
  seconds: number;
}

export type SpamResult =
  | { kind: 'scored'; report: SpamReport }
  | { kind: 'absent'; command: string }
  /** No answer within the deadline: the process and everything it started were killed. */
  | { kind: 'timeout'; seconds: number }
  | { kind: 'failed'; reason: string };

export interface SpamLimits {
  /** A warning above this score. */
  warn: number;
  /** An error above this score. */
  fail: number;
  timeoutSeconds: number;
}

const ARGS = ['-L', '-t', '-x', '--cf=use_bayes 0', '--cf=bayes_auto_learn 0'];

/** The command run: SPAMASSASSIN_PATH, or `spamassassin` from the PATH. */
export function spamCommand(): string {
  return process.env.SPAMASSASSIN_PATH || 'spamassassin';
}

// The preview asks again for a message it has scored: the same bytes get the same score.
const scored = new Map<string, SpamResult>();
const KEPT = 32;

export async function scoreMessage(mime: Buffer, timeoutSeconds: number, command = spamCommand()): Promise<SpamResult> {
  const key = `${command}\u0000${createHash('sha256').update(mime).digest('hex')}`;
  const held = scored.get(key);
  if (held) return held;
  const result = await runSpamAssassin(mime, timeoutSeconds, command);
  if (result.kind === 'scored') {
    if (scored.size >= KEPT) scored.delete(scored.keys().next().value!);
    scored.set(key, result);
  }
  return result;
}

function runSpamAssassin(mime: Buffer, timeoutSeconds: number, command: string): Promise<SpamResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    // A process group of its own, so that a deadline stops whatever SpamAssassin started too (a
    // wrapper script's children would otherwise keep running, and keep its output open).
    // Watched before the child starts: a Ctrl-C meanwhile is then handled (in a later turn of the
    // event loop, by when the group is known) instead of stopping this process alone.
    watchSignals();
    const child = spawn(command, ARGS, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const group = child.pid;
    if (group !== undefined) running.add(group);
    let settled = false;
    // Our own timer rather than spawn's `timeout`: that one stays armed when the command is not
    // found, and holds the whole run open until it fires.
    const timer = setTimeout(() => {
      killGroup(child.pid);
      // Answered now, not when the last pipe closes: a child that escaped the group may hold one.
      child.stdout.destroy();
      child.stderr.destroy();
      child.stdin.destroy();
      done({ kind: 'timeout', seconds: timeoutSeconds });
    }, timeoutSeconds * 1000);
    const done = (result: SpamResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (group !== undefined) running.delete(group);
      resolve(result);
    };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // a child that exits early closes its input; the exit says why
    child.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ENOENT' ? { kind: 'absent', command } : { kind: 'failed', reason: e.message }));
    child.on('close', (code, signal) => {
      if (signal) return done({ kind: 'failed', reason: `${command} was stopped by ${signal}` });
      const report = parseReport(Buffer.concat(out).toString('utf8'));
      if (code !== 0 || !report) {
        const said = Buffer.concat(err).toString('utf8').trim().split('\n').at(-1) ?? '';
        return done({ kind: 'failed', reason: `${command} exited with ${code}${said ? `: ${said}` : ''}` });
      }
      done({ kind: 'scored', report: { ...report, seconds: (performance.now() - started) / 1000 } });
    });
    child.stdin.end(mime);
  });
}

/**
 * The process groups of the SpamAssassin runs under way. Being groups of their own, they do not get
 * the Ctrl-C of the terminal: this process passes it on, and then stops as it would have.
 */
const running = new Set<number>();
let watching = false;

function watchSignals(): void {
  if (watching) return;
  watching = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const passOn = () => {
      for (const pid of running) killGroup(pid);
      running.clear();
      // With no other listener the signal's own behaviour is wanted: ours is removed and it is raised again.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, passOn);
        process.kill(process.pid, signal);
      }
    };
    // First in line: a command's own handler set with `once` (the preview, schedule) is removed just
    // before it runs, so counted after it, it would look absent and the signal would kill the process.
    process.prependListener(signal, passOn);
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group has already gone
  }
}

/** Score and rules from SpamAssassin's test-mode output: the X-Spam-Status header and its report table. */
export function parseReport(output: string): Omit<SpamReport, 'seconds'> | undefined {
  const head = output.split(/\r?\n\r?\n/)[0] ?? '';
  const status = /^X-Spam-Status:([^]*?)(?=\r?\n\S|$)/m.exec(head)?.[1]?.replace(/\s+/g, ' ');
  const score = status && /\bscore=(-?[\d.]+)/.exec(status)?.[1];
  if (score === undefined || score === '') return undefined;
  const rules: SpamRule[] = [];
  const table = /Content analysis details:[^\n]*\n\s*\n\s*pts rule name[^\n]*\n-+ -+ -+\n([^]*?)(?:\n\s*\n|$)/.exec(output)?.[1] ?? '';
  for (const line of table.split('\n')) {
    const row = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$/.exec(line);
    if (row) rules.push({ points: Number(row[1]), name: row[2]!, description: row[3]!.trim() });
    else if (rules.length && line.trim()) rules.at(-1)!.description += ` ${line.trim()}`;
  }
  if (!rules.length) {
    // No table (a local configuration without the report): the rule names alone.
    for (const name of /\btests=([^ ]*)/.exec(status!)?.[1]?.split(',').filter(Boolean) ?? []) rules.push({ name, points: 0, description: '' });
  }
  return { score: Number(score), rules };
}

/** The score as a finding (above the limits) or as a note, with the rules that fired, highest first. */
export function spamFinding(report: SpamReport, limits: SpamLimits): { finding?: Finding; note: string } {
  const fired = report.rules
    .filter((r) => r.points !== 0)
    .sort((a, b) => b.points - a.points)
    .map((r) => `${r.name} ${r.points > 0 ? '+' : ''}${r.points}${r.description ? ` (${r.description})` : ''}`);
  const found = `${report.score} points${fired.length ? `: ${fired.join(', ')}` : ', no rule scored'}`;
  const note = `spam score ${found}`;
  if (report.score > limits.fail) return { note, finding: { check: 'spam-score', severity: 'error', expected: `a SpamAssassin score of at most ${limits.fail}`, found } };
  if (report.score > limits.warn) return { note, finding: { check: 'spam-score', severity: 'warning', expected: `a SpamAssassin score of at most ${limits.warn}`, found } };
  return { note };
}
