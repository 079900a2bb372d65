// The editor's preview: guides' working copies as they will publish (with what changed since the
// latest version), the next Midweek and Sunday as they would be built now, past issues, and a viewer
// for each issue. Files are watched; a saved guide reloads only that guide; open pages update
// themselves over server-sent events, and a content or template error shows as an overlay.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { buildCatalog, indexNews, type NewsIndex } from '../compose/catalog.ts';
import { EDITIONS, isEdition, localDate, nextSlot, type Edition } from '../compose/slots.ts';
import { loadGuide } from '../content/guide-files.ts';
import { GUIDES_DIR, WORKING_COPY } from '../content/paths.ts';
import { loadSite } from '../content/load.ts';
import type { Site } from '../content/model.ts';
import { ContentError, ProblemError, formatProblem, type Problem } from '../content/problems.ts';
import { differsFromLatest } from '../content/publish.ts';
import { readText } from '../content/text.ts';
import { checkIssueEmail, issueId, prepareIssue, type PreparedIssue } from '../issue/prepare.ts';
import { personalise, sampleRecipient } from '../render/tokens.ts';
import { compileIssueMessage, addressOf } from '../mail/message.ts';
import type { Transport } from '../mail/send.ts';
import { TemplateSet, listTemplateFiles } from '../render/templates.ts';
import { readBody } from './guard.ts';
import { escapeHtml } from './http.ts';
import { LOOPBACK_NAMES, checkHost, checkSameOrigin } from './origin.ts';
import { isEmailAddress } from '../content/address.ts';
import { workingCopyPage } from '../site/guide-pages.ts';
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
    if (url.pathname === '/preview.js') return send(res, 200, CLIENT, 'text/javascript; charset=utf-8');
    if (parts[0] === 'assets' && parts.length === 2) return this.asset(res, parts[1]!);
    if (this.state.problems) return send(res, 200, this.shell('Problems', overlay(this.state.problems)), HTML);
    if (url.pathname === '/') return send(res, 200, this.index(), HTML);
    if (parts[0] === 'guides' && parts.length === 2) return this.guide(res, parts[1]!);
    if (parts[0] === 'issues' && parts.length >= 2 && parts.length <= 3) {
      const key = parts[1]!;
      const found = await this.issue(key);
      if (!found) return send(res, 404, this.shell('Not found', `<p>No issue "${escapeHtml(key)}". <a href="/">Back</a></p>`), HTML);
      const { issue, title } = found;
      const sample = sampleRecipient(this.state.site!.config.baseUrl);
      // The email as a sandboxed document: whatever it holds, it runs no script and reads nothing of the preview.
      if (parts[2] === 'email.html') return send(res, 200, 'issue' in issue ? personalise(issue.email.html, sample) : '', HTML, { 'content-security-policy': EMAIL_CSP });
      if (parts[2] === 'email.txt') return send(res, 200, 'issue' in issue ? personalise(issue.email.text, sample) : '', TEXT);
      if (parts[2] === undefined) return send(res, 200, this.viewer(key, title, issue), HTML);
    }
    send(res, 404, this.shell('Not found', '<p>Nothing here. <a href="/">Back to the preview</a>.</p>'), HTML);
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

  private index(): string {
    const site = this.state.site!;
    const guides = site.guides
      .map((g) => {
        const latest = g.versions.at(-1);
        const status = !latest ? 'not published yet' : differsFromLatest(g) ? `changes since v${latest.version}` : `v${latest.version}, no changes`;
        return `<li><a href="/guides/${escapeHtml(g.slug)}/">${escapeHtml(g.working.front.title)}</a> <span class="meta">${status}</span></li>`;
      })
      .join('');
    const next = EDITIONS.map((e) => `<li><a href="/issues/${e}">Next ${escapeHtml(site.config.editions[e].label)}</a></li>`).join('');
    const past = new IssueStore(this.o.root)
      .list()
      .map((i) => `<li><a href="/issues/${escapeHtml(i.issue.id)}">${escapeHtml(i.issue.editionLabel)} #${i.issue.number}</a>: ${escapeHtml(i.issue.subject)}</li>`)
      .join('');
    return this.shell(
      'Preview',
      `<h1>${escapeHtml(site.config.title)}: preview</h1><h2>Guides (working copies)</h2><ul class="plain">${guides}</ul><h2>Next issues, as they would be built now</h2><ul class="plain">${next}</ul><h2>Past issues</h2><ul class="plain">${past || '<li class="meta">none yet</li>'}</ul>`,
    );
  }

  private guide(res: ServerResponse, slug: string): void {
    const site = this.state.site!;
    const page = workingCopyPage(site, this.o.clock(), slug, this.state.news);
    if (!page) return send(res, 404, this.shell('Not found', `<p>No guide "${escapeHtml(slug)}".</p>`), HTML);
    const guide = site.guides.find((g) => g.slug === slug)!;
    const latest = guide.versions.at(-1);
    const patch = latest
      ? createTwoFilesPatch(`v${latest.version}`, 'working copy', this.text(latest.file), this.text(guide.file), '', '', { context: 2 })
      : '';
    const banner =
      `<aside id="almanac-preview-banner" class="notice"><p><strong>Preview</strong> of <code>${escapeHtml(guide.file)}</code> as it will publish` +
      `${latest ? ` as v${latest.version + 1}` : ' as v1'}. <a href="/">All previews</a></p>` +
      (latest ? `<details${patch.split('\n').length > 5 ? ' open' : ''}><summary>Changes since v${latest.version}</summary><pre class="diff">${escapeHtml(patch)}</pre></details>` : '') +
      '</aside>';
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
      const problems = err instanceof ProblemError ? (err.problems as Problem[]) : [{ file: `issue ${id}`, expected: 'an issue that builds', found: (err as Error).message }];
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

  private viewer(key: string, title: string, issue: PreparedIssue | { problems: Problem[] }): string {
    if ('problems' in issue) {
      return this.shell(title, `<h1>${escapeHtml(title)}</h1><p>This issue cannot be built now:</p><ul class="plain">${issue.problems.map((p) => `<li><code>${escapeHtml(formatProblem(p))}</code></li>`).join('')}</ul><p><a href="/">Back</a></p>`);
    }
    const { issue: meta, findings, email } = issue;
    const bytes = Buffer.byteLength(email.html);
    const checks = findings.length
      ? findings.map((f) => `<li class="${f.severity}">${f.severity}: ${escapeHtml(f.check)}: expected ${escapeHtml(f.expected)}, found ${escapeHtml(f.found)}</li>`).join('')
      : '<li class="ok">Every check passes.</li>';
    return this.shell(
      title,
      `<h1>${escapeHtml(title)} · #${meta.number} · ${escapeHtml(meta.date)}</h1>
<dl class="facts"><dt>Subject</dt><dd id="subject">${escapeHtml(meta.subject)}</dd><dt>Preheader</dt><dd id="preheader">${escapeHtml(meta.preheader)}</dd><dt>HTML size</dt><dd id="size">${bytes.toLocaleString('en-US')} bytes of 102,000 (Gmail clips beyond)</dd></dl>
<div class="toolbar" role="toolbar" aria-label="View">
  <button type="button" data-width="600" aria-pressed="true">Desktop 600 px</button>
  <button type="button" data-width="375" aria-pressed="false">Mobile 375 px</button>
  <button type="button" data-scheme="toggle" aria-pressed="false">Dark</button>
  <button type="button" data-tab="html" aria-pressed="true">Email</button>
  <button type="button" data-tab="text" aria-pressed="false">Plain text</button>
  <button type="button" data-tab="source" aria-pressed="false">HTML source</button>
</div>
<iframe id="email" title="The email" src="/issues/${escapeHtml(key)}/email.html" style="width:600px;height:900px;border:1px solid var(--rule);background:#fff;max-width:100%"></iframe>
<pre id="text" hidden>${escapeHtml(personalise(email.text, sampleRecipient(this.state.site!.config.baseUrl)))}</pre>
<pre id="source" hidden>${escapeHtml(email.html)}</pre>
<h2>Checks</h2><ul id="checks" class="plain">${checks}</ul>
<h2>Send a test</h2>
<form id="send-test" method="post" action="/issues/${escapeHtml(key)}/send-test"><label for="to">Address</label> <input id="to" name="to" type="email" required> <button type="submit">Send test</button> <output id="send-result"></output></form>`,
    );
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

  private shell(title: string, body: string): string {
    return inject(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Almanac preview</title><link rel="stylesheet" href="/assets/style.css"><style>${PREVIEW_CSS}</style></head><body><main id="main" class="wrap">${body}</main></body></html>`);
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

function overlay(problems: Problem[]): string {
  return `<div id="almanac-overlay" role="alert"><h1>Fix this to see the preview</h1><ul>${problems.map((p) => `<li><code>${escapeHtml(formatProblem(p))}</code></li>`).join('')}</ul><p>The page updates by itself when the file is saved.</p></div>`;
}

const PREVIEW_CSS = `
#almanac-overlay{border:3px solid #b3261e;border-radius:12px;padding:1rem 1.5rem;background:#fff5f4;color:#410e0b;margin:2rem 0}
#almanac-overlay code{white-space:pre-wrap;word-break:break-word}
.plain{list-style:none;padding:0}.plain li{padding:.3rem 0;border-bottom:1px solid var(--rule)}
.toolbar{display:flex;flex-wrap:wrap;gap:.4rem;margin:1rem 0}.toolbar button{min-height:2.5rem;padding:.3rem .8rem;border:1px solid var(--rule);border-radius:8px;background:var(--surface);color:var(--ink);cursor:pointer}
.toolbar button[aria-pressed=true]{background:var(--ink);color:var(--paper)}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}.facts dt{font-weight:700}
pre{white-space:pre-wrap;word-break:break-word}
.error{color:#b3261e}.warning{color:#8a5a00}.ok{color:#1b6e2e}
`;

/** Live reload: on a change, fetch this page again and swap its body in place, keeping the scroll. */
const CLIENT = `(() => {
  const refresh = async () => {
    const html = await (await fetch(location.href, { cache: 'no-store' })).text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    // Where the reader is now, not when the change was announced: they may have scrolled meanwhile.
    const y = window.scrollY;
    document.title = doc.title;
    document.body.replaceWith(doc.body);
    bind();
    window.scrollTo(0, y);
    document.documentElement.dataset.previewVersion = String(Number(document.documentElement.dataset.previewVersion || 0) + 1);
  };
  const source = new EventSource('/events');
  source.addEventListener('change', () => { refresh().catch(() => {}); });
  function bind() {
    const frame = document.getElementById('email');
    for (const b of document.querySelectorAll('[data-width]')) b.onclick = () => {
      frame.style.width = b.dataset.width + 'px';
      for (const o of document.querySelectorAll('[data-width]')) o.setAttribute('aria-pressed', String(o === b));
    };
    for (const b of document.querySelectorAll('[data-scheme]')) b.onclick = () => {
      const dark = b.getAttribute('aria-pressed') !== 'true';
      b.setAttribute('aria-pressed', String(dark));
      frame.style.colorScheme = dark ? 'dark' : 'light';
    };
    for (const b of document.querySelectorAll('[data-tab]')) b.onclick = () => {
      for (const o of document.querySelectorAll('[data-tab]')) o.setAttribute('aria-pressed', String(o === b));
      frame.hidden = b.dataset.tab !== 'html';
      document.getElementById('text').hidden = b.dataset.tab !== 'text';
      document.getElementById('source').hidden = b.dataset.tab !== 'source';
    };
    const form = document.getElementById('send-test');
    if (form) form.onsubmit = async (e) => {
      e.preventDefault();
      const res = await fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) });
      document.getElementById('send-result').textContent = await res.text();
    };
  }
  bind();
})();
`;
