// What a classified report does to the reader, on a real SQLite file: a hard bounce bounces, soft
// bounces bounce at the limit within the window, a complaint unsubscribes for good (not `add
// --resubscribe`, not `import`; only the reader's own confirmed sign-up), a mailto unsubscribe
// unsubscribes; ignored and replayed reports change nobody.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classify } from '../src/mail/bounce-classify.ts';
import { openDatabase } from '../src/store/database.ts';
import { importCsv } from '../src/store/import.ts';
import { MailEvents, issueEventCounts, type Verdict } from '../src/store/mail-events.ts';
import { ConsentError, SqliteSubscribers } from '../src/store/subscribers.ts';

const ISSUE = '2026-04-15-midweek';
const DAY = 86_400_000;
const T0 = Date.parse('2026-04-15T08:00:00Z');

async function store() {
  const db = openDatabase(path.join(await mkdtemp(path.join(os.tmpdir(), 'almanac-events-')), 'almanac.db'));
  const subscribers = new SqliteSubscribers(db);
  const events = new MailEvents(db, subscribers, { softLimit: 3, softWindowDays: 30 });
  const reader = subscribers.upsert({ email: 'reader@example.com', status: 'active' }, T0).subscriber;
  let n = 0;
  const verdict = (kind: Exclude<Verdict['kind'], 'ignored'>, code = ''): Extract<Verdict, { text: string }> => ({ kind, subscriber: reader.id, issueId: ISSUE, code, text: `${kind} text`, reportId: `r${++n}` });
  return { db, subscribers, events, reader, verdict, status: () => subscribers.get(reader.id)!.status };
}

