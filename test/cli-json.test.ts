// --json on every command that reports: one JSON value on standard output, the shapes README's
// "Scripting" lists; status and schedule --list count from --now; status shows sends made by hand.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildReport } from '../src/cli/build.ts';
import type { GuideVersionsReport } from '../src/cli/guide.ts';
import type { IssueBuildReport } from '../src/cli/issue.ts';
import type { IssueStatusReport } from '../src/cli/issue-status.ts';
import type { ScheduleList } from '../src/cli/schedule.ts';
import type { SendReport } from '../src/cli/send.ts';
import type { StatusReport } from '../src/cli/status.ts';
import type { SubscriberEntry } from '../src/cli/subscribers.ts';
import { almanac, tempSite, writeFiles } from './helpers/cli.ts';
import { json, runMain } from './helpers/main.ts';
import { smtpSink, type SmtpSink } from './helpers/smtp.ts';

const SECRET = 'test-secret-0123456789abcdef-ghijklmn';
const NOW = '2026-04-13T09:00:00Z';
const ISSUE = '2026-04-15-midweek';

describe('--json', () => {
  let root: string;
  let sink: SmtpSink;
  let env: Record<string, string>;
  const run = (...args: string[]) => runMain([...args, '--json', '--root', root, '--now', NOW], env);

  before(async () => {
    root = await tempSite({ sample: true });
    sink = await smtpSink();
    env = { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET };
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example.org', from: 'Letters <letters@example.org>' }),
      'list.csv': 'email,name,editions\nada@example.com,Ada,midweek\nbob@example.com,Bob,"midweek,sunday"\n',
    });
    assert.equal((await runMain(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root, '--now', NOW])).code, 0);
  });
  after(() => sink.close());

  it('build', async () => {
    const r = await run('build');
    assert.equal(r.code, 0, r.stderr);
    const b = json<BuildReport>(r);
    assert.equal(b.guides, 5);
    assert.equal(b.news, 19);
    assert.equal(b.outDir, path.join(root, 'dist'));
    assert.ok(b.pages > 0 && b.files >= b.pages && typeof b.seconds === 'number');
    assert.equal(b.upToDate, false, 'a first build writes its output');
    assert.ok(b.search, "build reports its search index");
    assert.equal(b.search!.records, 23, 'five guides and eighteen stories');
    assert.equal(typeof b.search!.reused, 'boolean');
    assert.equal(typeof b.search!.seconds, 'number');
  });

  it('guide versions', async () => {
    const r = await run('guide', 'versions', 'meta');
    assert.equal(r.code, 0, r.stderr);
    const v = json<GuideVersionsReport>(r);
    assert.equal(v.slug, 'meta');
    assert.ok(v.versions.length >= 1);
    assert.deepEqual(v.versions.map((x) => x.live), v.versions.map((_, i) => i === v.versions.length - 1));
    assert.match(v.versions[0]!.published, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(typeof v.unpublishedChanges, 'boolean');
  });

  it('subscribers list', async () => {
    const r = await run('subscribers', 'list');
    assert.equal(r.code, 0, r.stderr);
    const list = json<SubscriberEntry[]>(r);
    assert.deepEqual(list.map((s) => [s.email, s.name, s.editions, s.status]), [
      ['ada@example.com', 'Ada', ['midweek'], 'active'],
      ['bob@example.com', 'Bob', ['midweek', 'sunday'], 'active'],
    ]);
    assert.deepEqual(json(await run('subscribers', 'list', '--status', 'bounced')), []);
  });

  it('issue build, send (test copy, dry run, real) and status', async () => {
    const built = await run('issue', 'build', 'midweek', '--date', '2026-04-15');
    assert.equal(built.code, 0, built.stderr);
    const b = json<IssueBuildReport>(built);
    assert.equal(b.id, ISSUE);
    assert.equal(b.number, 1);
    assert.equal(b.dir, `dist/issues/${ISSUE}/`);
    assert.ok(b.stories >= 1 && b.stories <= b.available && b.htmlBytes > 0 && b.subject.length > 0);
    assert.equal(built.stderr, '', 'with --json, no summary on standard error');

    const test = json<SendReport>(await run('issue', 'send', ISSUE, '--to', 'editor@example.com'));
    assert.deepEqual(test, { issue: ISSUE, mode: 'test', to: 'editor@example.com', subject: `[Test] ${b.subject}` });
    const dry = json<SendReport>(await run('issue', 'send', ISSUE, '--dry-run'));
    assert.equal(dry.mode, 'dry-run');
    assert.equal(dry.mode === 'dry-run' && dry.recipients, 2);

    const sent = await run('issue', 'send', ISSUE);
    assert.equal(sent.code, 0, sent.stderr);
    const s = json<SendReport>(sent);
    assert.equal(s.mode, 'send');
    if (s.mode !== 'send') return;
    assert.equal(s.counts.sent, 2);
    assert.equal(s.stopped, null);
    assert.equal(sink.messages.length, 3, 'the test copy and two readers');

    const status = json<IssueStatusReport>(await run('issue', 'status', ISSUE, '--failed'));
    assert.equal(status.counts.sent, 2);
    assert.deepEqual(status.readers, []);
  });

  it('status counts from --now and shows a send made by hand', async () => {
    const r = await run('status');
    assert.equal(r.code, 0, r.stderr);
    const st = json<StatusReport>(r);
    const midweek = st.editions.find((e) => e.edition === 'midweek')!;
    assert.equal(midweek.next, '2026-04-15T07:00:00.000Z');
    assert.equal(midweek.lastRun, null, 'no scheduler ran');
    assert.equal(midweek.lastSend?.issue, ISSUE);
    assert.equal(midweek.lastSend?.scheduled, false);
    assert.equal(midweek.lastSend?.counts.sent, 2);
    assert.equal(st.editions.find((e) => e.edition === 'sunday')!.next, '2026-04-19T08:00:00.000Z');

    const human = await runMain(['status', '--root', root, '--now', NOW]);
    assert.match(human.stdout, /^Midweek: next Wed 15 Apr 2026 07:00 UTC$/m);
    assert.match(human.stdout, new RegExp(`^  ${ISSUE} \\(sent with issue send, last delivery .*\\): 2 sent, 0 queued, 0 failed`, 'm'));
  });

  it('schedule --list counts from --now', async () => {
    const r = await run('schedule', '--list');
    assert.equal(r.code, 0, r.stderr);
    const list = json<ScheduleList>(r);
    assert.equal(list.timezone, 'UTC');
    assert.deepEqual(list.editions.find((e) => e.edition === 'midweek')!.next, ['2026-04-15T07:00:00.000Z', '2026-04-22T07:00:00.000Z', '2026-04-29T07:00:00.000Z']);
    const human = await runMain(['schedule', '--list', '--root', root, '--now', NOW]);
    assert.match(human.stdout, /^Sunday \(0 8 \* \* 0, UTC\): Sun 19 Apr 2026 08:00 UTC · Sun 26 Apr 2026 08:00 UTC · /m);
  });

  it('check', async () => {
    const r = await run('check');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json<{ builtIssuesChecked: number }>(r).builtIssuesChecked, 1);
  });

  it('prints the same from the installed binary', async () => {
    const r = await almanac(['schedule', '--list', '--json', '--root', root, '--now', NOW]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json<ScheduleList>(r).editions.length, 2);
  });

  it('leaves standard output empty when the command fails, and keeps the exit code', async () => {
    const r = await run('issue', 'status', '2026-01-01-midweek');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no such issue/);
  });
});
