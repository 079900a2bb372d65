// Bounces and complaints coming back: each reader's message leaves with its own signed return path
// (VERP) through a real SMTP server on loopback; what comes back to it (DSNs, ARF complaints, mail
// to the mailto unsubscribe address) goes through `bounces receive` and `bounces import` into the
// real SQLite store, and shows in `subscribers show`, `issue status` and `status`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { BounceReport } from '../src/cli/bounces.ts';
import type { IssueStatusReport } from '../src/cli/issue-status.ts';
import type { StatusReport } from '../src/cli/status.ts';
import type { SubscriberShow } from '../src/cli/subscribers.ts';
import { readReturnAddress } from '../src/mail/signing.ts';
import { BIN, COMMAND_DEADLINE_MS, PROJECT, tempSite, writeFiles, type Run } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { smtpSink, type Received } from './helpers/smtp.ts';

const SECRET = 'test-secret-0123456789abcdef-6f1c9a2e';
const ISSUE = '2026-04-15-midweek';

async function sentSite(n: number, rcpt?: (address: string) => number | undefined): Promise<{ root: string; messages: Received[] }> {
  const root = await tempSite({ sample: true });
  const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ ...config, bounces: { domain: 'Bounces.Example.org' } }),
    'list.csv': ['email,name,editions', ...Array.from({ length: n }, (_, i) => `reader${i}@example.com,Reader ${i},midweek`)].join('\n'),
  });
  assert.equal((await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
  const built = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
  assert.equal(built.code, 0, built.stderr);
  const sink = await smtpSink({ rcpt });
  try {
    const run = await almanac(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET } });
    assert.equal(run.code, 0, run.stderr);
    return { root, messages: [...sink.messages] };
  } finally {
    await sink.close();
  }
}

describe('return paths (VERP)', () => {
  it('each reader\'s message has its own signed return path and mailto address, naming the reader and the issue', async () => {
    const { messages } = await sentSite(4);
    assert.equal(messages.length, 4);
    const senders = new Set<string>();
    for (const m of messages) {
      assert.match(m.from, /^bounces\+[0-9a-z-]+@bounces\.example\.org$/);
      assert.ok(m.from.split('@')[0]!.length <= 64, 'a local part of at most 64 characters');
      const claims = readReturnAddress(SECRET, m.from);
      assert.equal(claims?.purpose, 'bounce');
      assert.equal(claims?.issueId, ISSUE);
      senders.add(m.from);
      const mailto = /^List-Unsubscribe: <[^>]+>, <mailto:([^?>]+)\?subject=unsubscribe>/m.exec(m.raw.toString('latin1'))?.[1];
      assert.ok(mailto, 'a mailto unsubscribe address');
      const unsub = readReturnAddress(SECRET, mailto);
      assert.deepEqual(unsub, { ...claims, purpose: 'unsubscribe' }, 'the mailto address names the same reader');
      assert.equal(readReturnAddress('another-secret-0123456789abcdef-xyz', m.from), undefined, 'signed with the secret');
    }
    assert.equal(senders.size, 4, 'one return path per reader');
  });
});

/** A fixture with one sent message's return path and mailto address filled in. */
async function report(name: string, sent: Received): Promise<string> {
  const mailto = /^List-Unsubscribe: <[^>]+>, <mailto:([^?>]+)\?/m.exec(sent.raw.toString('latin1'))![1]!;
  const text = await readFile(path.join(PROJECT, 'test/fixtures/bounces', name), 'latin1');
  return text.replaceAll('%RETURN%', sent.from).replaceAll('%UNSUB%', mailto).replace(/\r?\n/g, '\r\n');
}

/** The real binary with `input` on standard input, as an MTA's pipe transport runs it. */
function receive(root: string, input: string, env: NodeJS.ProcessEnv = { ALMANAC_SECRET: SECRET }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'bounces', 'receive', '--json', '--root', root, '--now', '2026-04-16T10:00:00Z'], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('bounces receive did not end'))), COMMAND_DEADLINE_MS);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => (clearTimeout(timer), resolve({ code: code ?? 1, stdout, stderr })));
    child.stdin.end(input, 'latin1');
  });
}

