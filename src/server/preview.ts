// The editor's preview: guides' working copies as they will publish (with what changed since the
// latest version), the next Midweek and Sunday as they would be built now, past issues, and a viewer
// for each issue. Files are watched; a saved guide reloads only that guide; open pages update
// themselves over server-sent events, and a content or template error shows as an overlay.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { buildCatalog, indexNews, type NewsIndex } from '../compose/catalog.ts';
import { isEdition, localDate, nextSlot, type Edition } from '../compose/slots.ts';
import { loadGuide } from '../content/guide-files.ts';
import { GUIDES_DIR, WORKING_COPY } from '../content/guides.ts';
import { loadSite } from '../content/load.ts';
import type { Site } from '../content/model.ts';
import { ContentError, type Problem } from '../content/problems.ts';
import { readText } from '../content/text.ts';
import { checkIssueEmail, issueId, prepareIssue, type PreparedIssue } from '../mail/issue.ts';
import { personalise, sampleRecipient } from '../render/tokens.ts';
import { compileIssueMessage, addressOf } from '../mail/message.ts';
import type { Transport } from '../mail/send.ts';
import { TemplateSet, listTemplateFiles } from '../render/templates.ts';
import { readBody } from './guard.ts';
import { LOOPBACK_NAMES, checkHost, checkSameOrigin } from './origin.ts';
import { PreviewPages } from './preview-pages.ts';
import { isEmailAddress } from '../content/address.ts';
import { workingCopyPage } from '../site/pages.ts';
import { IssueStore } from '../store/issues.ts';

export interface PreviewOptions {
  root: string;
  clock: () => number;
  log: (line: string) => void;
  mailer?: Transport;
  /** Names the preview answers to besides the loopback ones (`--host-name`). */
  hostNames?: readonly string[];
  /** Whether `email` is an active subscriber: test copies may go there too. */
  isSubscriber?: (email: string) => boolean;
}

/** Open live-reload streams at most; each is a socket held open. */
const MAX_CLIENTS = 64;

interface State {
  site?: Site;
  /** The site's stories by topic, kept while only guides change (grouping 10,000 items is the slow part). */
  news?: NewsIndex;
  siteTemplates?: TemplateSet;
  emailTemplates?: TemplateSet;
  problems?: Problem[];
  issues: Partial<Record<Edition, PreparedIssue | Problem[]>>;
}

export class Preview {
  private state: State = { issues: {} };
  private readonly clients = new Set<ServerResponse>();
  /** How long the last reload took, in ms (shown in the log, measured by the benchmark). */
  lastReloadMs = 0;

  private readonly hosts: ReadonlySet<string>;
  private readonly pages = PreviewPages.load();

  constructor(private readonly o: PreviewOptions) {
    this.hosts = new Set([...LOOPBACK_NAMES, ...(o.hostNames ?? []).map((n) => n.toLowerCase())]);
  }

  /** Reloads what `changed` touches: one guide when a working copy was saved, everything otherwise. */
  async reload(changed?: string): Promise<void> {
    const started = performance.now();
    const rel = changed ? path.relative(this.o.root, changed).split(path.sep).join('/') : undefined;
    const guideMatch = rel && new RegExp(`^${GUIDES_DIR}/([^/]+)/${WORKING_COPY}$`).exec(rel);
    try {
      if (guideMatch && this.state.site && !this.state.problems) {
        const { guide, problems } = loadGuide(this.o.root, guideMatch[1]!);
        if (!guide) throw new ContentError(problems);
        const site = this.state.site;
        this.state.site = { ...site, guides: site.guides.map((g) => (g.slug === guide.slug ? guide : g)) };
      } else {
        const [site, siteTemplates, emailTemplates] = await Promise.all([
          loadSite(this.o.root),
          TemplateSet.load(this.o.root, 'site'),
          TemplateSet.load(this.o.root, 'email'),
        ]);
        this.state = { site, news: indexNews(site), siteTemplates, emailTemplates, issues: {} };
      }
      this.state.problems = undefined;
      this.state.issues = {};
    } catch (err) {
      if (!(err instanceof ContentError)) throw err;
      this.state.problems = err.problems as Problem[];
    }
    this.lastReloadMs = performance.now() - started;
    this.broadcast();
    this.o.log(`${rel ?? 'everything'} reloaded in ${this.lastReloadMs.toFixed(0)} ms${this.state.problems ? ` with ${this.state.problems.length} problem(s)` : ''}`);
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
    if (this.state.problems) return send(res, 200, this.pages.problems(this.state.problems), HTML);
    if (url.pathname === '/') return send(res, 200, this.pages.index(this.state.site!, new IssueStore(this.o.root).list()), HTML);
    if (parts[0] === 'guides' && parts.length === 2) return this.guide(res, parts[1]!);
    if (parts[0] === 'issues' && parts.length >= 2 && parts.length <= 3) {
      const key = parts[1]!;
      const found = await this.issue(key);
      if (!found) return send(res, 404, this.pages.notFound({ issue: key }), HTML);
      const { issue, title } = found;
      const sample = sampleRecipient(this.state.site!.config.baseUrl);
      // The email as a sandboxed document: whatever it holds, it runs no script and reads nothing of the preview.
      if (parts[2] === 'email.html') return send(res, 200, 'issue' in issue ? personalise(issue.email.html, sample) : '', HTML, { 'content-security-policy': EMAIL_CSP });
      if (parts[2] === 'email.txt') return send(res, 200, 'issue' in issue ? personalise(issue.email.text, sample) : '', TEXT);
      if (parts[2] === undefined) {
        const page = 'problems' in issue ? this.pages.unbuildable(title, issue.problems) : this.pages.viewer(key, title, issue, this.state.site!.config.baseUrl);
        return send(res, 200, page, HTML);
      }
    }
    send(res, 404, this.pages.notFound(), HTML);
  }

