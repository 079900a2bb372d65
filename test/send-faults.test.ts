// `issue send` against a real loopback SMTP server that misbehaves: a wrong password, a refused
// sender, a server that takes the message and never answers, a stop while it hangs, and a sender
// paused past its lease while another takes over. The CLI runs in a child process, as a user runs it.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { until } from './helpers/cli.ts';
import { almanac as inProcess } from './helpers/in-process.ts';
import { smtpSink } from './helpers/smtp.ts';
import { ISSUE, countBy, ledgerRows, sendInBackground, sendNow, sendSite } from './helpers/send-site.ts';

/** A run that never ends is killed here, so that a hang fails the test instead of stalling the suite. */
async function bounded<R>(run: { child: ChildProcess; done: Promise<R> }, ms: number): Promise<R> {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), ms);
  try {
    return await run.done;
  } finally {
    clearTimeout(timer);
  }
}

describe('issue send: failures of the run are never a reader\'s', () => {
  it('535 at AUTH: exit 2 with the server\'s words before anything is queued, nobody bounced; after fixing the password everyone gets one copy', async () => {
    const root = await sendSite(6);
    const sink = await smtpSink({ auth: { user: 'almanac', pass: 'right-password' } });
    try {
      const wrong = `smtp://almanac:wrong-password@127.0.0.1:${sink.port}`;
      const run = await bounded(sendInBackground(root, wrong), 30_000);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /535 .*Authentication credentials invalid/);
      assert.doesNotMatch(run.stderr + run.stdout, /wrong-password/, 'the password never appears');
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(sink.messages.length, 0);
      // The preflight refused the login before the queue was written: the ledger has no row at all.
      assert.deepEqual(ledgerRows(root), []);
      const active = await inProcess(['subscribers', 'list', '--status', 'active', '--root', root]);
      assert.equal(active.stdout.trim().split('\n').length, 6, 'every reader still active');

      const fixed = await sendNow(root, `smtp://almanac:right-password@127.0.0.1:${sink.port}`);
      assert.equal(fixed.code, 0, fixed.stderr);
      const counts = countBy(sink.messages);
      assert.equal(counts.size, 6);
      assert.ok([...counts.values()].every((n) => n === 1));
      assert.match(fixed.stdout, /6 sent, 0 failed permanently, 0 retried, .* 0 uncertain/);
    } finally {
      await sink.close();
    }
  });

  it('554 at MAIL FROM: exit 2 with the server\'s words, nobody bounced; once the relay accepts the sender everyone gets one copy', async () => {
    const root = await sendSite(6);
    let refuse = true;
    const sink = await smtpSink({ mailFrom: () => (refuse ? 554 : undefined) });
    try {
      const run = await bounded(sendInBackground(root, sink.url), 30_000);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /554 .*Sender address rejected.*\(at MAIL FROM\)/);
      assert.ok(ledgerRows(root).every((r) => r.status === 'queued' && r.subscriber === 'active' && r.attempts === 0));
      const bounced = await inProcess(['subscribers', 'list', '--status', 'bounced', '--root', root]);
      assert.equal(bounced.stdout.trim(), '');

      refuse = false;
      const fixed = await sendNow(root, sink.url);
      assert.equal(fixed.code, 0, fixed.stderr);
      const counts = countBy(sink.messages);
      assert.equal(counts.size, 6);
      assert.ok([...counts.values()].every((n) => n === 1));
    } finally {
      await sink.close();
    }
  });
});

describe('issue send: a relay that wants a login only at RCPT TO', () => {
  it('530 at RCPT TO: exit 2, nobody bounced or marked (the missing password is the operator\'s, not the readers\')', async () => {
    const root = await sendSite(4);
    const sink = await smtpSink({ rcpt: () => 530 });
    try {
      const run = await bounded(sendInBackground(root, sink.url), 30_000);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /530 .*\(at RCPT TO\)/);
      const rows = ledgerRows(root);
      assert.ok(rows.every((r) => r.status === 'queued' && r.subscriber === 'active' && r.uncertain === 0 && r.attempts === 0), JSON.stringify(rows));
    } finally {
      await sink.close();
    }
  });
});

