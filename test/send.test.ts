// `almanac issue send` against a real SMTP server on loopback: exactly once per subscriber, through
// stops, kills, refusals and a server that goes away. The CLI runs in a child process, as a user runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import { verifyToken } from '../src/mail/signing.ts';
import { BIN, PROJECT, almanac, tempSite, writeFiles, type Run, until } from './helpers/cli.ts';
import { almanac as inProcess } from './helpers/in-process.ts';
import { smtpSink, type SmtpSink } from './helpers/smtp.ts';

const SECRET = 'test-secret-0123456789abcdef-6f1c9a2e';
const ISSUE = '2026-04-15-midweek';

/** A site with the sample content, an issue built, and `n` Midweek subscribers (plus two who must get nothing). */
async function siteWithSubscribers(n: number, extraConfig: object = {}): Promise<string> {
  const root = await tempSite({ sample: true });
  const config = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ ...config, ...extraConfig }),
    'list.csv': ['email,name,editions', ...Array.from({ length: n }, (_, i) => `reader${i}@example.com,Reader ${i},midweek`), 'sundayonly@example.com,,sunday', 'gone@example.com,,midweek'].join('\n'),
  });
  assert.equal((await inProcess(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
  const db = new Database(path.join(root, '.almanac/almanac.db'));
  db.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE email = 'gone@example.com'").run();
  db.close();
  const built = await inProcess(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
  assert.equal(built.code, 0, built.stderr);
  return root;
}

const env = (sink: SmtpSink) => ({ SMTP_URL: sink.url, ALMANAC_SECRET: SECRET });
const send = (root: string, sink: SmtpSink, ...args: string[]) => almanac(['issue', 'send', ISSUE, '--root', root, ...args], { env: env(sink) });

function countBy(messages: { to: string }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const { to } of messages) m.set(to, (m.get(to) ?? 0) + 1);
  return m;
}

/** Starts `issue send` in the background and returns a handle to signal it. */
function background(root: string, sink: SmtpSink): { child: ReturnType<typeof spawn>; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, 'issue', 'send', ISSUE, '--root', root], { env: { ...process.env, ...env(sink) } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return { child, done };
}


describe('issue send', () => {
  it('every Midweek subscriber gets exactly one well-formed message with their own unsubscribe link', async () => {
    const root = await siteWithSubscribers(12);
    const sink = await smtpSink();
    try {
      const run = await send(root, sink);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /Midweek #1 \(2026-04-15-midweek\): 12 sent, 0 failed permanently, 0 retried, 0 skipped .*, 0 uncertain/);
      const counts = countBy(sink.messages);
      assert.equal(counts.size, 12);
      assert.ok([...counts.values()].every((n) => n === 1));
      assert.ok(!counts.has('sundayonly@example.com') && !counts.has('gone@example.com'));

      const db = new Database(path.join(root, '.almanac/almanac.db'), { readonly: true });
      const idOf = (email: string) => (db.prepare('SELECT id FROM subscribers WHERE email = ?').get(email) as { id: number }).id;
      const keyOf = (id: number) => (db.prepare('SELECT unsubscribe_key AS k FROM subscribers WHERE id = ?').get(id) as { k: string } | undefined)?.k;
      for (const { to, raw } of sink.messages) {
        const mail = await simpleParser(raw);
        assert.ok(mail.text && mail.html, 'both parts');
        assert.match(String(mail.headers.get('content-type') && raw.toString('latin1')), /Content-Type: multipart\/alternative/);
        assert.equal(mail.subject, 'Midweek #1: Meta Introduces Muse Spark');
        assert.ok(mail.messageId?.includes(`${ISSUE}.${idOf(to)}@almanac.example.org`));
        assert.ok(mail.date);
        assert.match(raw.toString('latin1'), /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
        assert.match(raw.toString('latin1'), /^List-Id: Call Me Almanac <almanac\.almanac\.example\.org>\r$/m);
        const header = raw.toString('latin1').match(/^List-Unsubscribe: <([^>]+)>, <(mailto:[^>]+)>/m)!;
        const token = new URL(header[1]!).searchParams.get('token')!;
        assert.deepEqual(verifyToken(SECRET, token, 'unsubscribe', Date.now(), keyOf), { subscriber: idOf(to) }, 'valid for its own recipient');
        assert.equal(verifyToken(SECRET, token, 'preferences', Date.now(), keyOf), undefined, 'and for nothing else');
        assert.equal(verifyToken('another-secret-0123456789', token, 'unsubscribe', Date.now(), keyOf), undefined);
        assert.ok(String(mail.html).includes(header[1]!.replace(/&/g, '&amp;')) || String(mail.html).includes(header[1]!), 'the body link is the same');
        assert.ok(mail.text!.includes(`Unsubscribe:\n${header[1]}`));
        assert.doesNotMatch(raw.toString('latin1'), /\{\{|\}\}/, 'no placeholder left');
      }
      db.close();

      const again = await send(root, sink);
      assert.equal(again.code, 0);
      assert.equal(sink.messages.length, 12, 'running it again sends nothing');
      const rebuild = await inProcess(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root]);
      assert.equal(rebuild.code, 1);
      assert.match(rebuild.stderr, /issue 2026-04-15-midweek: expected an issue that has not started going out .*found 12 sent, 0 queued/);
      const status = await inProcess(['issue', 'status', ISSUE, '--root', root]);
      assert.match(status.stdout, /12 sent, 0 queued, 0 sending, 0 failed, 0 skipped, 0 uncertain/);
    } finally {
      await sink.close();
    }
  });

  it('SIGTERM mid-send stops cleanly; running it again finishes: nobody twice, nobody skipped', async () => {
    const root = await siteWithSubscribers(40);
    const sink = await smtpSink({ delayMs: 60 });
    try {
      const { child, done } = background(root, sink);
      await until(() => sink.messages.length >= 8);
      child.kill('SIGTERM');
      const first = await done;
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /Terminated: finishing the messages in flight \(at most 20 s\), then stopping/);
      assert.match(first.stdout, /Stopped\. \d+ still queued: run the same command again to finish/);
      const afterStop = sink.messages.length;
      assert.ok(afterStop < 40, `stopped early (${afterStop})`);
      const resumed = await send(root, sink);
      assert.equal(resumed.code, 0, resumed.stderr);
      const counts = countBy(sink.messages);
      assert.equal(counts.size, 40, 'nobody skipped');
      assert.ok([...counts.values()].every((n) => n === 1), 'nobody twice');
      assert.match(resumed.stdout, /40 sent, .* 0 uncertain/);
    } finally {
      await sink.close();
    }
  });

  it('SIGKILL mid-send: nobody skipped; at most one duplicate per connection, reported as uncertain', async () => {
    const root = await siteWithSubscribers(40);
    const sink = await smtpSink({ delayMs: 60 });
    try {
      const { child, done } = background(root, sink);
      await until(() => sink.messages.length >= 8);
      child.kill('SIGKILL');
      await done;
      const resumed = await send(root, sink);
      assert.equal(resumed.code, 0, resumed.stderr);
      const counts = countBy(sink.messages);
      assert.equal(counts.size, 40, 'nobody skipped');
      const duplicates = [...counts.values()].reduce((n, c) => n + (c - 1), 0);
      assert.ok(duplicates <= 5, `duplicates ${duplicates} ≤ 5 connections`);
      const uncertain = Number(/(\d+) uncertain/.exec(resumed.stdout)![1]);
      assert.ok(uncertain >= duplicates && uncertain <= 5, `uncertain ${uncertain}, duplicates ${duplicates}`);
      if (uncertain) assert.match(resumed.stdout, /in flight when an earlier run stopped without finishing/);
    } finally {
      await sink.close();
    }
  });

  it('451 is retried until accepted; 550 is final and marks the address bounced', async () => {
    // One connection, readers in order: reader0 is accepted before reader2 is refused. (A refusal that
    // comes before a run's first acceptance is held back and asked once more: see send-loop tests.)
    const root = await siteWithSubscribers(4, { sending: { concurrency: 1 } });
    const tries = new Map<string, number>();
    const sink = await smtpSink({
      rcpt: (address) => {
        tries.set(address, (tries.get(address) ?? 0) + 1);
        if (address === 'reader1@example.com' && tries.get(address)! < 2) return 451;
        if (address === 'reader2@example.com') return 550;
        return undefined;
      },
    });
    try {
      const run = await send(root, sink);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /3 sent, 1 failed permanently, 1 retried/);
      assert.deepEqual([...countBy(sink.messages).keys()].sort(), ['reader0@example.com', 'reader1@example.com', 'reader3@example.com']);
      assert.equal(tries.get('reader2@example.com'), 1, 'a 5xx address is not retried');
      const bounced = await inProcess(['subscribers', 'list', '--status', 'bounced', '--root', root]);
      assert.match(bounced.stdout, /^reader2@example\.com\t/);
      const again = await send(root, sink);
      assert.equal(again.code, 0);
      assert.equal(tries.get('reader2@example.com'), 1, 'still not retried on the next run');
    } finally {
      await sink.close();
    }
  });

  it('the server going away ends the run with the rest queued; the next run finishes', async () => {
    const root = await siteWithSubscribers(30);
    let sink = await smtpSink({ delayMs: 40 });
    const port = sink.port;
    const { done } = background(root, sink);
    await until(() => sink.messages.length >= 5);
    const firstSink = sink;
    await sink.close(); // messages in flight still complete; new connections are refused
    const first = await done;
    assert.equal(first.code, 2, first.stdout + first.stderr);
    assert.match(first.stderr, /expected a server that accepts the connection, the login and the sender, found .*ECONNREFUSED.*\d+ still queued: run the same command again to finish/);
    sink = await smtpSink({ port });
    try {
      const resumed = await send(root, sink);
      assert.equal(resumed.code, 0, resumed.stderr);
      const all = countBy([...firstSink.messages, ...sink.messages]);
      assert.equal(all.size, 30, 'nobody skipped');
      assert.ok([...all.values()].every((n) => n === 1), 'nobody twice');
    } finally {
      await sink.close();
    }
  });

  it('--dry-run sends nothing and records nothing; --to sends one [Test] copy outside the ledger', async () => {
    const root = await siteWithSubscribers(3);
    const sink = await smtpSink();
    try {
      const dry = await send(root, sink, '--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /Dry run of Midweek #1 \(2026-04-15-midweek\): 3 active Midweek subscribers, 0 already sent; every message rendered .* Nothing was sent\./);
      assert.equal(sink.messages.length, 0);
      const test = await send(root, sink, '--to', 'editor@example.com');
      assert.equal(test.code, 0, test.stderr);
      assert.equal(sink.messages.length, 1);
      assert.equal((await simpleParser(sink.messages[0]!.raw)).subject, '[Test] Midweek #1: Meta Introduces Muse Spark');
      const status = await inProcess(['issue', 'status', ISSUE, '--root', root]);
      assert.match(status.stdout, /0 sent, 0 queued/);
    } finally {
      await sink.close();
    }
  });

  it('refuses clearly: no secret, no SMTP_URL, an unknown issue, a second sender at once', async () => {
    const root = await siteWithSubscribers(60);
    const sink = await smtpSink({ delayMs: 100 });
    try {
      const noSecret = await almanac(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: '' } });
      assert.equal(noSecret.code, 1);
      assert.match(noSecret.stderr, /^environment: ALMANAC_SECRET: expected a random secret of at least 32 characters/m);
      const noSmtp = await almanac(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: '', ALMANAC_SECRET: SECRET } });
      assert.equal(noSmtp.code, 1);
      assert.match(noSmtp.stderr, /^environment: SMTP_URL: expected where mail goes/m);
      const secretLeak = await almanac(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: 'smtp://user:hunter2-secret@127.0.0.1:1', ALMANAC_SECRET: SECRET } });
      assert.doesNotMatch(secretLeak.stdout + secretLeak.stderr, /hunter2|test-secret/, 'secrets never appear');
      const unknown = await almanac(['issue', 'send', '2026-01-01-midweek', '--root', root], { env: env(sink) });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /\.almanac\/issues\/2026-01-01-midweek: expected an issue built with "almanac issue build", found no such issue/);

      // The first sender's messages are held at the server until the second has been refused, so
      // the first is certainly still sending (and holding the lease) when the second starts.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const held = await smtpSink({ hold: () => gate });
      try {
        const { done } = background(root, held);
        await until(() => held.arrived.length >= 1);
        const second = await send(root, held);
        assert.equal(second.code, 2);
        assert.match(second.stderr, /issue 2026-04-15-midweek is being sent by .*:\d+/);
        release();
        const first = await done;
        assert.equal(first.code, 0, first.stderr);
        assert.equal(countBy(held.messages).size, 60);
        assert.ok([...countBy(held.messages).values()].every((n) => n === 1));
      } finally {
        release();
        await held.close();
      }
    } finally {
      await sink.close();
    }
  });

  it('delivers to an SMTP server running in another process', async () => {
    const root = await siteWithSubscribers(10);
    const server = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT, 'test/helpers/smtp-child.ts')], { cwd: PROJECT });
    let out = '';
    server.stdout.on('data', (d) => (out += d));
    try {
      await until(() => /listening \d+/.test(out));
      const port = /listening (\d+)/.exec(out)![1];
      const run = await almanac(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: `smtp://127.0.0.1:${port}`, ALMANAC_SECRET: SECRET } });
      assert.equal(run.code, 0, run.stderr);
      await until(() => (out.match(/^received /gm) ?? []).length >= 10);
      const received = countBy([...out.matchAll(/^received (\S+)$/gm)].map((m) => ({ to: m[1]! })));
      assert.equal(received.size, 10);
      assert.ok([...received.values()].every((n) => n === 1));
    } finally {
      server.kill('SIGTERM');
    }
  });
});
