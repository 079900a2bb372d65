// The editor's preview: guides' working copies as they will publish (with what changed since the
// latest version), the next Midweek and Sunday as they would be built now, past issues, and a viewer
// for each issue. Files are watched; a saved guide reloads only that guide; open pages update
// themselves over server-sent events, and a content or template error shows as an overlay.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { isEmailAddress } from '../content/address.ts';
import { addressOf, compileIssueMessage } from '../mail/message.ts';
import type { Transport } from '../mail/send-ports.ts';
import type { SendLimits } from '../store/quota.ts';
import { listTemplateFiles } from '../render/templates.ts';
import { personalise, sampleRecipient } from '../render/tokens.ts';
import { workingCopyPage } from '../site/guide-pages.ts';
import { readBody } from './guard.ts';
import { LOOPBACK_NAMES, checkHost, checkSameOrigin } from './origin.ts';
import { Drafts } from './preview-drafts.ts';
import { PreviewPages, type Arrived } from './preview-pages.ts';
import { editionNames, previousSlot } from '../compose/slots.ts';

export interface PreviewOptions {
  root: string;
  clock: () => number;
  log: (line: string) => void;
  mailer?: Transport;
  /** Names the preview answers to besides the loopback ones (`--host-name`). */
  hostNames?: readonly string[];
  /** Whether `email` is an active subscriber: test copies may go there too. */
  isSubscriber?: (email: string) => boolean;
  /** News files that `news fetch` or `news add` wrote at or after an instant (from the store). */
  arrivals?: (since: number) => readonly { file: string; arrivedAt: number }[];
  /**
   * Takes one message from the sending quota shared with every sender (`sending.limits` as the
   * configuration stands now); says until when it is used up instead, if it is.
   */
  takeQuota?: (limits: SendLimits) => number | undefined;
}

/** Open live-reload streams at most; each is a socket held open. */
const MAX_CLIENTS = 64;

export class Preview {
  private readonly clients = new Set<ServerResponse>();
  private readonly hosts: ReadonlySet<string>;
  private readonly pages = PreviewPages.load();
  private readonly drafts: Drafts;

  constructor(private readonly o: PreviewOptions) {
    this.hosts = new Set([...LOOPBACK_NAMES, ...(o.hostNames ?? []).map((n) => n.toLowerCase())]);
    this.drafts = new Drafts(o.root, o.clock);
    // The spam score arrives seconds after the viewer: open pages reload to show it.
    this.drafts.onChecked = () => this.broadcast();
  }

  /** Reloads what `changed` touches, then tells every open page. */
  async reload(changed?: string): Promise<void> {
    const started = performance.now();
    const rel = changed ? path.relative(this.o.root, changed).split(path.sep).join('/') : undefined;
    await this.drafts.reload(rel);
    const ms = performance.now() - started;
    this.broadcast();
    const problems = this.drafts.problems;
    this.o.log(`${rel ?? 'everything'} reloaded in ${ms.toFixed(0)} ms${problems ? ` with ${problems.length} problem(s)` : ''}`);
  }

  /** The news items fetched since the last scheduled issue of any edition, newest first. */
  private arrived(): Arrived {
    const { config } = this.drafts.site;
    const since = Math.max(...editionNames(config).map((e) => previousSlot(config, e, this.o.clock() + 1)));
    const byFile = new Map(this.drafts.site.news.map((n) => [n.file, n]));
    const items = (this.o.arrivals?.(since) ?? []).flatMap((a) => {
      const item = byFile.get(a.file);
      return item ? [{ item, arrivedAt: a.arrivedAt }] : [];
    });
    return { since, items };
  }