describe('issue send: a relay closing sessions with 421', () => {
  it('421 at RCPT TO for everyone: exit 2, nobody failed or marked; once the relay recovers everyone gets one copy', async () => {
    const root = await sendSite(4, { sending: { maxAttempts: 2 } });
    let busy = true;
    const sink = await smtpSink({ rcpt: () => (busy ? 421 : undefined) });
    try {
      const run = await bounded(sendInBackground(root, sink.url), 30_000);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /421 Try again later/);
      const rows = ledgerRows(root);
      assert.ok(rows.every((r) => r.status === 'queued' && r.subscriber === 'active' && r.uncertain === 0 && r.attempts === 0), JSON.stringify(rows));

      busy = false;
      const fixed = await sendNow(root, sink.url);
      assert.equal(fixed.code, 0, fixed.stderr);
      const counts = countBy(sink.messages);
      assert.equal(counts.size, 4);
      assert.ok([...counts.values()].every((n) => n === 1));
    } finally {
      await sink.close();
    }
  });
});

describe('issue send: deadlines and stops', () => {
  it('a server that takes the message and never answers: the run ends within the configured deadline, the row uncertain', async () => {
    const root = await sendSite(3, { sending: { concurrency: 1, dataTimeoutSeconds: 1, commandTimeoutSeconds: 1 } });
    const sink = await smtpSink({ hold: () => new Promise(() => {}) });
    try {
      const run = await bounded(sendInBackground(root, sink.url), 20_000);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.ok(run.ms < 10_000, `ended after ${run.ms} ms`);
      assert.equal(sink.arrived.length, 1, 'the run stopped at the first silent message');
      const rows = ledgerRows(root);
      assert.deepEqual(rows.map((r) => [r.status, r.uncertain]), [['queued', 1], ['queued', 0], ['queued', 0]]);
      const status = await inProcess(['issue', 'status', ISSUE, '--root', root, '--failed']);
      assert.match(status.stdout, /^reader0@example\.com\tqueued \(uncertain\)\t.+$/m);
    } finally {
      await sink.close();
    }
  });

  it('SIGTERM to a run stuck in DATA ends it within the stop deadline: in-flight rows uncertain, exit 0, resumable', async () => {
    const root = await sendSite(8, { sending: { concurrency: 2, dataTimeoutSeconds: 600, commandTimeoutSeconds: 600, stopTimeoutSeconds: 1 } });
    let hang = true;
    const sink = await smtpSink({ hold: () => (hang ? new Promise(() => {}) : Promise.resolve()) });
    try {
      const run = sendInBackground(root, sink.url);
      await until(() => sink.arrived.length >= 2);
      const stoppedAt = Date.now();
      run.child.kill('SIGTERM');
      const first = await bounded(run, 20_000);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.ok(Date.now() - stoppedAt < 6_000, `stopped after ${Date.now() - stoppedAt} ms`);
      assert.match(first.stdout, /2 messages had no answer by the stop deadline; marked uncertain/);
      const rows = ledgerRows(root);
      assert.equal(rows.filter((r) => r.uncertain === 1).length, 2);
      assert.ok(rows.every((r) => r.status === 'queued'));

      hang = false;
      const resumed = await sendNow(root, sink.url);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /8 sent, .* 2 uncertain/);
      assert.equal(countBy(sink.messages).size, 8);
    } finally {
      await sink.close();
    }
  });
});

