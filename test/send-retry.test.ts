// `issue send --retry failed|uncertain` against a real loopback SMTP server that refuses some
// recipients with 4xx until told otherwise, or holds a message unanswered: the retry writes to
// exactly those readers, once, never to one who left since. The CLI runs in a child process.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { almanac as inProcess } from './helpers/in-process.ts';
import { smtpSink } from './helpers/smtp.ts';
import { ISSUE, countBy, ledgerRows, sendNow, sendSite } from './helpers/send-site.ts';

function unsubscribe(root: string, email: string): void {
  const db = new Database(path.join(root, '.almanac/almanac.db'));
  try {
    db.prepare(`UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = 1 WHERE email = ?`).run(email);
  } finally {
    db.close();
  }
}

describe('issue send --retry', () => {
  it('failed: re-sends once to the readers the server refused for the moment, not to one who unsubscribed since', async () => {
    const root = await sendSite(5, { sending: { maxAttempts: 1 } });
    let busy = new Set(['reader1@example.com', 'reader3@example.com']);
    const sink = await smtpSink({ rcpt: (to) => (busy.has(to) ? 451 : undefined) });
    try {
      const first = await sendNow(root, sink.url);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /3 sent, 2 failed permanently/);
      const listed = await inProcess(['issue', 'status', ISSUE, '--failed', '--root', root]);
      assert.match(listed.stdout, /^reader1@example\.com\tfailed\t451 Try again later/m);
      assert.match(listed.stdout, /^reader3@example\.com\tfailed\t/m);

      const early = await sendNow(root, sink.url, '--retry', 'everyone');
      assert.equal(early.code, 2);
      assert.match(early.stderr, /--retry expects failed or uncertain/);

      unsubscribe(root, 'reader3@example.com');
      busy = new Set();
      const retry = await sendNow(root, sink.url, '--retry', 'failed');
      assert.equal(retry.code, 0, retry.stderr);
      assert.match(retry.stdout, /Sending again to 1 reader/);
      const counts = countBy(sink.messages);
      assert.deepEqual([...counts.keys()].sort(), ['reader0@example.com', 'reader1@example.com', 'reader2@example.com', 'reader4@example.com']);
      assert.ok([...counts.values()].every((n) => n === 1));
      const rows = ledgerRows(root);
      assert.deepEqual(rows.map((r) => [r.email, r.status]), [
        ['reader0@example.com', 'sent'],
        ['reader1@example.com', 'sent'],
        ['reader2@example.com', 'sent'],
        ['reader3@example.com', 'failed'],
        ['reader4@example.com', 'sent'],
      ]);

      const again = await sendNow(root, sink.url, '--retry', 'failed');
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /Sending again to 0 readers/);
      assert.equal(sink.messages.length, 4, 'a second retry sends nothing');
    } finally {
      await sink.close();
    }
  });

  it('uncertain: listed with --uncertain, re-sent once; refused while the issue has not finished going out', async () => {
    const root = await sendSite(3, { sending: { concurrency: 1, dataTimeoutSeconds: 1, commandTimeoutSeconds: 1 } });
    let hang = true;
    const sink = await smtpSink({ hold: () => (hang ? new Promise(() => {}) : Promise.resolve()) });
    try {
      const cut = await sendNow(root, sink.url);
      assert.equal(cut.code, 2, cut.stdout + cut.stderr);
      const unfinished = await sendNow(root, sink.url, '--retry', 'uncertain');
      assert.equal(unfinished.code, 2);
      assert.match(unfinished.stderr, /has not finished going out \(3 queued/);

      hang = false;
      const resumed = await sendNow(root, sink.url);
      assert.equal(resumed.code, 0, resumed.stderr);
      const listed = await inProcess(['issue', 'status', ISSUE, '--uncertain', '--root', root]);
      assert.deepEqual(listed.stdout.replace(/\n$/, '').split('\n').slice(1), ['reader0@example.com\tsent (uncertain: may have two copies)\tno answer to the message within 1000 ms (at DATA)']);

      const retry = await sendNow(root, sink.url, '--retry', 'uncertain');
      assert.equal(retry.code, 0, retry.stderr);
      assert.match(retry.stdout, /Sending again to 1 reader/);
      assert.deepEqual([...countBy(sink.messages).entries()].sort(), [['reader0@example.com', 2], ['reader1@example.com', 1], ['reader2@example.com', 1]]);
      const again = await sendNow(root, sink.url, '--retry', 'uncertain');
      assert.equal(again.code, 0, again.stderr);
      assert.equal(sink.messages.length, 4, 'a second retry sends nothing');
    } finally {
      await sink.close();
    }
  });
});
