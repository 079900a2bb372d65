// POST /webhooks/mailgun and /webhooks/ses on `serve`, in-process against a real SQLite file: events
// signed with test keys as Mailgun and SNS sign them bounce, soften or unsubscribe the reader their
// Message-ID names; unsigned, wrongly signed, stale or foreign requests get 401 and change nothing; a
// replay counts once. SNS's signing certificate is served by the test (a key pair made here).
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/content/config.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { createApp } from '../src/server/app.ts';
import { databasePath, openDatabase, type Db } from '../src/store/database.ts';
import { MailEvents } from '../src/store/mail-events.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { tempSite } from './helpers/cli.ts';

const KEY = 'key-test-mailgun-signing-0123456789';
const ISSUE = '2026-04-15-midweek';
const NOW = Date.parse('2026-04-16T10:00:00Z');
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-bounces';
const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem';
const SNS_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('Mailgun webhook', () => {
  let db: Db;
  let store: SqliteSubscribers;
  let base: string;
  let server: http.Server;
  let n = 0;
  const logged: string[] = [];
  const asked: string[] = [];

  before(async () => {
    const root = await tempSite();
    await mkdir(path.join(root, 'dist'), { recursive: true });
    await writeFile(path.join(root, 'dist', 'index.html'), '<!doctype html><title>home</title>');
    db = openDatabase(databasePath(root));
    store = new SqliteSubscribers(db);
    const { config } = await loadConfig(root);
    server = http.createServer(
      createApp({
        distDir: path.join(root, 'dist'), config, subscribers: store, secret: 'webhook-secret-0123456789abcdef012345', templates: await TemplateSet.load(root, 'site'),
        clock: () => NOW, log: (line) => logged.push(line),
        bounces: {
          events: new MailEvents(db, store, config.bounces),
          mailgunKey: KEY,
          ses: { topicArn: TOPIC, certificates: async (url) => (asked.push(url), SNS_KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString()) },
        },
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    db.close();
  });

  function reader(): { id: number; email: string } {
    const s = store.upsert({ email: `reader${++n}@example.com`, status: 'active' }, NOW).subscriber;
    return { id: s.id, email: s.email };
  }

  function event(r: { id: number; email: string }, fields: Record<string, unknown>, options: { key?: string; at?: number; id?: string } = {}): string {
    const timestamp = String(Math.floor((options.at ?? NOW) / 1000));
    const token = randomBytes(25).toString('hex');
    const signature = createHmac('sha256', options.key ?? KEY).update(timestamp + token).digest('hex');
    return JSON.stringify({
      signature: { timestamp, token, signature },
      'event-data': { id: options.id ?? randomBytes(8).toString('hex'), recipient: r.email, message: { headers: { 'message-id': `${ISSUE}.${r.id}@almanac.example.org` } }, ...fields },
    });
  }

  const post = (body: string) => fetch(`${base}/webhooks/mailgun`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('a signed permanent failure bounces the reader; a complaint unsubscribes with reason complaint', async () => {
    const a = reader();
    const res = await post(event(a, { event: 'failed', severity: 'permanent', 'delivery-status': { code: 550, 'enhanced-code': '5.1.1', description: 'No such user' } }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { kind: 'hard', text: 'No such user' });
    assert.equal(store.get(a.id)!.status, 'bounced');
    const b = reader();
    assert.equal((await post(event(b, { event: 'complained' }))).status, 200);
    assert.equal(store.get(b.id)!.status, 'unsubscribed');
    assert.equal(store.get(b.id)!.unsubscribeReason, 'complaint');
  });

  it('unsigned, wrongly signed, stale and malformed requests get 401 and change nothing', async () => {
    const r = reader();
    const failed = { event: 'failed', severity: 'permanent' };
    const unsigned = JSON.parse(event(r, failed)) as Record<string, unknown>;
    delete unsigned.signature;
    for (const body of [JSON.stringify(unsigned), event(r, failed, { key: 'another-key' }), event(r, failed, { at: NOW - 10 * 60_000 }), 'not json', '']) {
      const res = await post(body);
      assert.equal(res.status, 401, body.slice(0, 40));
      await res.text();
    }
    assert.equal(store.get(r.id)!.status, 'active');
  });

  it('a replayed event counts once; an event for another address than the Message-ID\'s reader is ignored', async () => {
    const r = reader();
    const body = event(r, { event: 'failed', severity: 'temporary', 'delivery-status': { code: 452, message: 'Mailbox full' } }, { id: 'same-event' });
    for (let i = 0; i < 3; i++) assert.equal((await post(body)).status, 200);
    const events = new MailEvents(db, store, { softLimit: 3, softWindowDays: 30 }).forSubscriber(r.id);
    assert.deepEqual(events.map((e) => [e.kind, e.code]), [['soft', '452']]);
    assert.equal(store.get(r.id)!.status, 'active');
    const other = reader();
    const res = await post(event({ id: other.id, email: 'someone-else@example.com' }, { event: 'failed', severity: 'permanent' }));
    assert.equal((await res.json() as { kind: string }).kind, 'ignored');
    assert.equal(store.get(other.id)!.status, 'active');
  });

  /** An SNS message as SNS signs it (SignatureVersion 2), with `change` applied after signing. */
  function sns(fields: Record<string, string>, change: (m: Record<string, string>) => void = () => {}): string {
    const m: Record<string, string> = { Type: 'Notification', MessageId: randomBytes(8).toString('hex'), TopicArn: TOPIC, Timestamp: '2026-04-16T09:59:58.000Z', SignatureVersion: '2', SigningCertURL: CERT_URL, ...fields };
    const order = m.Type === 'Notification' ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const text = order.filter((k) => m[k] !== undefined).map((k) => `${k}\n${m[k]}\n`).join('');
    m.Signature = sign('RSA-SHA256', Buffer.from(text), SNS_KEYS.privateKey).toString('base64');
    change(m);
    return JSON.stringify(m);
  }

  const ses = (r: { id: number; email: string }, type: 'Bounce' | 'Complaint', bounceType = 'Permanent') =>
    JSON.stringify({
      notificationType: type,
      ...(type === 'Bounce'
        ? { bounce: { bounceType, bouncedRecipients: [{ emailAddress: r.email, status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }], feedbackId: randomBytes(6).toString('hex') } }
        : { complaint: { complainedRecipients: [{ emailAddress: r.email }], complaintFeedbackType: 'abuse', feedbackId: randomBytes(6).toString('hex') } }),
      mail: { messageId: 'ses-own-id', commonHeaders: { messageId: `<${ISSUE}.${r.id}@almanac.example.org>` } },
    });

  const postSes = (body: string) => fetch(`${base}/webhooks/ses`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }, body });

  it('SES through SNS: a signed bounce of the configured topic bounces the reader, a complaint unsubscribes; a replay counts once', async () => {
    const a = reader();
    const body = sns({ Message: ses(a, 'Bounce') });
    for (let i = 0; i < 2; i++) assert.equal((await postSes(body)).status, 200);
    assert.equal(store.get(a.id)!.status, 'bounced');
    assert.deepEqual(new MailEvents(db, store, { softLimit: 3, softWindowDays: 30 }).forSubscriber(a.id).map((e) => [e.kind, e.code, e.text]), [['hard', '5.1.1', 'smtp; 550 5.1.1 user unknown']]);
    assert.ok(asked.every((u) => u === CERT_URL));
    const b = reader();
    assert.equal((await postSes(sns({ Message: ses(b, 'Complaint'), Subject: 'Amazon SES Email Event Notification' }))).status, 200);
    assert.equal(store.get(b.id)!.unsubscribeReason, 'complaint');
  });

  it('SES through SNS: a changed message, another topic, a certificate off AWS or no signature get 401 and change nothing', async () => {
    const r = reader();
    const message = ses(r, 'Bounce');
    const bodies = [
      sns({ Message: message }, (m) => (m.Message = ses(reader(), 'Bounce'))),
      sns({ Message: message, TopicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-elses' }),
      sns({ Message: message, SigningCertURL: 'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem' }),
      sns({ Message: message, SigningCertURL: 'http://sns.eu-west-1.amazonaws.com/cert.pem' }),
      sns({ Message: message }, (m) => delete m.Signature),
      sns({ Message: message, SignatureVersion: '3' }),
      'not json',
    ];
    for (const body of bodies) {
      const res = await postSes(body);
      assert.equal(res.status, 401, body.slice(0, 60));
      await res.text();
    }
    assert.equal(store.get(r.id)!.status, 'active');
  });

  it('SES through SNS: a subscription confirmation is logged with its address, changing nobody', async () => {
    const res = await postSes(sns({ Type: 'SubscriptionConfirmation', Message: 'You have chosen to subscribe', Token: 'tok', SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok' }));
    assert.equal(res.status, 200);
    assert.ok(logged.some((l) => l.includes('open https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok')));
  });
});
