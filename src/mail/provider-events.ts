// Events that a sending provider posts to `serve` instead of mailing a report: Mailgun's webhooks,
// each signed as Mailgun documents (HMAC-SHA256 of timestamp and token under the webhook signing
// key, hex), and Amazon SES notifications (their SNS signature is checked in sns.ts). The reader and the issue come from the Message-ID Almanac gave the message
// ("<issue>.<subscriber>@host"), which Mailgun echoes; the signature vouches that Mailgun sent it,
// and the recipient must be that reader's address.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Verdict } from '../store/mail-events.ts';

/** How far a webhook's timestamp may be from the server's clock: older requests are replays. */
export const MAILGUN_MAX_SKEW_MS = 5 * 60_000;
const MAX_TEXT = 500;

interface MailgunPayload {
  signature?: { timestamp?: unknown; token?: unknown; signature?: unknown };
  'event-data'?: {
    id?: unknown;
    event?: unknown;
    severity?: unknown;
    recipient?: unknown;
    message?: { headers?: { 'message-id'?: unknown } };
    'delivery-status'?: { code?: unknown; 'enhanced-code'?: unknown; message?: unknown; description?: unknown };
  };
}

/** The payload, when it is JSON signed with `key` within the allowed skew of `now`; undefined otherwise. */
export function verifyMailgun(body: string, key: string, now: number): MailgunPayload | undefined {
  let payload: MailgunPayload;
  try {
    payload = JSON.parse(body) as MailgunPayload;
  } catch {
    return undefined;
  }
  const s = payload?.signature;
  if (!s || typeof s.timestamp !== 'string' || typeof s.token !== 'string' || typeof s.signature !== 'string') return undefined;
  if (!/^\d{1,12}$/.test(s.timestamp) || !/^[0-9a-f]{64}$/i.test(s.signature)) return undefined;
  if (Math.abs(Number(s.timestamp) * 1000 - now) > MAILGUN_MAX_SKEW_MS) return undefined;
  const expected = createHmac('sha256', key).update(s.timestamp + s.token).digest();
  return timingSafeEqual(Buffer.from(s.signature, 'hex'), expected) ? payload : undefined;
}

/** A verified payload as a verdict; `emailOf` gives a reader's address (undefined: no such reader). */
export function mailgunVerdict(payload: MailgunPayload, emailOf: (subscriber: number) => string | undefined): Verdict {
  const data = payload['event-data'] ?? {};
  const reportId = `mailgun:${typeof data.id === 'string' ? data.id : (payload.signature?.token as string)}`;
  const event = typeof data.event === 'string' ? data.event : '';
  const ignored = (reason: string): Verdict => ({ kind: 'ignored', reason, reportId });
  const kind = event === 'failed' ? (data.severity === 'permanent' ? 'hard' : 'soft') : event === 'complained' ? 'complaint' : event === 'unsubscribed' ? 'unsubscribe' : undefined;
  if (!kind) return ignored(`a Mailgun "${clip(event) || 'unnamed'}" event, not a bounce or a complaint`);
  const who = issueReader(data.message?.headers?.['message-id'], [data.recipient], emailOf);
  if (typeof who === 'string') return ignored(`a Mailgun event ${who}`);
  const { subscriber, issueId } = who;
  const status = data['delivery-status'] ?? {};
  const code = typeof status['enhanced-code'] === 'string' && status['enhanced-code'] ? status['enhanced-code'] : typeof status.code === 'number' ? String(status.code) : kind === 'complaint' ? 'abuse' : '';
  const text = [status.description, status.message].find((t): t is string => typeof t === 'string' && t.trim() !== '') ?? `Mailgun: ${event}`;
  return { kind, subscriber, issueId, code: clip(code), text: clip(text), reportId };
}

/**
 * The reader and issue of the Message-ID Almanac gave a message ("<issue>.<reader>@host"), when one of
 * `recipients` is that reader's address; otherwise why not.
 */