  /** The next issue of an edition, or a past one by id, with the title the viewer shows. */
  private async issue(key: string): Promise<{ issue: PreparedIssue | { problems: Problem[] }; title: string } | undefined> {
    if (isEdition(key)) return { issue: await this.nextIssue(key), title: `Next ${this.state.site!.config.editions[key].label}` };
    const past = await this.pastIssue(key);
    return past && { issue: past, title: `${past.issue.editionLabel} #${past.issue.number}, as built` };
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
    send(res, 200, await readFile(file.absolute), name.endsWith('.css') ? 'text/css; charset=utf-8' : name.endsWith('.svg') ? 'image/svg+xml' : 'application/octet-stream');
  }

  private guide(res: ServerResponse, slug: string): void {
    const site = this.state.site!;
    const page = workingCopyPage(site, this.o.clock(), slug, this.state.news);
    if (!page) return send(res, 404, this.pages.notFound({ guide: slug }), HTML);
    const guide = site.guides.find((g) => g.slug === slug)!;
    const latest = guide.versions.at(-1);
    const banner = this.pages.banner(guide, latest ? this.text(latest.file) : '', latest ? this.text(guide.file) : '');
    const html = this.state.siteTemplates!.render(page.template, { ...page.data, page: { ...page.data.page, root: '/' } });
    send(res, 200, inject(html.replace('<main id="main" class="wrap">', `<main id="main" class="wrap">${banner}`)), HTML);
  }

  /** A file below the root as it is now; empty if it is gone (the watcher reloads the guide right after). */
  private text(file: string): string {
    try {
      // Decoded as the loader decodes it, so that a byte order mark is no difference.
      return readText(path.join(this.o.root, file), file)?.text ?? '';
    } catch {
      return '';
    }
  }

  private async nextIssue(edition: Edition): Promise<PreparedIssue | { problems: Problem[] }> {
    const cached = this.state.issues[edition];
    if (cached) return Array.isArray(cached) ? { problems: cached } : cached;
    const site = this.state.site!;
    const date = localDate(site.config, nextSlot(site.config, edition, this.o.clock() - 1));
    const id = issueId(edition, date);
    try {
      const prepared = await prepareIssue({ site, catalog: buildCatalog(site), templates: this.state.emailTemplates!, edition, date, number: new IssueStore(this.o.root).numberFor(id), now: this.o.clock() });
      this.state.issues[edition] = prepared;
      return prepared;
    } catch (err) {
      const problems = err instanceof ContentError ? (err.problems as Problem[]) : [{ file: `issue ${id}`, expected: 'an issue that builds', found: (err as Error).message }];
      this.state.issues[edition] = problems;
      return { problems };
    }
  }

  /** A built issue from the store, checked as it was stored. */
  private async pastIssue(id: string): Promise<PreparedIssue | undefined> {
    const stored = new IssueStore(this.o.root).get(id);
    if (!stored) return undefined;
    const { findings, sampleMime } = await checkIssueEmail(this.state.site!.config, stored.issue, stored);
    return { issue: stored.issue, email: { html: stored.html, text: stored.text, mjml: '' }, findings, sampleMime };
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
    if (this.state.problems) return send(res, 409, 'The content has problems: fix them first.', TEXT);
    if (!this.mayReceiveTests(to)) {
      return send(res, 403, `Test copies go only to the addresses in almanac.config.json (preview.testAddresses) and to active subscribers; ${to} is neither.`, TEXT);
    }
    const found = await this.issue(key);
    if (!found) return send(res, 404, `No issue "${key}".`, TEXT);
    const { issue, title } = found;
    if ('problems' in issue) return send(res, 409, 'This issue cannot be built now.', TEXT);
    const config = this.state.site!.config;
    const sample = sampleRecipient(config.baseUrl);
    const raw = compileIssueMessage(config, { ...issue.issue, subject: `[Test] ${issue.issue.subject}` }, issue.email).render({
      email: to, name: '', messageId: `${issue.issue.id}.test.${Date.now()}@${new URL(config.baseUrl).hostname}`, unsubscribeUrl: sample.unsubscribe, unsubscribeMailto: `mailto:${addressOf(config.from)}?subject=unsubscribe`, tokens: sample,
    });
    try {
      await this.o.mailer.send(raw, { from: addressOf(config.from), to });
      send(res, 200, `Sent a test copy of ${title} to ${to}.`, TEXT);
    } catch (err) {
      send(res, 502, `The SMTP server refused it: ${(err as Error).message}`, TEXT);
    }
  }

  private mayReceiveTests(to: string): boolean {
    const wanted = to.toLowerCase();
    if (this.state.site!.config.preview.testAddresses.some((a) => a.toLowerCase() === wanted)) return true;
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
