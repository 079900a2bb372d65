// The preview answers only to its own host names, changes nothing (mails no test copy, opens no
// live-reload stream) for another origin, mails test copies only to configured addresses or active
// subscribers, and serves nothing outside what it should: examples first, then a seeded fuzz run of
// a few thousand raw requests against a real preview on loopback.
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'node-html-parser';
import { almanac, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac as inProcess } from './helpers/in-process.ts';
import { rawRequest, startPreview, type RawResponse, type RunningPreview } from './helpers/preview.ts';
import { smtpSink, type SmtpSink } from './helpers/smtp.ts';

const NOW = '2026-04-14T10:00:00Z';
const TITLE = 'Almanac Preview Fixture';
const SECRET = 'SECRET-MARKER-7f3a9c';
const TESTER = 'editor@example.com';
const READER = 'reader@example.com';

describe('preview: hosts, origins and test addresses', () => {
  let root: string;
  let sink: SmtpSink;
  let preview: RunningPreview;
  /** The Host header a browser on the printed address sends. */
  let own: string;

  const get = (target: string, headers: [string, string][] = [['Host', own]]) => rawRequest(preview.port, { method: 'GET', target, headers });
  const sendTest = (to: string, headers: [string, string][]) =>
    rawRequest(preview.port, {
      method: 'POST',
      target: '/issues/midweek/send-test',
      headers: [...headers, ['Content-Type', 'application/x-www-form-urlencoded']],
      body: new URLSearchParams({ to }).toString(),
    });

  before(async () => {
    root = await tempSite({ sample: true });
    await writeFile(
      path.join(root, 'almanac.config.json'),
      JSON.stringify({ title: TITLE, baseUrl: 'https://almanac.example.org', from: 'Almanac <letters@almanac.example.org>', preview: { testAddresses: [TESTER] } }),
    );
    // Files the preview must never serve.
    await writeFile(path.join(root, 'secret.txt'), SECRET);
    await mkdir(path.join(root, 'templates'), { recursive: true });
    await writeFile(path.join(root, 'templates', 'secret.txt'), SECRET);
    const added = await inProcess(['subscribers', 'add', READER, '--root', root, '--now', NOW]);
    assert.equal(added.code, 0, added.stderr);
    sink = await smtpSink();
    preview = await startPreview(['--root', root, '--now', NOW, '--host-name', 'almanac.test'], { SMTP_URL: sink.url });
    own = `127.0.0.1:${preview.port}`;
  });
  after(async () => {
    await preview?.stop();
    await sink?.close();
  });

  it('answers its own names, and refuses a foreign Host (DNS rebinding) without any content', async () => {
    for (const host of [own, `localhost:${preview.port}`, `[::1]:${preview.port}`, 'almanac.test', `ALMANAC.test:${preview.port}`]) {
      const res = await get('/', [['Host', host]]);
      assert.equal(res.status, 200, host);
      assert.ok(res.body.includes(TITLE), host);
    }
    for (const host of ['evil.example', `evil.example:${preview.port}`, `localhost.evil.example:${preview.port}`, `127.0.0.1.nip.io:${preview.port}`, '[::ffff:127.0.0.1]', '']) {
      for (const target of ['/', '/issues/midweek', '/issues/midweek/email.html', '/guides/meta/', '/events']) {
        const res = await get(target, [['Host', host]]);
        assert.equal(res.status, 403, `${host} ${target}`);
        assert.ok(!res.body.includes(TITLE) && !res.body.includes('Midweek'), `${host} ${target}: no content`);
      }
    }
    const missing = await get('/', []);
    assert.ok(missing.status === 400 || missing.status === 403, String(missing.status));
  });

  it('sends a test only from its own page: not for another origin, another site or a framed form', async () => {
    const before = sink.messages.length;
    const refused: [string, string][][] = [
      [['Host', own], ['Origin', 'http://evil.example']],
      [['Host', own], ['Origin', 'null']],
      [['Host', own], ['Origin', `http://localhost:${preview.port}`]],
      [['Host', own], ['Origin', `http://127.0.0.1:${preview.port + 1}`]],
      [['Host', own], ['Sec-Fetch-Site', 'cross-site'], ['Origin', 'http://evil.example']],
      // Another port on localhost is the same site but not the same origin.
      [['Host', own], ['Sec-Fetch-Site', 'same-site']],
      [['Host', own], ['Sec-Fetch-Site', 'cross-site']],
    ];
    for (const headers of refused) {
      const res = await sendTest(TESTER, headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match(res.body, /another (origin|site)/);
    }
    assert.equal(sink.messages.length, before, 'nothing was mailed');
    const ok = await sendTest(TESTER, [['Host', own], ['Origin', `http://${own}`], ['Sec-Fetch-Site', 'same-origin']]);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(sink.messages.length, before + 1);
    assert.equal(sink.messages.at(-1)!.to, TESTER);
  });

  it('sends tests only to preview.testAddresses or an active subscriber', async () => {
    const same: [string, string][] = [['Host', own], ['Origin', `http://${own}`], ['Sec-Fetch-Site', 'same-origin']];
    const before = sink.messages.length;
    const stranger = await sendTest('anyone@elsewhere.example', same);
    assert.equal(stranger.status, 403);
    assert.match(stranger.body, /preview\.testAddresses/);
    assert.equal(sink.messages.length, before);
    const reader = await sendTest('Reader@Example.com', same);
    assert.equal(reader.status, 200, reader.body);
    assert.equal(sink.messages.at(-1)!.to.toLowerCase(), READER);
    assert.equal((await sendTest('not an address', same)).status, 400);
    const huge = await rawRequest(preview.port, { method: 'POST', target: '/issues/midweek/send-test', headers: same, body: `to=${'a'.repeat(40_000)}` });
    assert.equal(huge.status, 413);
    assert.equal(sink.messages.length, before + 1);
  });

  it('opens the live-reload stream only for its own pages', async () => {
    const ok = await get('/events', [['Host', own], ['Sec-Fetch-Site', 'same-origin']]);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'text/event-stream');
    for (const headers of [
      [['Host', own], ['Origin', 'http://evil.example'], ['Sec-Fetch-Site', 'cross-site']],
      [['Host', own], ['Sec-Fetch-Site', 'same-site']],
    ] as [string, string][][]) {
      assert.equal((await get('/events', headers)).status, 403, JSON.stringify(headers));
    }
  });

  it('refuses other methods, frames the email in a sandbox and forbids other sites to frame it', async () => {
    for (const method of ['PUT', 'DELETE', 'POST']) {
      const res = await rawRequest(preview.port, { method, target: '/issues/midweek', headers: [['Host', own]], body: '' });
      assert.equal(res.status, 405, method);
    }
    assert.equal((await get('/issues/midweek/send-test')).status, 405);
    const email = await get('/issues/midweek/email.html');
    assert.equal(email.status, 200);
    assert.match(email.headers['content-security-policy']!, /\bsandbox\b/);
    assert.match(email.headers['content-security-policy']!, /script-src 'none'/);
    const page = await get('/');
    assert.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
  });

  it('fuzz: no foreign Host gets content, no other origin changes anything, no file leaks, no 5xx, no exit', async () => {
    const port = preview.port;
    const allowedHosts = ['localhost', '127.0.0.1', '[::1]', 'almanac.test'];
    const hostArb = fc.oneof(
      fc.constantFrom(own, `localhost:${port}`, `[::1]:${port}`, 'almanac.test', `LocalHost:${port}`, 'localhost'),
      fc.constantFrom(
        undefined, '', 'evil.example', `evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`,
        '[::ffff:127.0.0.1]', `[0:0:0:0:0:0:0:1]:${port}`, '::1', 'localhost:99999', 'localhost:', `127.0.0.1:${port}@evil.example`,
        'localhost.', '0.0.0.0', '127.1', '2130706433', 'null', 'almanac.test.evil.example', `localhost:${port} evil`,
      ),
    );
    const originArb = (host: string | undefined) =>
      fc.constantFrom(undefined, 'null', 'http://evil.example', `http://${host ?? ''}`, `https://${host ?? ''}`, `http://localhost:${port}`, `http://127.0.0.1:${port + 1}`, 'http://localhost.evil.example', `http://127.0.0.1.nip.io:${port}`, `http://${(host ?? '').toUpperCase()}`);
    const fetchSiteArb = fc.constantFrom(undefined, 'same-origin', 'same-site', 'cross-site', 'none', 'garbage');
    const dot = fc.constantFrom('.', '%2e', '%2E', '%252e', '%c0%ae', '%u002e');
    const slash = fc.constantFrom('/', '%2f', '%2F', '%252f', '\\', '%5c', '%5C', '%c0%af');
    const up = fc.tuple(dot, dot, slash).map(([a, b, s]) => `${a}${b}${s}`);
    const pathArb = fc.oneof(
      fc.constantFrom('/', '/events', '/preview.js', '/assets/style.css', '/guides/meta/', '/issues/midweek', '/issues/sunday/email.html', '/issues/midweek/email.txt', '/issues/midweek/send-test', '/issues/2026-04-12-sunday', '*', 'http://evil.example/', '//evil.example/', '/%00', '/assets/style.css%00.txt'),
      fc
        .tuple(fc.constantFrom('/assets/', '/guides/', '/issues/', '/', '/issues/midweek/'), fc.array(up, { minLength: 1, maxLength: 5 }), fc.constantFrom('secret.txt', 'templates/secret.txt', 'etc/passwd', 'almanac.config.json', '.almanac/almanac.db', 'secret.txt%00.css'))
        .map(([p, ups, file]) => `${p}${ups.join('')}${file}`),
      fc.string({ unit: fc.constantFrom('/', '.', '\\', '%', '0', '2', 'e', 'f', 'a', '\u0000', '~', '?', '#') }).map((s) => `/${s}`),
    );
    const toArb = fc.constantFrom(TESTER, READER, 'attacker@evil.example', '', 'x'.repeat(20_000));
    const anyRequest = hostArb.chain((host) =>
      fc.record({
        method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'FOO'),
        target: pathArb,
        host: fc.constant(host),
        origin: originArb(host),
        fetchSite: fetchSiteArb,
        to: toArb,
      }),
    );
    // A quarter are test sends that differ from a good one in one or two ways, so the rules are met often.
    const sendTests = hostArb.chain((host) =>
      fc.record({
        method: fc.constant('POST'),
        target: fc.constantFrom('/issues/midweek/send-test', '/issues/sunday/send-test', '/issues/2026-04-12-sunday/send-test', '/issues/midweek/send-test/', '/issues/midweek/./send-test'),
        host: fc.constant(host),
        origin: originArb(host),
        fetchSite: fetchSiteArb,
        to: toArb,
      }),
    );
    const requestArb = fc.oneof({ arbitrary: anyRequest, weight: 3 }, { arbitrary: sendTests, weight: 1 });
    const requests = fc.sample(requestArb, { seed: Number(process.env.PREVIEW_FUZZ_SEED ?? 424242), numRuns: 4000 });
    const hostOk = (h: string | undefined) => {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(h ?? '');
      return !!m && allowedHosts.includes(m[1]!.toLowerCase()) && (m[2] === undefined || Number(m[2]) <= 65535);
    };
    const sentBefore = sink.messages.length;
    const expectedSends: string[] = [];
    const failures: string[] = [];
    const deadline = Date.now() + 10_000;
    let done = 0;
    let next = 0;
    const worker = async () => {
      while (next < requests.length && Date.now() < deadline) {
        const r = requests[next++]!;
        const headers: [string, string][] = [];
        if (r.host !== undefined) headers.push(['Host', r.host]);
        if (r.origin !== undefined) headers.push(['Origin', r.origin]);
        if (r.fetchSite !== undefined) headers.push(['Sec-Fetch-Site', r.fetchSite]);
        const body = r.method === 'POST' ? new URLSearchParams({ to: r.to }).toString() : undefined;
        if (body !== undefined) headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
        let res: RawResponse;
        try {
          res = await rawRequest(port, { method: r.method, target: r.target, headers, body });
        } catch (err) {
          failures.push(`${(err as Error).message}`);
          continue;
        }
        done++;
        const label = `${r.method} ${JSON.stringify(r.target)} Host=${JSON.stringify(r.host)} Origin=${JSON.stringify(r.origin)} SFS=${JSON.stringify(r.fetchSite)} → ${res.status}`;
        if (res.status !== undefined && res.status >= 500) failures.push(`5xx: ${label} ${res.body.slice(0, 200)}`);
        if (res.body.includes(SECRET) || res.body.includes('root:x:0:0')) failures.push(`leaked a file: ${label}`);
        if (!hostOk(r.host) && (res.status === undefined || res.status < 400 || res.body.includes(TITLE))) failures.push(`foreign Host got an answer: ${label}`);
        if (res.status === 200 && r.method === 'POST') {
          const sameOrigin = (r.origin === undefined || r.origin.toLowerCase() === `http://${(r.host ?? '').toLowerCase()}`) && (r.fetchSite === undefined || r.fetchSite === 'same-origin');
          if (!sameOrigin) failures.push(`a state-changing request from another origin succeeded: ${label}`);
          if (r.to !== TESTER && r.to !== READER) failures.push(`sent to ${r.to}: ${label}`);
          expectedSends.push(r.to);
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    assert.deepEqual(failures.slice(0, 20), []);
    assert.ok(done >= 500, `only ${done} requests in the time allowed`);
    assert.ok(expectedSends.length > 0, 'some test sends met every rule (else the oracle above tested nothing)');
    // Every message the SMTP server got is one the fuzz saw succeed, to an allowed address.
    assert.deepEqual(sink.messages.slice(sentBefore).map((m) => m.to).sort(), expectedSends.sort());
    assert.equal(preview.child.exitCode, null, 'the preview is still running');
    const alive = await get('/');
    assert.equal(alive.status, 200);
  });
});

describe('preview: configuration and options', () => {
  it('a bad preview.testAddresses entry names the file, field, expected and found', async () => {
    const root = await tempSite();
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ preview: { testAddresses: [TESTER, 'editor at example'] } }));
    const run = await inProcess(['check', '--root', root]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /almanac\.config\.json: preview\.testAddresses\[1\]: expected an email address, e\.g\. "editor@example\.com", found "editor at example"/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  it('refuses a --host-name that is not a host name, before starting', async () => {
    for (const name of ['http://almanac.test', 'almanac.test:4001', 'almanac.test/x', '']) {
      const run = await almanac(['preview', '--host-name', name, '--port', '0']);
      assert.equal(run.code, 2, `${name}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /--host-name expects a host name/);
    }
  });

  it('sends a test to a reader added while it runs, on a site that had no subscribers when it started', async () => {
    const root = await tempSite({ sample: true });
    await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ baseUrl: 'https://almanac.example.org', from: 'Almanac <letters@almanac.example.org>' }));
    const sink = await smtpSink();
    const running = await startPreview(['--root', root, '--now', NOW], { SMTP_URL: sink.url });
    try {
      const own = `127.0.0.1:${running.port}`;
      // The first copy renders the issue with MJML loading cold: slow on a busy machine.
      const send = () =>
        rawRequest(
          running.port,
          {
            method: 'POST',
            target: '/issues/midweek/send-test',
            headers: [['Host', own], ['Origin', `http://${own}`], ['Sec-Fetch-Site', 'same-origin'], ['Content-Type', 'application/x-www-form-urlencoded']],
            body: new URLSearchParams({ to: READER }).toString(),
          },
          20_000,
        );
      assert.equal((await send()).status, 403, 'not a subscriber yet');
      const added = await inProcess(['subscribers', 'add', READER, '--root', root, '--now', NOW]);
      assert.equal(added.code, 0, added.stderr);
      const sent = await send();
      assert.equal(sent.status, 200, sent.body);
      assert.equal(sink.messages.at(-1)!.to, READER);
    } finally {
      await running.stop();
      await sink.close();
    }
  });

  it("serves its own script, style and pages, which a site's templates/ does not replace and a build does not publish", async () => {
    const root = await tempSite({ sample: true });
    await writeFiles(root, { 'templates/preview/preview.js': SECRET, 'templates/preview/preview.css': SECRET, 'templates/preview/pages/index.hbs': SECRET });
    const built = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(built.code, 0, built.stderr);
    const published = (await readdir(path.join(root, 'dist'), { recursive: true })).filter((f) => f.includes('preview'));
    assert.deepEqual(published, []);
    const running = await startPreview(['--root', root, '--now', NOW]);
    try {
      const get = (target: string) => rawRequest(running.port, { method: 'GET', target, headers: [['Host', new URL(running.base).host]] });
      const [script, style, index] = await Promise.all(['/preview.js', '/preview.css', '/'].map(get));
      for (const res of [script, style, index]) {
        assert.equal(res!.status, 200);
        assert.ok(!res!.body.includes(SECRET), 'the built-in file, not the site\'s');
      }
      assert.match(script!.headers['content-type']!, /^text\/javascript/);
      assert.match(script!.body, /new EventSource\('\/events'\)/);
      assert.match(style!.headers['content-type']!, /^text\/css/);
      assert.match(style!.body, /#almanac-overlay\{/);
      const links = parse(index!.body).querySelectorAll('link[rel=stylesheet], script[src]').map((e) => e.getAttribute('href') ?? e.getAttribute('src'));
      assert.deepEqual(links, ['/assets/style.css', '/preview.css', '/preview.js']);
    } finally {
      await running.stop();
    }
  });

  it('listens on loopback', async () => {
    const root = await tempSite({ sample: true });
    const running = await startPreview(['--root', root, '--now', NOW]);
    try {
      assert.match(running.output(), /Preview at http:\/\/127\.0\.0\.1:\d+\//);
      const reach = (host: string) =>
        new Promise<string>((resolve) => {
          const socket = net.connect({ host, port: running.port, timeout: 5_000 });
          socket.once('connect', () => (socket.destroy(), resolve('connected')));
          socket.once('timeout', () => (socket.destroy(), resolve('timed out')));
          socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        });
      assert.equal(await reach('127.0.0.1'), 'connected');
      // Every other address of this machine is refused.
      const others = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4');
      for (const i of others) assert.equal(await reach(i!.address), 'ECONNREFUSED', `reachable on ${i!.address}`);
    } finally {
      await running.stop();
    }
  });
});

describe('preview: content is shown as text', () => {
  it('markup in a guide, a news item, a stored issue and a problem never becomes live markup', async () => {
    const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const root = await tempSite();
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify({ title: `Site ${evil}` }),
      'content/guides/g/guide.md': `---\ntitle: "Guide ${evil}"\nlevel: beginner\ntopics: [Security]\ntldr: "T ${evil}"\ntakeaways: ["K ${evil}"]\n---\n\n## S\n\nBody ${evil}\n`,
      'content/news/n.md': `---\ntitle: "News ${evil}"\nurl: https://example.com/n\nsource: "Wire ${evil}"\npublished: 2026-04-13\nscore: 9\ntopics: [Security]\n---\nSummary ${evil}\n`,
    });
    const published = await inProcess(['guide', 'publish', 'g', '--note', `Note ${evil}`, '--root', root, '--now', NOW]);
    assert.equal(published.code, 0, published.stderr);
    const running = await startPreview(['--root', root, '--now', NOW]);
    const host = new URL(running.base).host;
    const page = async (target: string, trustedHtml = false) => {
      const res = await rawRequest(running.port, { method: 'GET', target, headers: [['Host', host]] });
      assert.equal(res.status, 200, `${target}: ${res.body.slice(0, 300)}`);
      // Whatever is on the page, only the preview's own script file runs: no inline script, no handler.
      const csp = res.headers['content-security-policy'] ?? '';
      assert.match(csp, /(^|;)\s*script-src 'self'\s*(;|$)/, target);
      const doc = parse(res.body);
      // A guide's Markdown may hold raw HTML, as on the site; front matter is always text.
      if (trustedHtml) {
        assert.equal(doc.querySelector('h1')!.text.includes('Guide <img'), true, `${target}: the title as text`);
        return res.body;
      }
      assert.equal(doc.querySelectorAll('img').length, 0, `${target}: an <img> from content`);
      assert.ok(!doc.querySelectorAll('script').some((s) => !s.getAttribute('src')), `${target}: an inline <script> from content`);
      assert.equal(doc.querySelectorAll('[onerror]').length, 0, target);
      return res.body;
    };
    try {
      assert.ok((await page('/')).includes('Guide &lt;img'), 'the title is shown, escaped');
      await page('/guides/g/', true);
      await page('/issues/midweek');
      // A problem whose found value holds markup: the overlay shows it as text.
      await writeFiles(root, { 'content/guides/g/guide.md': `---\ntitle: G\nlevel: "${evil}"\ntopics: [Security]\ntldr: T\ntakeaways: [K]\n---\n\n## S\n\nBody\n` });
      const deadline = Date.now() + 30_000;
      let body = '';
      while (!body.includes('almanac-overlay')) {
        assert.ok(Date.now() < deadline, 'the overlay did not appear');
        await new Promise((r) => setTimeout(r, 50));
        body = await page('/');
      }
      assert.ok(parse(body).querySelector('#almanac-overlay')!.text.includes('<img src=x onerror=alert(1)>'), 'the problem is shown as text');
    } finally {
      await running.stop();
    }
  });
});