  private broadcast(): void {
    for (const res of this.clients) res.write(`event: change\ndata: ${Date.now()}\n\n`);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only origin-form targets ("/path"): an absolute URL or "*" names no page here.
    const target = req.url ?? '';
    if (!target.startsWith('/') || !URL.canParse(`http://localhost${target}`)) return send(res, 400, 'Bad request target.', TEXT);
    // A foreign Host is a page on another site that got its name pointed at 127.0.0.1 (DNS rebinding): no content for it.
    const host = checkHost(req.headers, this.hosts);
    if (!host.ok) return send(res, 403, `Refused: ${host.reason}. Add a name with --host-name.`, TEXT);
    const url = new URL(`http://localhost${target}`);
    const parts = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    const isSendTest = parts[0] === 'issues' && parts.length === 3 && parts[2] === 'send-test';
    if (isSendTest ? method !== 'POST' : method !== 'GET' && method !== 'HEAD') {
      return send(res, 405, `${method} is not allowed here.`, TEXT, { allow: isSendTest ? 'POST' : 'GET, HEAD' });
    }
    if (isSendTest) return this.sendTest(req, res, parts[1]!);
    if (url.pathname === '/events') return this.events(req, res);
    if (url.pathname === '/preview.js') return send(res, 200, this.pages.script, 'text/javascript; charset=utf-8');
    if (url.pathname === '/preview.css') return send(res, 200, this.pages.style, 'text/css; charset=utf-8');
    if (parts[0] === 'assets' && parts.length === 2) return this.asset(res, parts[1]!);
    if (this.drafts.problems) return send(res, 200, this.pages.problems(this.drafts.problems), HTML);
    if (url.pathname === '/') return send(res, 200, this.pages.index(this.drafts.site, this.drafts.pastIssues(), this.arrived()), HTML);
    if (parts[0] === 'guides' && parts.length === 2) return this.guide(res, parts[1]!);
    if (parts[0] === 'issues' && parts.length >= 2 && parts.length <= 3) {
      const key = parts[1]!;
      const found = await this.drafts.issue(key);
      if (!found) return send(res, 404, this.pages.notFound({ issue: key }), HTML);
      const { issue, title } = found;
      const sample = sampleRecipient(this.drafts.site.config.baseUrl);
      // The email as a sandboxed document: whatever it holds, it runs no script and reads nothing of the preview.
      if (parts[2] === 'email.html') return send(res, 200, 'issue' in issue ? personalise(issue.email.html, sample) : '', HTML, { 'content-security-policy': EMAIL_CSP });
      if (parts[2] === 'email.txt') return send(res, 200, 'issue' in issue ? personalise(issue.email.text, sample) : '', TEXT);
      if (parts[2] === undefined) {
        const page = 'problems' in issue ? this.pages.unbuildable(title, issue.problems) : this.pages.viewer(key, title, this.drafts.withSlowChecks(key, issue), this.drafts.site.config.baseUrl);
        return send(res, 200, page, HTML);
      }
    }
    send(res, 404, this.pages.notFound(), HTML);
  }

