// One email as it goes on the wire: multipart/alternative (text, then HTML), utf-8, with the headers
// bulk senders must carry (RFC 8058 one-click unsubscribe, List-Id). Composed by nodemailer.
import MailComposer from 'nodemailer/lib/mail-composer';
import { oneLine } from '../compose/issue.ts';

export interface Envelope {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** HTTPS one-click unsubscribe link for this recipient. */
  unsubscribeUrl: string;
  /** mailto: alternative for clients that prefer it. */
  unsubscribeMailto: string;
  /** List-Id value, e.g. "Call Me Almanac <almanac.example.org>". */
  listId: string;
  messageId: string;
  date: Date;
}

export function buildMessage(e: Envelope): Promise<Buffer> {
  const composer = new MailComposer({
    from: e.from,
    to: e.to,
    // Every value that reaches a header is flattened to one line first: content can never add a header.
    subject: oneLine(e.subject),
    text: e.text,
    html: e.html,
    messageId: e.messageId,
    date: e.date,
    textEncoding: 'quoted-printable',
    headers: {
      'List-Unsubscribe': `<${oneLine(e.unsubscribeUrl)}>, <${oneLine(e.unsubscribeMailto)}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': oneLine(e.listId),
    },
  });
  return new Promise((resolve, reject) => {
    composer.compile().build((err, message) => (err ? reject(err) : resolve(message)));
  });
}

/** "Call Me Almanac <almanac.example.org>": the list's name and a stable identifier from the site's host. */
export function listId(title: string, baseUrl: string): string {
  return `${oneLine(title).replace(/[<>"]/g, '')} <almanac.${new URL(baseUrl).hostname}>`;
}

/** The address part of "Name <address>". */
export function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}
