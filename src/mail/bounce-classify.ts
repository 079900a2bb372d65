// What came back to a return path or to the mailto unsubscribe address, classified: a delivery-status
// notification (RFC 3464) is a hard (5.x.x) or soft (4.x.x) bounce, a feedback report (RFC 5965) of
// type abuse is a complaint, and a mail to a reader's own unsubscribe address unsubscribes them.
// The reader and the issue come only from a return-path token signed with ALMANAC_SECRET; anything
// else is ignored with its reason. Nothing here throws: every input gets a verdict.
import { createHash } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Verdict } from '../store/mail-events.ts';
import { readReturnAddress, type ReturnClaims } from './signing.ts';


/** Larger than any report; a bigger message is not read. */
export const MAX_REPORT_BYTES = 10 * 1024 * 1024;
const MAX_TEXT = 500;
/** Longer Message-IDs are recorded by their hash. */
const MAX_ID = 200;

/** Headers where the receiving system writes the address a message was delivered to. */
const RECIPIENT_HEADERS = new Set(['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'to']);
const TOKEN_ADDRESS = /bounces\+[0-9a-z-]{1,64}@[0-9a-z.-]+/gi;

export async function classify(raw: Buffer, secret: string): Promise<Verdict> {
  const hashId = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  if (raw.length > MAX_REPORT_BYTES) return ignored(hashId, `larger than ${MAX_REPORT_BYTES} bytes`);
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  } catch (err) {
    return ignored(hashId, `not a readable message (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    return judge(mail, raw, secret, hashId);
  } catch (err) {
    return ignored(hashId, `not a readable message (${err instanceof Error ? err.message : String(err)})`);
  }
}

function judge(mail: ParsedMail, raw: Buffer, secret: string, hashId: string): Verdict {
  const messageId = oneLine(mail.messageId ?? '');
  // The report's own id, so that the same report fed in twice counts once. Anyone can mail the
  // bounce address, so an id of any length is kept as its hash rather than stored whole.
  const reportId = !messageId ? hashId : messageId.length > MAX_ID ? `message-id:sha256:${createHash('sha256').update(messageId).digest('hex')}` : `message-id:${messageId}`;
  const recipient = deliveredTo(mail, secret);
  const type = contentType(mail);
  if (type.value === 'multipart/report' && /^delivery-status$/i.test(type.reportType)) return bounce(mail, raw, secret, reportId, recipient);
  if (type.value === 'multipart/report' && /^feedback-report$/i.test(type.reportType)) return complaint(mail, raw, secret, reportId, recipient);
  if (recipient?.purpose === 'unsubscribe') {
    const auto = headerText(mail, 'auto-submitted');
    if (auto && !/^no\b/i.test(auto)) return ignored(reportId, `an automatic message (Auto-Submitted: ${auto}) to an unsubscribe address`, recipient);
    return { kind: 'unsubscribe', subscriber: recipient.subscriber, issueId: recipient.issueId, code: '', text: clip(`mail to the unsubscribe address, subject "${oneLine(mail.subject ?? '')}"`), reportId };
  }
  if (recipient) return ignored(reportId, 'neither a delivery-status notification nor a feedback report (an automatic reply?)', recipient);
  return ignored(reportId, 'not addressed to a return path this site signed');
}

function bounce(mail: ParsedMail, raw: Buffer, secret: string, reportId: string, recipient: ReturnClaims | undefined): Verdict {
  const part = mail.attachments.find((a) => /^message\/(global-)?delivery-status$/i.test(a.contentType));
  if (!part) return ignored(reportId, 'a delivery report without its message/delivery-status part', recipient);
  const blocks = fieldBlocks(part.content.toString('utf8'));
  // The per-message block comes first; the recipients' blocks follow (one, for a message of ours).
  const target = blocks.slice(1).find((b) => b.has('action')) ?? blocks.find((b) => b.has('action') || b.has('status'));
  if (!target) return ignored(reportId, 'a delivery report that names no recipient', recipient);
  const action = (target.get('action') ?? '').toLowerCase();
  const diagnostic = target.get('diagnostic-code') ?? '';
  const status = /^\s*([245])\.\d{1,3}\.\d{1,3}/.exec(target.get('status') ?? '')?.[0]?.trim() ?? /\b([245])\.\d{1,3}\.\d{1,3}\b/.exec(diagnostic)?.[0];
  if (['delivered', 'relayed', 'expanded'].includes(action)) return ignored(reportId, `a report of success (Action: ${action})`, recipient);
  // A delay notice says the server is still trying: the message may yet arrive, so it is no bounce.
  if (action === 'delayed') return ignored(reportId, 'a delay notice (Action: delayed): the server is still trying', recipient);
  if (!status) return ignored(reportId, 'a delivery report without a status code', recipient);
  if (status.startsWith('2')) return ignored(reportId, `a report of success (Status: ${status})`, recipient);
  const who = recipient ?? innerToken(mail, raw, secret);
  if (!who) return ignored(reportId, 'a delivery report for a message this site did not sign');
  if (who === 'ambiguous') return ignored(reportId, 'a delivery report naming several readers');
  return { kind: status.startsWith('5') ? 'hard' : 'soft', subscriber: who.subscriber, issueId: who.issueId, code: status, text: clip(diagnostic || `Action: ${action}`), reportId };
}

function complaint(mail: ParsedMail, raw: Buffer, secret: string, reportId: string, recipient: ReturnClaims | undefined): Verdict {
  const part = mail.attachments.find((a) => /^message\/feedback-report$/i.test(a.contentType));
  if (!part) return ignored(reportId, 'a feedback report without its message/feedback-report part', recipient);
  const fields = fieldBlocks(part.content.toString('utf8'))[0] ?? new Map<string, string>();
  const feedback = (fields.get('feedback-type') ?? '').toLowerCase();
  if (feedback !== 'abuse') return ignored(reportId, `a feedback report of type "${clip(feedback) || 'none'}", not a complaint`, recipient);
  // The original message inside the report carries the return path and the mailto address: ARF
  // reports often come to an address of their own, not to the return path.
  const who = recipient ?? innerToken(mail, raw, secret);
  if (!who) return ignored(reportId, 'a complaint about a message this site did not sign');
  if (who === 'ambiguous') return ignored(reportId, 'a complaint naming several readers');
  const by = fields.get('user-agent') ?? fields.get('reporting-mta') ?? '';
  return { kind: 'complaint', subscriber: who.subscriber, issueId: who.issueId, code: feedback, text: clip(by ? `reported as abuse by ${by}` : 'reported as abuse'), reportId };
}

/** The signed return path the message was delivered to, from the headers the receiving system wrote. */
function deliveredTo(mail: ParsedMail, secret: string): ReturnClaims | undefined {
  for (const { key, line } of mail.headerLines) {
    if (!RECIPIENT_HEADERS.has(key.toLowerCase())) continue;
    for (const address of line.match(TOKEN_ADDRESS) ?? []) {
      const claims = readReturnAddress(secret, address);
      if (claims) return claims;
    }
  }
  return undefined;
}

/** The one reader that signed return paths inside the report (the original's headers) name. */
function innerToken(mail: ParsedMail, raw: Buffer, secret: string): ReturnClaims | 'ambiguous' | undefined {
  const texts = [raw.toString('latin1'), mail.text ?? '', ...mail.attachments.map((a) => a.content.toString('latin1'))];
  const found = new Map<string, ReturnClaims>();
  for (const text of texts) {
    for (const address of text.match(TOKEN_ADDRESS) ?? []) {
      const claims = readReturnAddress(secret, address);
      if (claims) found.set(`${claims.subscriber} ${claims.issueId}`, claims);
    }
  }
  if (found.size > 1) return 'ambiguous';
  return found.values().next().value;
}

/** The "Name: value" blocks of a report part (RFC 3464 §2.1), blank-line separated, names in lower case. */
function fieldBlocks(text: string): Map<string, string>[] {
  const blocks: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let last = '';
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) {
      if (current.size) blocks.push(current);
      current = new Map();
      last = '';
    } else if (/^[ \t]/.test(line) && last) {
      current.set(last, `${current.get(last)} ${line.trim()}`);
    } else {
      const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      if (!current.has(last)) current.set(last, m[2]!.trim());
    }
  }
  if (current.size) blocks.push(current);
  return blocks;
}

function contentType(mail: ParsedMail): { value: string; reportType: string } {
  const header = mail.headers.get('content-type');
  if (header && typeof header === 'object' && 'value' in header) {
    const params = (header as { params?: Record<string, string> }).params ?? {};
    return { value: String(header.value).toLowerCase(), reportType: String(params['report-type'] ?? '') };
  }
  return { value: '', reportType: '' };
}

function headerText(mail: ParsedMail, name: string): string {
  const value = mail.headers.get(name);
  return typeof value === 'string' ? oneLine(value) : '';
}

function ignored(reportId: string, reason: string, who?: ReturnClaims): Verdict {
  // Some reasons quote the report (a header, the parser's words): kept as short as any event text.
  return { kind: 'ignored', reason: clip(reason), reportId, ...(who ? { subscriber: who.subscriber, issueId: who.issueId } : {}) };
}

/** Printed on a terminal and in logs: no C0 or C1 control (C1 CSI starts an escape sequence), no line or bidi control. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, ' ').trim();
}

function clip(s: string): string {
  const line = oneLine(s);
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
}
