// `bounces receive` (one message on standard input, for an MTA's pipe), `bounces import` (an .eml
// file, an mbox or a maildir) and `bounces fetch` (the bounces.imap mailbox): each message is
// classified and its effect applied to the store.
// A message that is ignored is still a message handled: `receive` exits 0 for it, so the MTA does
// not return a bounce to whoever sent the bounce.
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE } from '../content/paths.ts';
import { ConfigError, IoError, formatProblem } from '../content/problems.ts';
import { MAX_REPORT_BYTES } from '../mail/bounce-classify.ts';
import { bounceRecorder, countsLine, emptyCounts, entryLine, type BounceCounts, type BounceEntry } from '../mail/bounce-intake.ts';
import { readMailbox, type MailboxMessage } from '../mail/mailbox.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { databasePath, openDatabase, type Db } from '../store/database.ts';
import { printJson, withJson } from './json.ts';
import { globals, resolveNow } from './options.ts';
import { siteConfig } from './site-config.ts';
import { systemError, systemErrorWords } from './system-error.ts';

export type { BounceEntry } from '../mail/bounce-intake.ts';

/** What `bounces receive|import|fetch --json` prints (`fetch` adds `failed` and `waiting`). */
export interface BounceReport {
  messages: BounceEntry[];
  counts: BounceCounts;
}

/** What `bounces fetch --json` prints. */
export interface FetchReport extends BounceReport {
  /** Messages that could not be recorded this time; they stay unmarked and are tried on the next fetch. */
  failed: { source: string; error: string }[];
  /** Messages beyond this fetch's batch (bounces.imap.batchSize), left for the next one. */
  waiting: number;
}

async function intake(cmd: Command, messages: AsyncIterable<MailboxMessage>, json: boolean): Promise<void> {
  const g = globals(cmd);
  const { root, config } = await siteConfig(g.root);
  const secret = secretFromEnv();
  const now = resolveNow(g.now);
  const db = openDatabase(databasePath(root));
  try {
    const record = bounceRecorder(db, config.bounces, secret, () => now);
    const report: BounceReport = { messages: [], counts: emptyCounts() };
    for await (const m of messages) {
      const entry = await record(m);
      report.counts[entry.kind]++;
      if (json) report.messages.push(entry);
      else process.stdout.write(`${entryLine(entry)}\n`);
    }
    if (json) return printJson(report);
    process.stderr.write(`${countsLine(report.counts)}\n`);
  } finally {
    db.close();
  }
}

/**
 * One poll of the bounces.imap mailbox. The server is reached and logged into before the store is
 * opened, so a wrong password or an unreachable server changes nothing; either is the run's failure
 * (exit 2) with the server's own words.
 */
async function fetchImap(cmd: Command, json: boolean): Promise<void> {
  const g = globals(cmd);
  const { root, config } = await siteConfig(g.root);
  const imap = config.bounces.imap;
  if (!imap) {
    throw new ConfigError([{ file: CONFIG_FILE, field: 'bounces.imap', expected: 'the mailbox bounces arrive in, e.g. {"host": "imap.example.org", "user": "bounces"}', found: 'nothing' }]);
  }
  const { pollMailbox, imapPasswordFromEnv, ImapFailure } = await import('../mail/imap-intake.ts');
  const secret = secretFromEnv();
  const password = imapPasswordFromEnv();
  const now = resolveNow(g.now);
  let db: Db | undefined;
  let record: ((m: MailboxMessage) => Promise<BounceEntry>) | undefined;
  const report: FetchReport = { messages: [], counts: emptyCounts(), failed: [], waiting: 0 };
  try {
    const result = await pollMailbox({
      imap,
      password,
      handle: async (m) => {
        db ??= openDatabase(databasePath(root));
        record ??= bounceRecorder(db, config.bounces, secret, () => now);
        const entry = await record(m);
        report.counts[entry.kind]++;
        if (json) report.messages.push(entry);
        else process.stdout.write(`${entryLine(entry)}\n`);
        return entry;
      },
    });
    for (const m of result.messages) {
      if (!('error' in m)) continue;
      report.failed.push({ source: m.source, error: m.error });
      if (!json) process.stderr.write(`${m.source}: not recorded (${m.error}); it is tried again on the next fetch\n`);
    }
    report.waiting = result.waiting;
  } catch (err) {
    if (!(err instanceof ImapFailure)) throw err;
    const done = err.handled ? `${err.handled} message(s) recorded before it; one not yet marked is read again next time and counts once, the rest wait for the next fetch` : 'nothing was changed';
    process.stderr.write(`${formatProblem({ file: `IMAP ${imap.host}:${imap.port}`, expected: `a server that accepts the login of "${imap.user}" and mailbox "${imap.mailbox}"`, found: `${err.words}; ${done}` })}\n`);
    process.exitCode = 2;
    // As a send that stopped early: what was recorded before the failure is still reported.
    if (json && err.handled) printJson(report);
    return;
  } finally {
    db?.close();
  }
  if (report.failed.length) process.exitCode = 2;
  if (json) return printJson(report);
  const waiting = report.waiting ? `; ${report.waiting} more waiting for the next fetch` : '';
  process.stderr.write(`${countsLine(report.counts)}${waiting}\n`);
}

/** Standard input, whole, as one message; beyond the size limit the rest is read and dropped. */
async function* stdinMessage(): AsyncGenerator<MailboxMessage> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size <= MAX_REPORT_BYTES + 1) chunks.push(chunk as Buffer);
  }
  yield { source: 'stdin', raw: Buffer.concat(chunks) };
}

async function* fromPath(location: string): AsyncGenerator<MailboxMessage> {
  try {
    yield* readMailbox(path.resolve(location));
  } catch (err) {
    const io = systemError(err);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (!io && code !== 'ENOTMAILDIR') throw err;
    const found = code === 'ENOENT' ? 'no such file or folder' : io ? systemErrorWords(io) : 'a folder without new/ or cur/';
    throw new IoError([{ file: location, expected: 'a message (.eml), an mbox file or a maildir', found }], code ?? 'EIO', { cause: err });
  }
}

export function registerBounces(program: Command): void {
  const bounces = program.command('bounces').description('bounces, complaints and mailto unsubscribes that come back to the return paths');
  withJson(bounces.command('receive').description('one message on standard input (for an MTA pipe); exits 0 even when the message is ignored'))
    .action((opts: { json?: boolean }, cmd: Command) => intake(cmd, stdinMessage(), Boolean(opts.json)));
  withJson(bounces.command('fetch').description('one poll of the bounces.imap mailbox (BOUNCES_IMAP_PASSWORD): every message not yet processed, then marks it'))
    .action((opts: { json?: boolean }, cmd: Command) => fetchImap(cmd, Boolean(opts.json)));
  withJson(bounces.command('import <path>').description('every message of an .eml file, an mbox file or a maildir folder'))
    .action((location: string, opts: { json?: boolean }, cmd: Command) => intake(cmd, fromPath(location), Boolean(opts.json)));
}