  private events(req: IncomingMessage, res: ServerResponse): void {
    // Another site's page may not hold a stream open here (it learns when the drafts change, and uses a socket).
    const origin = checkSameOrigin(req.headers);
    if (!origin.ok) return send(res, 403, `Refused: ${origin.reason}.`, TEXT);
    if (req.method === 'HEAD') return send(res, 200, '', 'text/event-stream');
    if (this.clients.size >= MAX_CLIENTS) return send(res, 503, 'Too many open previews; close some tabs.', TEXT, { 'retry-after': '5' });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', ...SECURITY_HEADERS });
    res.write(': connected\n\n');
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  private async asset(res: ServerResponse, name: string): Promise<void> {
    const file = (await listTemplateFiles(this.o.root, 'assets')).find((f) => f.rel === `assets/${name}`);
    if (!file) return send(res, 404, 'Not found', 'text/plain');
    send(res, 200, await readFile(file.absolute), name.endsWith('.css') ? 'text/css; charset=utf-8' : name.endsWith('.js') ? 'text/javascript; charset=utf-8' : name.endsWith('.svg') ? 'image/svg+xml' : 'application/octet-stream');
  }

  private guide(res: ServerResponse, slug: string): void {
    const site = this.drafts.site;
    const page = workingCopyPage(site, this.o.clock(), slug, this.drafts.news);
    if (!page) return send(res, 404, this.pages.notFound({ guide: slug }), HTML);
    const guide = site.guides.find((g) => g.slug === slug)!;
    const latest = guide.versions.at(-1);
    const banner = this.pages.banner(guide, latest ? this.drafts.text(latest.file) : '', latest ? this.drafts.text(guide.file) : '');
    const html = this.drafts.siteTemplates.render(page.template, { ...page.data, page: { ...page.data.page, root: '/' } });
    send(res, 200, inject(html.replace('<main id="main" class="wrap">', `<main id="main" class="wrap">${banner}`)), HTML);
  }

  /** Mails a test copy, only when asked from the preview's own page and only to a known address. */
  private async sendTest(req: IncomingMessage, res: ServerResponse, key: string): Promise<void> {
    // Any page the editor visits could otherwise mail the issue, through the newsletter's account, to anyone.
    const origin = checkSameOrigin(req.headers);
    if (!origin.ok) return send(res, 403, `Refused: ${origin.reason}. Send tests from the preview's own page.`, TEXT);
    if (!this.o.mailer) return send(res, 503, 'SMTP_URL is not set: test copies cannot be sent.', TEXT);
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      return send(res, 413, 'The form is too large.', TEXT, { connection: 'close' });
    }
    const to = (new URLSearchParams(body).get('to') ?? '').trim();
    if (!isEmailAddress(to)) return send(res, 400, 'That address does not look right.', TEXT);
    if (this.drafts.problems) return send(res, 409, 'The content has problems: fix them first.', TEXT);
    if (!this.mayReceiveTests(to)) {
      return send(res, 403, `Test copies go only to the addresses in almanac.config.json (preview.testAddresses) and to active subscribers; ${to} is neither.`, TEXT);
    }
    const found = await this.drafts.issue(key);
    if (!found) return send(res, 404, `No issue "${key}".`, TEXT);
    const { issue, title } = found;
    if ('problems' in issue) return send(res, 409, 'This issue cannot be built now.', TEXT);
    const config = this.drafts.site.config;
    const sample = sampleRecipient(config.baseUrl);
    const raw = compileIssueMessage(config, { ...issue.issue, subject: `[Test] ${issue.issue.subject}` }, issue.email).render({
      email: to, name: '', messageId: `${issue.issue.id}.test.${Date.now()}@${new URL(config.baseUrl).hostname}`, unsubscribeUrl: sample.unsubscribe, unsubscribeMailto: `mailto:${addressOf(config.from)}?subject=unsubscribe`, tokens: sample,
    });
    // A test copy counts against the provider's quota like any other message.
    const until = this.o.takeQuota?.(config.sending.limits);
    if (until !== undefined) {
      return send(res, 429, `The sending quota (sending.limits) is used up until ${new Date(until).toISOString()}; try again then.`, TEXT, { 'retry-after': String(Math.max(1, Math.ceil((until - Date.now()) / 1000))) });
    }
    try {
      await this.o.mailer.send(raw, { from: addressOf(config.from), to });
      send(res, 200, `Sent a test copy of ${title} to ${to}.`, TEXT);
    } catch (err) {
      send(res, 502, `The SMTP server refused it: ${(err as Error).message}`, TEXT);
    }
  }

  private mayReceiveTests(to: string): boolean {
    const wanted = to.toLowerCase();
    if (this.drafts.site.config.preview.testAddresses.some((a) => a.toLowerCase() === wanted)) return true;
    return this.o.isSubscriber?.(to) ?? false;
  }
}


const HTML = 'text/html; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';
/**
 * No other site may frame the preview (a hidden "Send test" under a decoy), sniff its types or see
 * its URLs. Scripts only from the preview itself: a guide's Markdown may hold raw HTML (guides are
 * trusted on the site), but in a working copy under review an inline script or event handler would
 * run with the preview's powers, so none runs.
 */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src * data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'self'",
  'referrer-policy': 'same-origin',
} as const;
const EMAIL_CSP = "sandbox allow-popups allow-popups-to-escape-sandbox; script-src 'none'; frame-ancestors 'self'";

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

function inject(html: string): string {
  return html.replace('</body>', '<script src="/preview.js"></script></body>');
}