describe('mail events', () => {
  it('a hard bounce bounces the reader and is kept in their history and the issue\'s counts', async () => {
    const s = await store();
    const intake = s.events.apply(s.verdict('hard', '5.1.1'), T0);
    assert.deepEqual(intake.changed, { from: 'active', to: 'bounced' });
    assert.equal(s.status(), 'bounced');
    assert.deepEqual(s.events.forSubscriber(s.reader.id).map((e) => [e.kind, e.code, e.issueId]), [['hard', '5.1.1', ISSUE]]);
    assert.deepEqual(issueEventCounts(s.db, ISSUE), { hard: 1, soft: 0, complaint: 0, unsubscribe: 0 });
  });

  it('soft bounces bounce the reader at the third within 30 days, not when one is older', async () => {
    const s = await store();
    s.events.apply(s.verdict('soft', '4.2.2'), T0);
    s.events.apply(s.verdict('soft', '4.2.2'), T0 + 10 * DAY);
    assert.equal(s.events.apply(s.verdict('soft', '4.2.2'), T0 + 31 * DAY).changed, undefined, 'the first is out of the window');
    assert.equal(s.status(), 'active');
    assert.deepEqual(s.events.apply(s.verdict('soft', '4.2.2'), T0 + 32 * DAY).changed, { from: 'active', to: 'bounced' });
  });

  it('a complaint unsubscribes for good: neither add --resubscribe nor import brings the reader back; their own confirmed sign-up does', async () => {
    const s = await store();
    assert.deepEqual(s.events.apply(s.verdict('complaint', 'abuse'), T0).changed, { from: 'active', to: 'unsubscribed' });
    assert.equal(s.subscribers.get(s.reader.id)!.unsubscribeReason, 'complaint');
    assert.throws(() => s.subscribers.upsert({ email: 'reader@example.com', status: 'active', resubscribedBy: 'editor' }, T0 + DAY), (err: unknown) => {
      assert.ok(err instanceof ConsentError);
      assert.match(err.problems[0]!.found, /complained on 2026-04-15/);
      return true;
    });
    const report = importCsv(s.subscribers, Buffer.from('email\nreader@example.com\n'), 'list.csv', T0 + DAY, ['midweek', 'sunday']);
    assert.equal(s.status(), 'unsubscribed', `import left them unsubscribed (${JSON.stringify(report)})`);
    const signUp = s.subscribers.signUp('reader@example.com', ['midweek'], T0 + 2 * DAY)!;
    assert.equal(s.status(), 'unsubscribed', 'a sign-up alone is not consent');
    assert.equal(s.subscribers.confirm(s.reader.id, signUp.nonce, T0 + 2 * DAY)?.status, 'active');
    assert.equal(s.subscribers.get(s.reader.id)!.unsubscribeReason, null);
  });

  it('a complaint from a reader who had bounced still bars them', async () => {
    const s = await store();
    s.events.apply(s.verdict('hard', '5.1.1'), T0);
    s.events.apply(s.verdict('complaint', 'abuse'), T0 + DAY);
    assert.equal(s.status(), 'unsubscribed');
    assert.throws(() => s.subscribers.upsert({ email: 'reader@example.com', status: 'active', resubscribedBy: 'editor' }, T0 + 2 * DAY), ConsentError);
  });

  it('a mail to the unsubscribe address unsubscribes; add --resubscribe may bring that reader back', async () => {
    const s = await store();
    assert.deepEqual(s.events.apply(s.verdict('unsubscribe'), T0).changed, { from: 'active', to: 'unsubscribed' });
    assert.equal(s.subscribers.upsert({ email: 'reader@example.com', status: 'active', resubscribedBy: 'editor' }, T0 + DAY).subscriber.status, 'active');
  });

  it('a report about an issue sent before the reader re-subscribed is kept in their history and changes nothing; one about a later issue does', async () => {
    const s = await store();
    const LATER = '2026-04-22-midweek';
    const sent = (issueId: string, at: number) =>
      s.db.prepare("INSERT INTO deliveries (issue_id, subscriber_id, email, status, updated_at) VALUES (?, ?, 'reader@example.com', 'sent', ?)").run(issueId, s.reader.id, at);
    sent(ISSUE, T0);
    assert.deepEqual(s.events.apply(s.verdict('soft', '4.2.2'), T0 + DAY).changed, undefined);
    assert.deepEqual(s.events.apply(s.verdict('hard', '5.2.2'), T0 + DAY).changed, { from: 'active', to: 'bounced' });
    s.subscribers.upsert({ email: 'reader@example.com', status: 'active', resubscribedBy: 'editor' }, T0 + 2 * DAY);
    // The final report of the same delivery, days later (another Message-ID): the reader fixed their mailbox meanwhile.
    for (const [kind, code] of [['hard', '5.2.2'], ['soft', '4.2.2'], ['complaint', 'abuse'], ['unsubscribe', '']] as const) {
      const late = s.events.apply(s.verdict(kind, code), T0 + 3 * DAY);
      assert.equal(late.kind, 'ignored', kind);
      assert.equal(late.changed, undefined, kind);
      assert.equal(late.text, 'about an issue sent before the reader re-subscribed on 2026-04-17T08:00:00.000Z', kind);
      assert.equal(s.status(), 'active', kind);
    }
    assert.deepEqual(s.events.forSubscriber(s.reader.id).map((e) => e.kind), ['soft', 'hard', 'ignored', 'ignored', 'ignored', 'ignored']);
    sent(LATER, T0 + 7 * DAY);
    assert.deepEqual(s.events.apply({ ...s.verdict('hard', '5.1.1'), issueId: LATER }, T0 + 8 * DAY).changed, { from: 'active', to: 'bounced' });
  });

  it('ignored and replayed reports are recorded with their reason and change nobody', async () => {
    const s = await store();
    const ignored = s.events.apply({ kind: 'ignored', reason: 'not addressed to a return path this site signed', reportId: 'x1' }, T0);
    assert.equal(ignored.kind, 'ignored');
    const first = s.verdict('hard', '5.1.1');
    s.subscribers.upsert({ email: 'reader@example.com', status: 'active' }, T0);
    s.events.apply({ ...first, kind: 'soft', code: '4.0.0' }, T0);
    for (let i = 0; i < 3; i++) {
      const again = s.events.apply({ ...first, kind: 'soft', code: '4.0.0' }, T0 + i);
      assert.equal(again.kind, 'ignored');
      assert.match(again.text, /^replayed: the same report was received on 2026-04-15T08:00:00\.000Z/);
    }
    assert.equal(s.status(), 'active', 'one soft bounce, however often it is replayed');
    const gone = s.events.apply({ ...s.verdict('hard'), subscriber: 9999 }, T0);
    assert.match(gone.text, /no longer on the list/);
    assert.deepEqual(issueEventCounts(s.db, ISSUE), { hard: 0, soft: 1, complaint: 0, unsubscribe: 0 });
  });

  it('arbitrary bytes through the classifier and the store never throw and never change a reader', async () => {
    const s = await store();
    const secret = 'test-secret-0123456789abcdef-6f1c9a2e';
    let clock = T0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        const intake = s.events.apply(await classify(Buffer.from(bytes), secret), ++clock);
        assert.equal(intake.kind, 'ignored');
        assert.equal(intake.changed, undefined);
        assert.equal(s.status(), 'active');
      }),
      { numRuns: Number(process.env.PROPS_RUNS ?? 100) },
    );
    assert.deepEqual(s.events.forSubscriber(s.reader.id), []);
  });
});
