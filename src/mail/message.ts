// One issue as it goes on the wire: multipart/alternative (text, then HTML), utf-8, quoted-printable,
// with the headers bulk senders must carry (RFC 8058 one-click unsubscribe, List-Id).
//
// The message is encoded once per issue into fixed byte runs with slots between them; a recipient's
// copy is those runs joined with their own few values. Each slot starts and ends a line of its own
// (a soft line break on either side), so quoted-printable wrapping of the fixed runs never depends
// on the length of what fills a slot.
import { createHash } from 'node:crypto';
import { encodeWord, encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { oneLine } from '../compose/subject.ts';
import { SLOT_NAMES, TOKENS, slotHtml, slotText, type Recipient, type SlotName } from '../render/tokens.ts';
import { addressOf } from '../content/address.ts';
import type { Config } from '../content/config-schema.ts';

export interface MessageParts {
  /** "Name <address>" */
  from: string;
  subject: string;
  html: string;
  text: string;
  /** List-Id value, e.g. "Call Me Almanac <almanac.example.org>". */
  listId: string;
  date: Date;
  /** Stable across recipients: seeds the MIME boundary. */
  issueId: string;
}

export interface Addressee {
  email: string;
  name: string;
  /** Unique per message, without angle brackets. */
  messageId: string;
  /** HTTPS one-click unsubscribe link for this recipient. */
  unsubscribeUrl: string;
  /** mailto: alternative for clients that prefer it. */
  unsubscribeMailto: string;
  /** Values for the body's placeholders. */
  tokens: Recipient;
}

/**
 * A message whole, or as the runs it is joined from, in order. A run object given again holds the
 * same bytes (the DKIM signer reuses what it worked out for it).
 */
export type MessageRuns = Buffer | readonly Buffer[];

/** A body slot names its part: the HTML part gets the value escaped, the text part gets it raw. */
type Slot = 'to' | 'messageId' | 'listUnsubscribe' | `qp:${SlotName}:${'text' | 'html'}`;
type Run = Buffer | Slot;

const CRLF = '\r\n';
const SOFT_BREAK = `=${CRLF}`;
// Only the markers the templates placed can match: content cannot spell them (see render/tokens.ts).
const TOKEN_PATTERN = new RegExp(`(${SLOT_NAMES.map((k) => escapeRegExp(TOKENS[k])).join('|')})`);

export class MessageTemplate {
  private constructor(private readonly runs: Run[]) {}

  static compile(parts: MessageParts): MessageTemplate {
    const boundary = `----=_almanac_${createHash('sha1').update(parts.issueId).digest('hex').slice(0, 24)}`;
    const runs: Run[] = [];
    let pending = '';
    const text = (s: string) => (pending += s);
    const slot = (s: Slot) => {
      runs.push(Buffer.from(pending, 'latin1'), s);
      pending = '';
    };

    text(header('From', formatAddress(parts.from)));
    text('To: ');
    slot('to');
    text(CRLF);
    text(foldLines(`Subject: ${encodeWords(oneLine(parts.subject), 'Q', 52)}`, 76) + CRLF);
    text('Message-ID: <');
    slot('messageId');
    text(`>${CRLF}`);
    text(header('Date', rfc2822(parts.date)));
    text(header('MIME-Version', '1.0'));
    text('List-Unsubscribe: ');
    slot('listUnsubscribe');
    text(CRLF);
    text(header('List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'));
    text(header('List-Id', encodeWords(oneLine(parts.listId), 'Q', 52)));
    text(header('Content-Type', `multipart/alternative; boundary="${boundary}"`));
    text(CRLF);
    for (const [type, body, part] of [['text/plain', parts.text, 'text'], ['text/html', parts.html, 'html']] as const) {
      text(`--${boundary}${CRLF}`);
      text(header('Content-Type', `${type}; charset=utf-8`));
      text(header('Content-Transfer-Encoding', 'quoted-printable'));
      text(CRLF);
      body.replace(/\r?\n/g, CRLF).split(TOKEN_PATTERN).forEach((piece, i) => {
        if (i % 2 === 0) {
          const encoded = qpWrap(qpEncode(piece), 76);
          text(encoded);
          return;
        }
        // A placeholder: alone on its (soft-broken) line, whatever fills it.
        text(SOFT_BREAK);
        slot(`qp:${SLOT_NAMES.find((k) => TOKENS[k] === piece)!}:${part}`);
        text(SOFT_BREAK);
      });
      text(CRLF);
    }
    text(`--${boundary}--${CRLF}`);
    runs.push(Buffer.from(pending, 'latin1'));
    return new MessageTemplate(runs);
  }

  /** One recipient's message: the fixed runs joined with their values. */
  render(to: Addressee): Buffer {
    return Buffer.concat(this.runsOf(to));
  }

  /**
   * One recipient's message as the runs it is joined from: the fixed runs (the same objects in
   * every copy, never changed) and the recipient's values between them.
   */
  runsOf(to: Addressee): Buffer[] {
    return this.runs.map((run) => (typeof run === 'string' ? Buffer.from(this.fill(run, to), 'latin1') : run));
  }

  private fill(slot: Slot, to: Addressee): string {
    switch (slot) {
      case 'to':
        return formatAddress(to.name ? `${slotText(to.name)} <${to.email}>` : to.email);
      case 'messageId':
        return oneLine(to.messageId).replace(/[<>\s]/g, '');
      case 'listUnsubscribe':
        return `<${oneLine(to.unsubscribeUrl)}>, <${oneLine(to.unsubscribeMailto)}>`;
      default: {
        const [, name, part] = slot.split(':') as [string, SlotName, 'text' | 'html'];
        const value = to.tokens[name];
        return qpWrap(qpEncode(part === 'html' ? slotHtml(value) : slotText(value)), 76);
      }
    }
  }
}

function header(name: string, value: string): string {
  return foldLines(`${name}: ${value}`, 76) + CRLF;
}

/** "Name <address>" with the name encoded (RFC 2047) or quoted as it needs; header-safe whatever it holds. */
function formatAddress(value: string): string {
  const m = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(oneLine(value));
  const address = (m ? m[2]! : value).trim().replace(/[\s<>"]/g, '');
  const name = m ? m[1]!.replace(/^"|"$/g, '') : '';
  if (!name) return address;
  if (/[^\x20-\x7e]/.test(name)) return `${encodeWord(name, 'Q', 52)} <${address}>`;
  return /[()<>@,;:\\".[\]]/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}" <${address}>` : `${name} <${address}>`;
}

function rfc2822(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "Call Me Almanac <almanac.example.org>": the list's name and a stable identifier from the site's host. */
export function listId(title: string, baseUrl: string): string {
  return `${oneLine(title).replace(/[<>"]/g, '')} <almanac.${new URL(baseUrl).hostname}>`;
}

export { addressOf };

/** The issue's message, encoded once; render() gives each recipient's copy. */
export function compileIssueMessage(
  config: Config,
  issue: { id: string; subject: string; scheduledAt: number },
  email: { html: string; text: string },
): MessageTemplate {
  return MessageTemplate.compile({
    from: config.from,
    subject: issue.subject,
    html: email.html,
    text: email.text,
    listId: listId(config.title, config.baseUrl),
    date: new Date(issue.scheduledAt),
    issueId: issue.id,
  });
}

export function unsubscribeMailto(config: Config): string {
  return `mailto:${addressOf(config.from)}?subject=unsubscribe`;
}
