// `almanac serve`: real HTTP requests to the real server on loopback, a real SMTP sink for the
// confirmation mail, a real SQLite file, and the "Stay current" form submitted in Chromium.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { signToken } from '../src/mail/signing.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { createApp } from '../src/server/app.ts';
import { smtpTransport } from '../src/mail/transport.ts';
import { startConfirmationWorker, type Worker } from '../src/server/confirm-worker.ts';
import { confirmationComposer, confirmKey } from '../src/server/confirmation-mail.ts';
import { ConfirmationQueue } from '../src/store/confirmations.ts';
import { loadConfig } from '../src/content/config.ts';
import { databasePath, openDatabase, type Db } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { NOW, PROJECT, almanac, tempSite, until } from './helpers/cli.ts';
import { almanac as inProcess } from './helpers/in-process.ts';
import { launchBrowser } from './helpers/browser.ts';
import { smtpSink, type SmtpSink } from './helpers/smtp.ts';

const SECRET = 'serve-secret-0123456789abcdef-6f1c9a2e';

describe('almanac serve', () => {
  let root: string;
  let base: string;
  let server: http.Server;
  let sink: SmtpSink;
  let db: Db;
  let store: SqliteSubscribers;
  let worker: Worker;
  let mailer: ReturnType<typeof smtpTransport>;
  let clock = Date.parse('2026-06-20T09:00:00Z');

  before(async () => {
    root = await tempSite({ sample: true });
    await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
    assert.equal((await inProcess(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', NOW])).code, 0);
    sink = await smtpSink();
    db = openDatabase(databasePath(root));
    store = new SqliteSubscribers(db);
    const { config } = await loadConfig(root);
    const queue = new ConfirmationQueue(db);
    worker = startConfirmationWorker({
      queue,
      transport: (mailer = smtpTransport({ url: sink.url, concurrency: 1, ratePerSecond: 0 })),
      compose: confirmationComposer({ config, secret: SECRET, subscribers: store }),
      clock: () => clock,
      log: () => {},
      idleMs: 50,
    });
    server = http.createServer(
      createApp({
        distDir: path.join(root, 'dist'),
        config,
        subscribers: store,
        secret: SECRET,
        templates: await TemplateSet.load(root, 'site'),
        confirmations: { queue, wake: () => worker.wake() },
        clock: () => clock,
        log: () => {},
        subscribeLimit: { max: 5, windowMs: 60_000 },
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await worker.stop();
    mailer.close();
    await sink.close();
    db.close();
  });

  const post = (pathname: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${pathname}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

  it('lets the search page run its script and Pagefind from the site itself, and nothing from elsewhere', async () => {
    const page = await fetch(`${base}/search/?q=llama`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    // The page's only executable script is the site's own file; JSON-LD blocks are data.
    assert.deepEqual(scripts.filter((attrs) => !/type="application\/ld\+json"/.test(attrs)), [' src="../assets/search.js" defer']);
    const csp = Object.fromEntries(page.headers.get('content-security-policy')!.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }));
    assert.deepEqual(csp['script-src'], ["'self'", "'wasm-unsafe-eval'"]);
    assert.deepEqual(csp['default-src'], ["'self'"]);
    // Pagefind fetches its index and starts a worker: those fall back to default-src, the site only.
    for (const name of ['connect-src', 'worker-src', 'script-src-elem', 'child-src']) assert.equal(csp[name], undefined, name);
    assert.deepEqual(csp['object-src'], ["'none'"]);
    assert.deepEqual(csp['base-uri'], ["'none'"]);
    for (const file of ['/assets/search.js', '/pagefind/words/pagefind.js', '/pagefind/words/pagefind-worker.js']) {
      const res = await fetch(`${base}${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8', file);
      await res.arrayBuffer();
    }
    // The list of the index's shards, which the search page reads before searching them.
    const shards = await fetch(`${base}/pagefind/shards.json`);
    assert.equal(shards.status, 200);
    const manifest = (await shards.json()) as { words: string; shards: string[] };
    assert.equal(manifest.words, 'words/');
    assert.equal(manifest.shards[0], 'guides/');
  });

  it('runs search in Chromium under that policy: results, and no violation reported', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      await page.exposeFunction('reportViolation', (v: string) => problems.push(`csp: ${v}`));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto(`${base}/search/index.html?q=fireworks`, { waitUntil: 'load' });
      await page.locator('#search-status').filter({ hasText: /result/ }).waitFor({ timeout: 15_000 });
      assert.match((await page.locator('#search-results a').first().getAttribute('href'))!, /\/guides\/llama-4\/index\.html$/);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });

  it('serves dist/ with content types, validators, HEAD, security headers and a real 404', async () => {
    const page = await fetch(`${base}/guides/meta/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    const html = await page.text();
    assert.match(html, /<h1 id="guide-title">Meta AI/);
    // Built without subscribeUrl, the page says how to subscribe by mail; served here, it has the form instead.
    assert.match(html, /<form class="subscribe-form" method="post" action="\.\.\/\.\.\/subscribe">/);
    assert.doesNotMatch(html, /subscribe-how|<template/);
    const etag = page.headers.get('etag')!;
    assert.equal((await fetch(`${base}/guides/meta/`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${base}/guides/meta/`, { headers: { 'if-modified-since': page.headers.get('last-modified')! } })).status, 304);
    const head = await fetch(`${base}/assets/style.css`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(head.headers.get('cache-control'), 'public, max-age=3600');
    assert.equal(await head.text(), '');
    assert.equal((await fetch(`${base}/feeds/guides.atom`)).headers.get('content-type'), 'application/atom+xml; charset=utf-8');
    const redirect = await fetch(`${base}/guides/meta`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/guides/meta/');
    const missing = await fetch(`${base}/no/such/page`);
    assert.equal(missing.status, 404);
    const missingHtml = await missing.text();
    assert.match(missingHtml, /This page does not exist/);
    // Its styles are inline (so that it is styled at any path and from disk): allowed by their hash alone.
    const style = /<style>([\s\S]*?)<\/style>/.exec(missingHtml)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    assert.match(missing.headers.get('content-security-policy')!, new RegExp(`style-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}';`));
    assert.doesNotMatch(missing.headers.get('content-security-policy')!, /unsafe-inline/);
    assert.doesNotMatch(page.headers.get('content-security-policy')!, /sha256/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/guides/meta/`, { method: 'DELETE' })).status, 405);
  });

  it('no path outside dist/ is reachable, however it is encoded', async () => {
    for (const attempt of ['/../almanac.config.json', '/%2e%2e/almanac.config.json', '/..%2falmanac.config.json', '/%2e%2e%2f%2e%2e%2fetc/passwd', '/guides/..%5c..%5calmanac.config.json', '/%252e%252e/almanac.config.json', '/assets/%00../../almanac.config.json', '/..%252f..%252fetc/passwd']) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        // Raw request: fetch would normalise the path before sending it.
        http.get({ host: '127.0.0.1', port: new URL(base).port, path: attempt }, (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        }).on('error', reject);
      });
      assert.ok([400, 404].includes(res.status), `${attempt}: ${res.status}`);
      assert.doesNotMatch(res.body, /baseUrl|root:x:0:0/, attempt);
    }
  });

  it('double opt-in: subscribe, the confirmation mail, confirm; the same answer for a known address', async () => {
    const before = sink.messages.length;
    const res = await post('/subscribe', 'email=Reader%40Example.com&editions=sunday');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /Check your inbox/);
    assert.equal(store.find('reader@example.com')!.status, 'pending');
    await until(() => sink.messages.length > before);
    const mail = await simpleParser(sink.messages.at(-1)!.raw);
    assert.equal(mail.subject, 'Confirm your subscription to Call Me Almanac');
    const link = /https:\/\/almanac\.example\.org(\/confirm\?token=\S+)/.exec(mail.text!)![1]!;
    // Opening the link (what a mail scanner does too) shows one button; only its POST confirms.
    const opened = await fetch(`${base}${link}`);
    assert.equal(opened.status, 200);
    const form = /<form [^>]*method="post" action="([^"]+)"/.exec(await opened.text());
    assert.ok(form, 'the page has a form');
    assert.equal(store.find('reader@example.com')!.status, 'pending', 'opening the link confirms nothing');
    const confirmed = await fetch(`${base}${form[1]!.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&')}`, { method: 'POST' });
    assert.equal(confirmed.status, 200);
    assert.match(await confirmed.text(), /You are in/);
    const s = store.find('reader@example.com')!;
    assert.equal(s.status, 'active');
    assert.deepEqual(s.editions, ['sunday']);

    const again = await post('/subscribe', 'email=reader%40example.com', { accept: 'application/json' });
    const fresh = await post('/subscribe', 'email=someone.new%40example.com', { accept: 'application/json' });
    assert.equal(again.status, 200);
    assert.deepEqual(Object.keys(await again.json()), Object.keys(await fresh.json()));
    assert.equal(store.find('reader@example.com')!.status, 'active', 'a known address is left as it is');
    const bad = await post('/subscribe', 'email=not-an-address');
    assert.equal(bad.status, 400);
  });

  it('one-click unsubscribe with the exact RFC 8058 request a mail program makes from a received issue', async () => {
    store.upsert({ email: 'oneclick@example.com', status: 'active' }, clock);
    const mail = sink.messages.length;
    const send = await almanac(['issue', 'send', '2026-04-15-midweek', '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET } });
    assert.equal(send.code, 0, send.stderr);
    const received = sink.messages.slice(mail).find((m) => m.to === 'oneclick@example.com')!;
    const headers = received.raw.toString('latin1');
    const url = /^List-Unsubscribe: <(https:[^>]+)>/m.exec(headers)![1]!;
    const postBody = /^List-Unsubscribe-Post: (.+)\r$/m.exec(headers)![1]!;
    const target = new URL(url);
    const res = await post(`${target.pathname}${target.search}`, postBody);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Unsubscribed.\n');
    assert.equal(store.find('oneclick@example.com')!.status, 'unsubscribed');
    // The link in the body opens a page with one button.
    const pageRes = await fetch(`${base}${target.pathname}${target.search}`);
    assert.match(await pageRes.text(), /<button type="submit">Unsubscribe<\/button>/);
  });

  it('tampered, expired and cross-purpose tokens get a 4xx and change nothing', async () => {
    const { subscriber } = store.upsert({ email: 'tokens@example.com', status: 'active' }, clock);
    const unsub = signToken(SECRET, { subscriber: subscriber.id, key: subscriber.unsubscribeKey, purpose: 'unsubscribe', expires: 0 });
    const tampered = `${unsub.slice(0, -2)}${unsub.endsWith('AA') ? 'BB' : 'AA'}`;
    const otherSubscriber = unsub.replace(/^u\.[0-9a-z]+\./, `u.${(subscriber.id + 1).toString(36)}.`);
    const prefs = signToken(SECRET, { subscriber: subscriber.id, key: subscriber.tokenKey, purpose: 'preferences', expires: 0 });
    const foreign = signToken('a-different-secret-0123456789', { subscriber: subscriber.id, key: subscriber.unsubscribeKey, purpose: 'unsubscribe', expires: 0 });
    for (const token of [tampered, otherSubscriber, prefs, foreign, '', 'garbage']) {
      const res = await post(`/unsubscribe?token=${encodeURIComponent(token)}`, 'List-Unsubscribe=One-Click');
      assert.equal(res.status, 400, token);
    }
    assert.equal(store.find('tokens@example.com')!.status, 'active');
    // An expired confirmation, signed as the mail signs it, on a sign-up it could still activate.
    const { subscriber: waiting, nonce } = store.signUp('waiting@example.com', ['midweek', 'sunday'], clock)!;
    const key = confirmKey(waiting.tokenKey, nonce);
    const expired = signToken(SECRET, { subscriber: waiting.id, key, purpose: 'confirm', expires: clock - 1000 });
    assert.equal((await fetch(`${base}/confirm?token=${expired}`)).status, 400);
    assert.equal((await fetch(`${base}/confirm?token=${expired}`, { method: 'POST' })).status, 400);
    const unsubscribe = signToken(SECRET, { subscriber: waiting.id, key: waiting.unsubscribeKey, purpose: 'unsubscribe', expires: 0 });
    assert.equal((await fetch(`${base}/confirm?token=${unsubscribe}`, { method: 'POST' })).status, 400, 'an unsubscribe token does not confirm');
    assert.equal(store.find('waiting@example.com')!.status, 'pending');
    // The same link before its time is up does confirm: the refusal above was the expiry's.
    const current = signToken(SECRET, { subscriber: waiting.id, key, purpose: 'confirm', expires: clock + 1000 });
    assert.equal((await fetch(`${base}/confirm?token=${current}`, { method: 'POST' })).status, 200);
    assert.equal(store.find('waiting@example.com')!.status, 'active');
  });

  it('preferences: choose one edition, or none (which unsubscribes)', async () => {
    const { subscriber } = store.upsert({ email: 'prefs@example.com', status: 'active' }, clock);
    const token = signToken(SECRET, { subscriber: subscriber.id, key: subscriber.tokenKey, purpose: 'preferences', expires: 0 });
    const page = await (await fetch(`${base}/preferences?token=${token}`)).text();
    assert.match(page, /name="editions" value="midweek" checked/);
    const saved = await post(`/preferences?token=${token}`, 'editions=midweek');
    assert.match(await saved.text(), /You receive Midweek\./);
    assert.deepEqual(store.find('prefs@example.com')!.editions, ['midweek']);
    await post(`/preferences?token=${token}`, '');
    assert.equal(store.find('prefs@example.com')!.status, 'unsubscribed');
  });

  it('limits subscribe requests per address', async () => {
    clock += 3600_000; // a fresh window
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await post('/subscribe', `email=limit${i}%40example.com`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    const limited = await post('/subscribe', 'email=x%40example.com');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    clock += 61_000;
    assert.equal((await post('/subscribe', 'email=after%40example.com')).status, 200);
  });

  it('the "Stay current" form on a guide page, filled and submitted in Chromium', async () => {
    clock += 3600_000;
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/guides/meta/`);
      await page.fill('#subscribe-email', 'browser@example.com');
      await page.uncheck('input[name=editions][value=midweek]');
      await Promise.all([page.waitForNavigation(), page.click('.stay-current button[type=submit]')]);
      assert.match(await page.textContent('h1') ?? '', /Check your inbox/);
      const s = store.find('browser@example.com')!;
      assert.equal(s.status, 'pending');
      assert.deepEqual(s.editions, ['sunday']);
    } finally {
      await browser.close();
    }
  });
});


describe('the serve command', () => {
  it('starts, answers, logs each request without tokens, and stops on SIGTERM; refuses without a build or a secret', async () => {
    const root = await tempSite({ sample: true });
    const noBuild = await almanac(['serve', '--root', root], { env: { ALMANAC_SECRET: SECRET } });
    assert.equal(noBuild.code, 1);
    assert.match(noBuild.stderr, /^dist\/index\.html: expected a built site \(run "almanac build" first\), found none$/m);
    assert.equal((await inProcess(['build', '--root', root])).code, 0);
    const noSecret = await almanac(['serve', '--root', root], { env: { ALMANAC_SECRET: '' } });
    assert.equal(noSecret.code, 1);
    assert.match(noSecret.stderr, /ALMANAC_SECRET: expected a random secret/);

    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./helpers/cli.ts');
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--root', root], { env: { ...process.env, ALMANAC_SECRET: SECRET, SMTP_URL: '' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 15_000;
      while (!/at http:\/\/127\.0\.0\.1:(\d+)\/\n/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const port = /at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)![1];
      assert.match(out, /SMTP_URL is not set: subscribing answers 503/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/unsubscribe?token=u.1.0.secretlooking`)).status, 400);
      assert.equal((await fetch(`http://127.0.0.1:${port}/subscribe`, { method: 'POST', body: 'email=a%40example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 503);
      await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /127\.0\.0\.1 GET \/healthz 200 /);
      assert.match(out, /GET \/unsubscribe 400 /);
      assert.doesNotMatch(out, /secretlooking/, 'tokens are not logged');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });
});

