// The editor's preview in real Chromium: a saved guide shows up without a reload, broken front
// matter becomes an overlay naming the file and field and goes away when fixed, the issue viewer's
// toggles work, and "send test" delivers to a real SMTP server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { simpleParser } from 'mailparser';
import { BIN, PROJECT, tempSite } from './helpers/cli.ts';
import { almanac as inProcess } from './helpers/in-process.ts';
import { launchBrowser } from './helpers/browser.ts';
import { smtpSink, type SmtpSink } from './helpers/smtp.ts';

describe('almanac preview', () => {
  let root: string;
  let base: string;
  let browser: Browser;
  let sink: SmtpSink;
  let child: ReturnType<typeof spawn>;
  let out = '';

  before(async () => {
    root = await tempSite({ sample: true });
    // The project's config, with the address the test copy goes to (the preview mails no other).
    const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ ...config, preview: { testAddresses: ['editor@example.com'] } }));
    // A past issue, built before the preview starts (it takes number 1; the next Midweek is #2).
    const built = await inProcess(['issue', 'build', 'sunday', '--date', '2026-04-12', '--root', root, '--now', '2026-04-12T07:00:00Z']);
    assert.equal(built.code, 0, built.stderr);
    sink = await smtpSink();
    child = spawn(process.execPath, [BIN, 'preview', '--port', '0', '--root', root, '--now', '2026-04-14T10:00:00Z'], { env: { ...process.env, SMTP_URL: sink.url } });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 20_000;
    while (!/Preview at (http:\/\/127\.0\.0\.1:\d+)\//.test(out)) {
      if (Date.now() > deadline) throw new Error(`preview did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    base = /Preview at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)![1]!;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    child.kill('SIGTERM');
    await sink.close();
  });

  it('shows a saved guide without a reload, and an overlay for broken front matter until it is fixed', async () => {
    const page = await browser.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));
    await page.goto(`${base}/guides/meta/`);
    assert.match((await page.textContent('#almanac-preview-banner'))!, /as it will publish as v2/);
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
      window.scrollTo(0, 600);
    });
    await page.waitForFunction(() => window.scrollY > 300, undefined, { timeout: 5_000 });
    const file = path.join(root, 'content/guides/meta/guide.md');
    const original = await readFile(file, 'utf8');
    try {
      await writeFile(file, original.replace('title: "Meta AI: The Open-Weights Giant', 'title: "Meta AI, Revised: The Open-Weights Giant'));
      await page.waitForFunction(() => document.querySelector('h1')?.textContent?.includes('Revised'), undefined, { timeout: 10_000 });
      assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'updated in place, not reloaded');
      // The swap and the scroll happen in one task; a second save's swap may still be on its way.
      await page.waitForFunction(() => window.scrollY > 300, undefined, { timeout: 5_000 }).catch(() => {});
      assert.ok((await page.evaluate(() => window.scrollY)) > 300, 'scroll position kept');
      assert.match((await page.textContent('.diff'))!, /\+title: "Meta AI, Revised/);

      await writeFile(file, original.replace('level: beginner', 'level: expert'));
      // The watcher may see the file emptied for a moment by the write before it sees the new text: the
      // overlay then says so first, and follows the file once the write is done.
      await page
        .waitForFunction(() => document.querySelector('#almanac-overlay')?.textContent?.includes('level:'), undefined, { timeout: 10_000 })
        .catch(() => {});
      assert.match((await page.textContent('#almanac-overlay'))!, /content\/guides\/meta\/guide\.md: level: expected one of beginner, intermediate, advanced, found "expert"/);
      await writeFile(file, original);
      await page.waitForSelector('#almanac-overlay', { state: 'detached', timeout: 10_000 });
      assert.match((await page.textContent('h1'))!, /^Meta AI: The Open-Weights Giant/);

      // A second save right after the first has been reloaded (a formatter on save) comes within the
      // file watcher's 50 ms window, which drops it: the preview must still end at the second one.
      const reloads = () => out.match(/guide\.md reloaded/g)?.length ?? 0;
      const before = reloads();
      await writeFile(file, original.replace('title: "Meta AI: The Open-Weights Giant', 'title: "Meta AI, Draft: The Open-Weights Giant'));
      while (reloads() === before) await new Promise((r) => setTimeout(r, 2));
      await writeFile(file, original.replace('title: "Meta AI: The Open-Weights Giant', 'title: "Meta AI, Final: The Open-Weights Giant'));
      await page.waitForFunction(() => document.querySelector('h1')?.textContent?.includes('Final'), undefined, { timeout: 10_000 });
      assert.deepEqual([...hosts], [new URL(base).host], 'everything is local');
    } finally {
      // Whatever happened, later tests see the guide as it was.
      await writeFile(file, original);
    }
    await page.close();
  });

  it('the issue viewer: mobile width, plain text, checks, and a test send through SMTP', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/issues/midweek`);
    assert.match((await page.textContent('h1'))!, /Next Midweek · #2 · 2026-04-15/);
    assert.match((await page.textContent('#subject'))!, /^Midweek #2: /);
    assert.match((await page.textContent('#checks'))!, /Every check passes|warning/);
    // The spam score takes seconds: the panel says so, then reloads itself with it.
    await page.waitForFunction(() => /spam score -?[\d.]+ points|no spam score/.test(document.getElementById('checks')?.textContent ?? ''), undefined, { timeout: 60_000 });
    assert.match((await page.textContent('#checks li.note'))!, /^note: (spam score -?[\d.]+ points|no spam score: SpamAssassin is not installed)/);
    // The checks only `check` and the preview run: client support of the templates too.
    assert.match((await page.textContent('#checks'))!, /warning: client-support: expected features every client family supports, found border-radius \(.*story\.hbs:2\) is not supported by Outlook Windows/);
    await page.click('text=Mobile 375 px');
    assert.equal(await page.evaluate(() => (document.getElementById('email') as HTMLIFrameElement).getBoundingClientRect().width), 375);
    await page.click('text=Plain text');
    assert.ok(await page.isVisible('#text'));
    assert.match((await page.textContent('#text'))!, /Call Me Almanac — Midweek #2/);
    await page.fill('#to', 'editor@example.com');
    await page.click('text=Send test');
    await page.waitForFunction(() => document.getElementById('send-result')?.textContent?.startsWith('Sent'), undefined, { timeout: 10_000 });
    const mail = await simpleParser(sink.messages.at(-1)!.raw);
    assert.match(mail.subject!, /^\[Test\] Midweek #2: /);
    assert.equal(sink.messages.at(-1)!.to, 'editor@example.com');
    await page.screenshot({ path: path.join(PROJECT, 'test-artifacts/screenshots/preview-issue.png') });
    await page.close();
  });

  it('lists past issues and opens them in the viewer with their checks', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await Promise.all([page.waitForNavigation(), page.click('text=Sunday #1')]);
    assert.match((await page.textContent('h1'))!, /^Sunday #1, as built · #1 · 2026-04-12$/);
    assert.match((await page.textContent('#checks'))!, /Every check passes|warning/);
    const frame = page.frameLocator('#email');
    assert.match((await frame.locator('body').textContent())!, /Meta Introduces Muse Spark/);
    await page.close();
  });
});
