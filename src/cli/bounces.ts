// `bounces receive` (one message on standard input, for an MTA's pipe) and `bounces import` (an
// .eml file, an mbox or a maildir): each message is classified and its effect applied to the store.
// A message that is ignored is still a message handled: `receive` exits 0 for it, so the MTA does
// not return a bounce to whoever sent the bounce.
import path from 'node:path';
import type { Command } from 'commander';
import { IoError } from '../content/problems.ts';
import { MAX_REPORT_BYTES, classify } from '../mail/bounce-classify.ts';
import { readMailbox, type MailboxMessage } from '../mail/mailbox.ts';
import { secretFromEnv } from '../mail/signing.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import { MailEvents, type Intake, type RecordedKind } from '../store/mail-events.ts';
import { SqliteSubscribers } from '../store/subscribers.ts';
import { printJson, withJson } from './json.ts';
import { globals, resolveNow } from './options.ts';
import { siteConfig } from './site-config.ts';
import { systemError, systemErrorWords } from './system-error.ts';

/** One message of `bounces receive|import --json`. */
export interface BounceEntry {
  source: string;
  kind: RecordedKind;
  email: string | null;
  issue: string | null;
  /** The event's text, or for an ignored message why it was ignored. */
  text: string;
  changed: { from: string; to: string } | null;
}

/** What `bounces receive|import --json` prints. */
export interface BounceReport {
  messages: BounceEntry[];
  counts: Record<RecordedKind, number>;
}

async function intake(cmd: Command, messages: AsyncIterable<MailboxMessage>, json: boolean): Promise<void> {
  const g = globals(cmd);
  const { root, config } = await siteConfig(g.root);
  const secret = secretFromEnv();
  const now = resolveNow(g.now);
  const db = openDatabase(databasePath(root));
  try {
    const subscribers = new SqliteSubscribers(db);
    const events = new MailEvents(db, subscribers, config.bounces);
    const report: BounceReport = { messages: [], counts: { hard: 0, soft: 0, complaint: 0, unsubscribe: 0, ignored: 0 } };
    for await (const m of messages) {
      const result: Intake = events.apply(await classify(m.raw, secret), now);
      const email = result.subscriberId === null ? null : (subscribers.get(result.subscriberId)?.email ?? null);
      const entry: BounceEntry = { source: m.source, kind: result.kind, email, issue: result.issueId, text: result.text, changed: result.changed ?? null };
      report.counts[entry.kind]++;
      if (json) report.messages.push(entry);
      else process.stdout.write(`${line(entry)}\n`);
    }
    if (json) return printJson(report);
    const c = report.counts;
    process.stderr.write(`${c.hard} hard bounce(s), ${c.soft} soft, ${c.complaint} complaint(s), ${c.unsubscribe} unsubscribe(s), ${c.ignored} ignored\n`);
  } finally {
    db.close();
  }
}

function line(e: BounceEntry): string {
  const who = [e.email, e.issue].filter(Boolean).join(' ');
  const change = e.changed ? ` (${e.changed.from} → ${e.changed.to})` : '';
  return `${e.source}\t${e.kind}${who ? `\t${who}` : ''}${change}\t${e.text}`;
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
  withJson(bounces.command('import <path>').description('every message of an .eml file, an mbox file or a maildir folder'))
    .action((location: string, opts: { json?: boolean }, cmd: Command) => intake(cmd, fromPath(location), Boolean(opts.json)));
}