describe('bounces receive and import', () => {
  it('a hard bounce on standard input bounces its reader; a forged one is ignored and still exits 0', async () => {
    const { root, messages } = await sentSite(3);
    const target = messages[0]!;
    const run = await receive(root, await report('dsn-hard.eml', target));
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as BounceReport;
    assert.deepEqual(out.messages.map((m) => [m.kind, m.email, m.issue, m.changed]), [['hard', target.to, ISSUE, { from: 'active', to: 'bounced' }]]);

    const forged = await receive(root, await readFile(path.join(PROJECT, 'test/fixtures/bounces/foreign-dsn.eml'), 'latin1'));
    assert.equal(forged.code, 0, 'an ignored message is handled: the MTA must not bounce it');
    assert.equal((JSON.parse(forged.stdout) as BounceReport).messages[0]!.kind, 'ignored');
    const garbage = await receive(root, '\u0000\u00ff not a message at all');
    assert.equal(garbage.code, 0);
    const unset = await receive(root, await report('dsn-hard.eml', messages[1]!), { ALMANAC_SECRET: '' });
    assert.equal(unset.code, 1, 'without its secret it cannot tell its own return paths: a failure the MTA logs');
    assert.match(unset.stderr, /ALMANAC_SECRET/);

    const list = await almanac(['subscribers', 'list', '--json', '--root', root]);
    const statuses = new Map((JSON.parse(list.stdout) as { email: string; status: string }[]).map((e) => [e.email, e.status]));
    assert.equal(statuses.get(target.to), 'bounced');
    assert.deepEqual([...statuses.values()].filter((s) => s === 'bounced').length, 1, 'nobody else changed');
  });

  it('an mbox and a maildir: soft bounces, a complaint and a mailto unsubscribe, each once however often imported; show, issue status and status report them', async () => {
    const { root, messages } = await sentSite(4);
    const [soft, complainer, leaver] = messages as [Received, Received, Received];
    const mbox = [await report('dsn-soft.eml', soft), await report('arf-abuse.eml', complainer)]
      .map((m) => `From MAILER-DAEMON Thu Apr 16 07:05:00 2026\n${m.replace(/\r\n/g, '\n').replace(/^From /gm, '>From ')}\n`)
      .join('');
    await writeFile(path.join(root, 'reports.mbox'), mbox, 'latin1');
    await mkdir(path.join(root, 'Maildir/new'), { recursive: true });
    await mkdir(path.join(root, 'Maildir/cur'), { recursive: true });
    await writeFile(path.join(root, 'Maildir/new/1776330000.M1P1.host'), await report('mailto-unsubscribe.eml', leaver), 'latin1');

    const imported = await almanac(['bounces', 'import', path.join(root, 'reports.mbox'), '--json', '--root', root, '--now', '2026-04-16T10:00:00Z'], { env: { ALMANAC_SECRET: SECRET } });
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual((JSON.parse(imported.stdout) as BounceReport).messages.map((m) => [m.kind, m.email]), [['soft', soft.to], ['complaint', complainer.to]]);
    const again = await almanac(['bounces', 'import', path.join(root, 'reports.mbox'), '--json', '--root', root], { env: { ALMANAC_SECRET: SECRET } });
    const replays = (JSON.parse(again.stdout) as BounceReport).messages;
    assert.deepEqual(replays.map((m) => m.kind), ['ignored', 'ignored']);
    assert.ok(replays.every((m) => m.text.startsWith('replayed')));
    const maildir = await almanac(['bounces', 'import', path.join(root, 'Maildir'), '--root', root, '--now', '2026-04-16T11:00:00Z'], { env: { ALMANAC_SECRET: SECRET } });
    assert.equal(maildir.code, 0, maildir.stderr);
    assert.match(maildir.stdout, new RegExp(`\tunsubscribe\t${leaver.to} ${ISSUE} \\(active → unsubscribed\\)`));

    const show = await almanac(['subscribers', 'show', complainer.to, '--json', '--root', root]);
    const shown = JSON.parse(show.stdout) as SubscriberShow;
    assert.equal(shown.status, 'unsubscribed');
    assert.equal(shown.unsubscribeReason, 'complaint');
    assert.deepEqual(shown.history.map((h) => [h.date, h.kind, h.issue, h.code]), [['2026-04-16T10:00:00.000Z', 'complaint', ISSUE, 'abuse']]);
    const human = await almanac(['subscribers', 'show', soft.to, '--root', root]);
    assert.match(human.stdout, /^status\tactive$/m, 'one soft bounce does not bounce');
    assert.match(human.stdout, new RegExp(`^  2026-04-16T10:00:00.000Z\tsoft\t${ISSUE}\t4\\.2\\.2\tsmtp; 452 4\\.2\\.2 Mailbox full$`, 'm'));
    const resubscribe = await almanac(['subscribers', 'add', complainer.to, '--resubscribe', '--root', root]);
    assert.equal(resubscribe.code, 1, 'a complaint is not overridden by --resubscribe');
    assert.match(resubscribe.stderr, /complained on 2026-04-16/);

    const status = JSON.parse((await almanac(['issue', 'status', ISSUE, '--json', '--root', root])).stdout) as IssueStatusReport;
    assert.deepEqual(status.returned, { hard: 0, soft: 1, complaint: 1, unsubscribe: 1 });
    const overall = await almanac(['status', '--json', '--root', root, '--now', '2026-04-16T12:00:00Z']);
    assert.deepEqual((JSON.parse(overall.stdout) as StatusReport).complaints.map((c) => [c.issueId, c.sent, c.complaints, c.flagged]), [[ISSUE, 4, 1, true]]);
    assert.match((await almanac(['status', '--root', root])).stdout, /^! 2026-04-15-midweek: complaint rate 25\.00 % \(1 of 4 sent\) passes 0\.3 %/m);
  });

  it('a refusal at send time is a hard bounce in the reader\'s history and the issue\'s counts', async () => {
    const { root } = await sentSite(4, (address) => (address === 'reader3@example.com' ? 550 : undefined));
    const shown = JSON.parse((await almanac(['subscribers', 'show', 'reader3@example.com', '--json', '--root', root])).stdout) as SubscriberShow;
    assert.equal(shown.status, 'bounced');
    assert.deepEqual(shown.history.map((h) => [h.kind, h.issue, h.code]), [['hard', ISSUE, '550']]);
    assert.match(shown.history[0]!.text, /^refused when sent: .*550/);
    const status = JSON.parse((await almanac(['issue', 'status', ISSUE, '--json', '--root', root])).stdout) as IssueStatusReport;
    assert.deepEqual(status.returned, { hard: 1, soft: 0, complaint: 0, unsubscribe: 0 });
  });

  it('a path that is neither a message, an mbox nor a maildir is a problem naming it', async () => {
    const root = await tempSite();
    await mkdir(path.join(root, 'empty'));
    const run = await almanac(['bounces', 'import', path.join(root, 'empty'), '--root', root], { env: { ALMANAC_SECRET: SECRET } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /empty: expected a message \(\.eml\), an mbox file or a maildir, found a folder without new\/ or cur\//);
  });
});