describe('issue send: a sender that lost its lease sends nothing more', () => {
  it('paused (SIGSTOP) past its lease while another sender takes over: nobody gets two copies except rows marked uncertain', async () => {
    const n = 40;
    const root = await sendSite(n, { sending: { concurrency: 2 } });
    const sink = await smtpSink({ delayMs: 30 });
    const first = sendInBackground(root, sink.url);
    try {
      await until(() => sink.messages.length >= 4);
      // Paused outside a write: one paused inside its (short) transaction would hold the database's write
      // lock, and nobody could take over until it went on. Until then it is let go on and paused again.
      const db = new Database(path.join(root, '.almanac/almanac.db'), { timeout: 100 });
      const deadline = Date.now() + 20_000;
      for (;;) {
        first.child.kill('SIGSTOP');
        // While it is paused its lease lapses, as seen by a host whose clock runs ahead of it.
        try {
          db.prepare('UPDATE send_locks SET expires_at = 0 WHERE issue_id = ?').run(ISSUE);
          break;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
          first.child.kill('SIGCONT');
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      db.close();
      const second = await sendNow(root, sink.url);
      assert.equal(second.code, 0, second.stdout + second.stderr);
      first.child.kill('SIGCONT');
      const resumed = await bounded(first, 20_000);
      assert.equal(resumed.code, 2, resumed.stdout + resumed.stderr);
      assert.match(resumed.stderr, /another sender took it over/);

      const counts = countBy(sink.messages);
      assert.equal(counts.size, n, 'nobody skipped');
      const rows = new Map(ledgerRows(root).map((r) => [r.email, r]));
      const doubled = [...counts].filter(([, c]) => c > 1);
      for (const [email, c] of doubled) {
        assert.equal(c, 2, `${email} got ${c} copies`);
        assert.equal(rows.get(email)?.uncertain, 1, `${email} got two copies and is not marked uncertain`);
      }
      assert.ok(doubled.length <= 2, `${doubled.length} doubled, more than one per connection`);
      assert.ok([...rows.values()].every((r) => r.status === 'sent'));
    } finally {
      // A failure above must not leave the sender paused: the test run would wait for it for ever.
      first.child.kill('SIGCONT');
      first.child.kill('SIGKILL');
      await sink.close();
    }
  });
});

describe('issue send: retries and bounces', () => {
  it('--now with a 451: the retry waits on the real clock and the run finishes', async () => {
    const root = await sendSite(3);
    let refused = 0;
    const sink = await smtpSink({ rcpt: (address) => (address === 'reader1@example.com' && refused++ === 0 ? 451 : undefined) });
    try {
      const run = await bounded(sendInBackground(root, sink.url, '--now', '2026-04-15T07:00:00Z'), 30_000);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /3 sent, 0 failed permanently, 1 retried/);
      assert.equal(countBy(sink.messages).size, 3);
    } finally {
      await sink.close();
    }
  });

  it('a 5xx for one reader is recorded as a bounce even when the same worker\'s next reader is skipped', async () => {
    const root = await sendSite(4, { sending: { concurrency: 1 } });
    // First run: reader0 goes out, then a stop leaves the others queued.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = await smtpSink({ hold: () => gate });
    const first = sendInBackground(root, held.url);
    try {
      await until(() => held.arrived.length >= 1);
      first.child.kill('SIGTERM');
      await until(() => /Terminated/.test(first.output().stderr));
      release();
      await bounded(first, 30_000);
    } finally {
      release();
      await held.close();
    }
    assert.deepEqual(ledgerRows(root).map((r) => r.status), ['sent', 'queued', 'queued', 'queued']);
    // reader2 unsubscribes while queued; reader1 is refused for good: the same worker's next row is the skipped one.
    const db = new Database(path.join(root, '.almanac/almanac.db'));
    db.prepare("UPDATE subscribers SET status = 'unsubscribed' WHERE email = 'reader2@example.com'").run();
    db.close();
    const sink = await smtpSink({ rcpt: (address) => (address === 'reader1@example.com' ? 550 : undefined) });
    try {
      const run = await sendNow(root, sink.url);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(ledgerRows(root).map((r) => [r.email, r.status, r.subscriber]), [
        ['reader0@example.com', 'sent', 'active'],
        ['reader1@example.com', 'failed', 'bounced'],
        ['reader2@example.com', 'skipped', 'unsubscribed'],
        ['reader3@example.com', 'sent', 'active'],
      ]);
      const status = await inProcess(['issue', 'status', ISSUE, '--root', root, '--failed']);
      assert.match(status.stdout, /^reader1@example\.com\tfailed \(bounced\)\t550 Mailbox unavailable \(at RCPT TO\)$/m);
      assert.match(status.stdout, /^reader2@example\.com\tskipped\tunsubscribed$/m);
      assert.match(status.stdout, /: 2 sent, 0 queued, 0 sending, 1 failed, 1 skipped, 0 uncertain/);
      const json = JSON.parse((await inProcess(['issue', 'status', ISSUE, '--root', root, '--failed', '--json'])).stdout);
      assert.deepEqual(json.counts, { queued: 0, sending: 0, sent: 2, failed: 1, skipped: 1, uncertain: 0, retried: 0 });
      assert.deepEqual(json.readers.map((r: { email: string; state: string }) => [r.email, r.state]), [
        ['reader1@example.com', 'failed (bounced)'],
        ['reader2@example.com', 'skipped'],
      ]);
      assert.deepEqual(json.readers.map((r: { bounced: boolean }) => r.bounced), [true, false]);
    } finally {
      await sink.close();
    }
  });
});

describe('SMTP transport: sending.ratePerSecond', () => {
  it('holds for all connections together, fractions included, and a message\'s deadline starts only when its turn comes', async () => {
    const { smtpTransport } = await import('../src/mail/transport.ts');
    const sink = await smtpSink();
    // Two a second over three connections; each message must be answered within 300 ms of its turn.
    const transport = smtpTransport({ url: sink.url, concurrency: 3, ratePerSecond: 2, timeouts: { connectMs: 5000, greetingMs: 5000, commandMs: 5000, dataMs: 300 } });
    try {
      const started = Date.now();
      const sent: number[] = [];
      await Promise.all(
        Array.from({ length: 3 }, async (_, w) => {
          for (let i = 0; i < 2; i++) {
            await transport.send(Buffer.from('Subject: x\r\n\r\nhello\r\n'), { from: 'almanac@example.org', to: `r${w}-${i}@example.com` });
            sent.push(Date.now() - started);
          }
        }),
      );
      assert.equal(sink.messages.length, 6);
      // Six messages at two a second: the last one starts 2.5 s after the first.
      assert.ok(Math.max(...sent) >= 2300, `all six sent within ${Math.max(...sent)} ms`);
    } finally {
      transport.close();
      await sink.close();
    }
  });
});

describe('issue status --failed', () => {
  it('lists who did not simply get the issue and why: refused and bounced, failed after its attempts, and sent but uncertain with the reason', async () => {
    const root = await sendSite(4, { sending: { concurrency: 1, maxAttempts: 1 } });
    // reader3's row was in flight when a sender died (what a SIGKILL leaves behind).
    const db = new Database(path.join(root, '.almanac/almanac.db'));
    db.prepare("INSERT INTO deliveries (issue_id, subscriber_id, email, status, attempts, updated_at) SELECT ?, id, email, 'sending', 1, 0 FROM subscribers WHERE email = 'reader3@example.com'").run(ISSUE);
    db.close();
    const sink = await smtpSink({ rcpt: (address) => ({ 'reader1@example.com': 550, 'reader2@example.com': 451 })[address] });
    try {
      const run = await sendNow(root, sink.url);
      assert.equal(run.code, 0, run.stderr);
      const status = await inProcess(['issue', 'status', ISSUE, '--root', root, '--failed']);
      const listed = status.stdout.split('\n').filter((line) => line.includes('\t'));
      assert.deepEqual(listed, [
        'reader1@example.com\tfailed (bounced)\t550 Mailbox unavailable (at RCPT TO)',
        'reader2@example.com\tfailed\t451 Try again later (at RCPT TO) (after 1 attempts)',
        'reader3@example.com\tsent (uncertain: may have two copies)\tin flight when an earlier run ended: it may have arrived',
      ]);
      const json = JSON.parse((await inProcess(['issue', 'status', ISSUE, '--root', root, '--failed', '--json'])).stdout);
      assert.deepEqual(
        json.readers.map((r: { email: string; bounced: boolean; uncertain: boolean }) => [r.email, r.bounced, r.uncertain]),
        [['reader1@example.com', true, false], ['reader2@example.com', false, false], ['reader3@example.com', false, true]],
      );
    } finally {
      await sink.close();
    }
  });
});