function issueReader(messageId: unknown, recipients: unknown[], emailOf: (subscriber: number) => string | undefined): { subscriber: number; issueId: string } | string {
  const m = typeof messageId === 'string' ? /^<?(\d{4}-\d{2}-\d{2}-[a-z][a-z0-9-]{0,14})\.(\d{1,15})@[^>\s]+>?$/.exec(messageId.trim()) : null;
  if (!m) return 'about a message that is not an issue Almanac sent';
  const subscriber = Number(m[2]);
  const email = emailOf(subscriber)?.toLowerCase();
  if (!email || !recipients.some((r) => typeof r === 'string' && r.trim().toLowerCase() === email)) return 'whose recipient is not the reader its Message-ID names';
  return { subscriber, issueId: m[1]! };
}

interface SesEvent {
  notificationType?: unknown;
  eventType?: unknown;
  bounce?: { bounceType?: unknown; bouncedRecipients?: { emailAddress?: unknown; status?: unknown; diagnosticCode?: unknown }[]; feedbackId?: unknown };
  complaint?: { complainedRecipients?: { emailAddress?: unknown }[]; complaintFeedbackType?: unknown; feedbackId?: unknown };
  mail?: { commonHeaders?: { messageId?: unknown }; headers?: { name?: unknown; value?: unknown }[] };
}

/** An Amazon SES bounce or complaint notification (the Message of a verified SNS notification) as a verdict. */
export function sesVerdict(message: string, snsMessageId: string, emailOf: (subscriber: number) => string | undefined): Verdict {
  const reportId = `ses:${snsMessageId}`;
  const ignored = (reason: string): Verdict => ({ kind: 'ignored', reason, reportId });
  let e: SesEvent;
  try {
    e = JSON.parse(message) as SesEvent;
  } catch {
    return ignored('an SES notification whose message is not JSON');
  }
  if (!e || typeof e !== 'object') return ignored('an SES notification whose message is not an event');
  const type = typeof e.notificationType === 'string' ? e.notificationType : typeof e.eventType === 'string' ? e.eventType : '';
  const header = e.mail?.headers?.find((h) => typeof h?.name === 'string' && h.name.toLowerCase() === 'message-id')?.value;
  const messageId = e.mail?.commonHeaders?.messageId ?? header;
  if (type === 'Bounce') {
    const recipients = Array.isArray(e.bounce?.bouncedRecipients) ? e.bounce.bouncedRecipients : [];
    const who = issueReader(messageId, recipients.map((r) => r?.emailAddress), emailOf);
    if (typeof who === 'string') return ignored(`an SES bounce ${who}`);
    const r = recipients.find((x) => typeof x?.emailAddress === 'string' && x.emailAddress.trim().toLowerCase() === emailOf(who.subscriber)?.toLowerCase());
    const status = typeof r?.status === 'string' ? r.status : '';
    const kind = e.bounce?.bounceType === 'Permanent' ? 'hard' : 'soft';
    const text = typeof r?.diagnosticCode === 'string' && r.diagnosticCode ? r.diagnosticCode : `SES: ${String(e.bounce?.bounceType)} bounce`;
    return { kind, ...who, code: clip(status), text: clip(text), reportId };
  }
  if (type === 'Complaint') {
    const recipients = Array.isArray(e.complaint?.complainedRecipients) ? e.complaint.complainedRecipients : [];
    const who = issueReader(messageId, recipients.map((r) => r?.emailAddress), emailOf);
    if (typeof who === 'string') return ignored(`an SES complaint ${who}`);
    const feedback = typeof e.complaint?.complaintFeedbackType === 'string' ? e.complaint.complaintFeedbackType : 'abuse';
    if (feedback === 'not-spam') return ignored('an SES complaint of type "not-spam", not a complaint');
    return { kind: 'complaint', ...who, code: clip(feedback), text: 'reported as spam (Amazon SES)', reportId };
  }
  return ignored(`an SES "${clip(type) || 'unnamed'}" notification, not a bounce or a complaint`);
}

function clip(s: string): string {
  const line = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
}
