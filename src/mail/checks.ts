// The email checks: one engine, run on the message as it is sent (a sample recipient's MIME), by
// `issue build`, `almanac check` and the preview. Each check has an id, a severity and says what it
// expected and what it found. The rules on the HTML document are in checks-html.ts.
import { parse, type HTMLElement } from 'node-html-parser';
import { checkHtml } from './checks-html.ts';
import type { TemplateSource } from './template-place.ts';
import { SUBJECT_MAX } from '../compose/subject.ts';
import { slotLabel, type SlotName } from '../render/tokens.ts';
import { linkAlone } from '../render/wrap.ts';

export type Severity = 'error' | 'warning';

export interface Finding {
  check: string;
  severity: Severity;
  expected: string;
  found: string;
  /** The file (and line) to fix, when it is not the issue as a whole (the notes file). */
  file?: string;
}

let messageParser: Promise<typeof import('mailparser')> | undefined;

/**
 * mailparser, which the checks read the message back with, loaded on first use; a caller that is about
 * to wait on something else (MJML on its own thread) can start it loading meanwhile.
 */
export function loadMessageParser(): Promise<typeof import('mailparser')> {
  return (messageParser ??= import('mailparser'));
}

export const HTML_ERROR_BYTES = 102_000;
const HTML_WARN_BYTES = 82_000;
const ENCODED_WARN_BYTES = 105_000;

export interface CheckInput {
  /** The full MIME message for a sample recipient. */
  mime: Buffer;
  /** The HTML and text before per-recipient substitution, with their placeholders. */
  unpersonalised: { html: string; text: string };
  /** Placeholders every recipient's copy must have filled in. */
  placeholders: { unsubscribe: string; preferences: string };
  /** The sample recipient's values for them. */
  sample: { unsubscribe: string; preferences: string };
  /** The web version, linked as "view in browser". */
  webUrl: string;
  /**
   * The text of the content. Braces or markup that come from it (a story about template
   * syntax, a headline quoting "<b>") are the reader's text, not a template's leftovers.
   */
  contentText?: string;
  /** The email templates the HTML was rendered from, to name where a fault was written. */
  templates?: readonly TemplateSource[];
}

export async function checkMessage(input: CheckInput): Promise<Finding[]> {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (check: string, severity: Severity, expected: string, found: string) => {
    // The same finding twice (one bad link used in two places) is one thing to fix.
    const key = `${check}\u0000${expected}\u0000${found}`;
    if (!seen.has(key)) findings.push({ check, severity, expected, found });
    seen.add(key);
  };
  const { simpleParser } = await loadMessageParser();
  const mail = await simpleParser(input.mime);
  const raw = input.mime.toString('latin1');
  const html = typeof mail.html === 'string' ? mail.html : '';
  const text = mail.text ?? '';

  // 1–3: size and charset
  const htmlBytes = Buffer.byteLength(html, 'utf8');
  if (!html) add('html-part', 'error', 'a text/html part', 'none');
  if (htmlBytes >= HTML_ERROR_BYTES) add('html-size', 'error', `decoded HTML under ${fmt(HTML_ERROR_BYTES)} bytes (Gmail clips beyond)`, `${fmt(htmlBytes)} bytes`);
  else if (htmlBytes > HTML_WARN_BYTES) add('html-size', 'warning', `decoded HTML under ${fmt(HTML_WARN_BYTES)} bytes, to leave room before Gmail clips at ~102 KB`, `${fmt(htmlBytes)} bytes`);
  const encoded = encodedHtmlBytes(raw);
  if (encoded > ENCODED_WARN_BYTES) add('encoded-size', 'warning', `the encoded HTML part under ${fmt(ENCODED_WARN_BYTES)} bytes`, `${fmt(encoded)} bytes`);
  const textTypes = [...raw.matchAll(/^Content-Type:\s*(text\/(?:plain|html))(?:;\s*charset=("?)([^";\r\n]+)\2)?/gim)];
  if (!textTypes.some((m) => m[1]!.toLowerCase() === 'text/plain')) add('text-part', 'error', 'a text/plain part', 'none');
  for (const m of textTypes) {
    if ((m[3] ?? '').toLowerCase() !== 'utf-8') add('charset', 'error', `${m[1]} in utf-8`, m[3] ? `charset=${m[3]}` : 'no charset');
  }
  if (!/^Content-Type:\s*multipart\/alternative/im.test(raw)) add('multipart', 'error', 'multipart/alternative with text and HTML', 'another structure');

  // Headers
  const subject = mail.subject ?? '';
  const rawSubject = /^Subject:(.*(?:\r?\n[ \t].*)*)/im.exec(raw)?.[1] ?? '';
  if (!subject) add('subject', 'error', 'a subject', 'none');
  else if ([...subject].length > SUBJECT_MAX) add('subject', 'error', `a subject of at most ${SUBJECT_MAX} characters`, `${[...subject].length} characters`);
  if (/[\r\n]/.test(subject) || /\r?\n(?![ \t])/.test(rawSubject.replace(/\r?\n$/, ''))) add('subject', 'error', 'a subject on one line', 'a line break');
  const listUnsub = headerValue(raw, 'List-Unsubscribe');
  const links = listUnsub ? [...listUnsub.matchAll(/<([^>]*)>/g)].map((m) => m[1]!) : [];
  if (!listUnsub) add('unsubscribe-header', 'error', 'a List-Unsubscribe header', 'none');
  else if (!links.some((l) => l.startsWith('https://')) || links.some((l) => !/^(https:|mailto:)/.test(l)) || links.length > 2) {
    add('unsubscribe-header', 'error', 'List-Unsubscribe: <https://…>[, <mailto:…>]', listUnsub);
  }
  const post = headerValue(raw, 'List-Unsubscribe-Post');
  if (post !== 'List-Unsubscribe=One-Click') add('unsubscribe-header', 'error', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)', post ?? 'none');
  for (const name of ['Message-ID', 'Date']) if (!headerValue(raw, name)) add('headers', 'error', `a ${name} header`, 'none');

  const doc = html ? parse(html, { comment: true }) : undefined;
  if (doc) checkHtml(doc, { unsubscribe: input.sample.unsubscribe, webUrl: input.webUrl }, add, input.templates);
  checkText(text, doc, spaced(input.contentText ?? ''), add);
  checkPlaceholders(input, html, text, add);
  return findings;
}

