// `issue send` under an hourly quota against a real SMTP server: the run pauses with the rest
// queued and says until when, as do `issue status` and `status`; a test copy meanwhile is refused,
// from the CLI or from the editor's preview.
// The CLI runs in a child process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { almanac as inProcess } from './helpers/in-process.ts';
import { rawRequest, startPreview } from './helpers/preview.ts';
import { smtpSink } from './helpers/smtp.ts';
import { ISSUE, ledgerRows, sendEnv, sendNow, sendSite } from './helpers/send-site.ts';

describe('issue send: sending.limits', () => {
  it('perHour: the run sends its share, pauses with the rest queued, and every report says until when', async () => {
    const root = await sendSite(5, { sending: { limits: { perHour: 2 } } });
    const sink = await smtpSink();
    try {
      const started = Date.now();
      const run = await sendNow(root, sink.url, '--json');
      assert.equal(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout) as { stopped: string; pausedUntil: string; counts: { sent: number; queued: number } };
      assert.equal(report.stopped, 'quota');
      assert.deepEqual([report.counts.sent, report.counts.queued], [2, 3]);
      const until = Date.parse(report.pausedUntil);
      assert.ok(until > started + 59 * 60_000 && until < Date.now() + 62 * 60_000, report.pausedUntil);
      assert.equal(sink.messages.length, 2);
      assert.deepEqual(ledgerRows(root).map((r) => r.status).sort(), ['queued', 'queued', 'queued', 'sent', 'sent']);

      const status = await inProcess(['issue', 'status', ISSUE, '--json', '--root', root]);
      assert.equal(JSON.parse(status.stdout).pausedUntil, report.pausedUntil);
      const overall = await inProcess(['status', '--root', root]);
      assert.match(overall.stdout, /2 sent, 3 queued, .* · paused by the sending quota until /);

      const copy = await inProcess(['issue', 'send', ISSUE, '--to', 'editor@example.com', '--root', root], { env: sendEnv(sink.url) });
      assert.equal(copy.code, 2);
      assert.match(copy.stderr, /the sending quota \(sending\.limits\) is used up until /);
      assert.equal(sink.messages.length, 2);
    } finally {
      await sink.close();
    }
  });
});

describe('preview: sending.limits', () => {
  it("a test copy from the editor's preview takes its message from the quota every sender shares, and is refused once it is used up", async () => {
    const root = await sendSite(1, { sending: { limits: { perHour: 2 } }, preview: { testAddresses: ['editor@example.com'] } });
    const sink = await smtpSink();
    const running = await startPreview(['--root', root, '--now', '2026-04-15T06:00:00Z'], { SMTP_URL: sink.url });
    const own = `127.0.0.1:${running.port}`;
    const sendTest = () =>
      rawRequest(
        running.port,
        {
          method: 'POST',
          target: '/issues/midweek/send-test',
          headers: [['Host', own], ['Origin', `http://${own}`], ['Sec-Fetch-Site', 'same-origin'], ['Content-Type', 'application/x-www-form-urlencoded']],
          body: new URLSearchParams({ to: 'editor@example.com' }).toString(),
        },
        30_000,
      );
    try {
      const first = await sendTest();
      assert.equal(first.status, 200, first.body);
      // The CLI's test copy takes the second message of the hour: the preview's first one was counted.
      const copy = await inProcess(['issue', 'send', ISSUE, '--to', 'editor@example.com', '--root', root], { env: sendEnv(sink.url) });
      assert.equal(copy.code, 0, copy.stderr);
      const refused = await sendTest();
      assert.equal(refused.status, 429, refused.body);
      assert.match(refused.body, /the sending quota \(sending\.limits\) is used up until \d{4}-\d\d-\d\dT/i);
      assert.ok(Number(refused.headers['retry-after']) > 59 * 60, refused.headers['retry-after']);
      assert.equal(sink.messages.length, 2);
      // And an issue run finds the hour used up too.
      const run = await sendNow(root, sink.url, '--json');
      assert.equal(JSON.parse(run.stdout).stopped, 'quota');
      assert.equal(sink.messages.length, 2);
    } finally {
      await running.stop();
      await sink.close();
    }
  });
});