type Add = (check: string, severity: Severity, expected: string, found: string) => void;

function checkText(text: string, doc: HTMLElement | undefined, content: string, add: Add): void {
  if (!text.trim()) {
    add('text-part', 'error', 'a plain-text part that reads on its own', 'an empty text part');
    return;
  }
  if (doc) {
    const missing = new Set<string>();
    for (const a of doc.querySelectorAll('a')) {
      const href = a.getAttribute('href') ?? '';
      if (/^https:/.test(href) && !text.includes(href)) missing.add(href);
    }
    if (missing.size) add('text-links', 'error', 'every link of the HTML written out in the text part', `${missing.size} missing, e.g. ${[...missing][0]}`);
  }
  // Markup a template or the Markdown renderer let through (news text quoting "<script>" is just text).
  // What the content itself says (a headline quoting "<b>" or "&amp;") is the reader's text.
  const markup = [...text.matchAll(/<\/?(p|a|br|div|span|strong|em|b|i|ul|ol|li|table|tr|td|h[1-6]|img|mj-[a-z-]+)([ \t][^<>\n]*)?\/?>|&(amp|lt|gt|quot|nbsp|#\d+);/gi)].find(
    (m) => !content.includes(spaced(m[0])),
  );
  if (markup) add('text-markup', 'error', 'no markup or HTML entities in the text part', markup[0]);
  const long = text.split(/\r?\n/).filter((l) => [...l].length > 78 && !linkAlone(l));
  if (long.length) add('text-wrap', 'warning', 'text lines of at most 78 characters (a longer link alone on its line)', `${long.length} longer, e.g. ${JSON.stringify(clipped(long[0]!))}`);
}

function checkPlaceholders(input: CheckInput, html: string, text: string, add: Add): void {
  // 15: every placeholder survived MJML where it belongs, and nothing of the template is left over.
  for (const [name, token] of Object.entries(input.placeholders)) {
    // Named as the editor knows it: the marker itself carries a random nonce.
    const label = slotLabel(name as SlotName);
    if (!input.unpersonalised.html.includes(`href="${token}"`)) add('placeholders', 'error', `the ${name} placeholder ${label} as a link in the HTML`, 'it is missing or was altered');
    if (!input.unpersonalised.text.includes(token)) add('placeholders', 'error', `the ${name} placeholder ${label} in the text part`, 'it is missing');
  }
  // Compared with runs of space collapsed, as wrapping and HTML do.
  const content = spaced(input.contentText ?? '');
  for (const [part, body] of [['HTML', html], ['text', text]] as const) {
    // A whole token stays inside one run of text; what is left are single braces, matched alone.
    for (const m of body.matchAll(/\{\{[^{}<>\n]*\}\}|\{\{|\}\}/g)) {
      const said = spaced(part === 'HTML' ? decodeEntities(m[0]) : m[0]);
      if (!content.includes(said) && !spansContent(said, content)) add('stray-tokens', 'error', `no template tokens left in the ${part} part`, m[0]);
    }
  }
}

/** What a Handlebars expression looks like: `{{name}}`, `{{#each items}}`, `{{> partial x="y"}}` … */
const HANDLEBARS = /^\{\{\{?~?[#/^>!&]?\s*[A-Za-z_$@][\w$.@/-]*(\s+("[^"]*"|'[^']*'|[\w$.@/=-]+))*\s*~?\}?\}\}$/;

/**
 * A "{{ … }}" that opens in one field of the content and closes in another: both braces are the
 * reader's text, and what lies between is no Handlebars expression a template could have left.
 */
function spansContent(token: string, content: string): boolean {
  return content.includes('{{') && content.includes('}}') && !HANDLEBARS.test(token);
}

function clipped(line: string): string {
  return line.length > 90 ? `${line.slice(0, 90)}…` : line;
}

function spaced(text: string): string {
  return text.replace(/\s+/g, ' ');
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** The text an HTML fragment stands for (the references Handlebars and MJML write). */
function decodeEntities(html: string): string {
  return html.replace(/&(?:#x([0-9a-f]+)|#(\d+)|([a-z]+));/gi, (all, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (hex || dec) {
      const code = parseInt(hex ?? dec!, hex ? 16 : 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return NAMED[name!.toLowerCase()] ?? all;
  });
}

function headerValue(raw: string, name: string): string | undefined {
  const headerBlock = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(headerBlock);
  return m ? m[1]!.replace(/\r?\n[ \t]+/g, ' ').trim() : undefined;
}

/** Bytes of the encoded text/html part, between its headers and the next boundary. */
function encodedHtmlBytes(raw: string): number {
  const m = /Content-Type:\s*text\/html[^]*?\r?\n\r?\n([^]*?)\r?\n--/i.exec(raw);
  return m ? m[1]!.length : 0;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
