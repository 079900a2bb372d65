// Hostile text in every field a writer controls — guides, news, configuration — built into the site,
// every feed, the JSON-LD, the email and a message actually sent over SMTP. Each output is parsed, and
// nothing in it may be an element, attribute, header or per-reader slot that came from the content.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { simpleParser } from 'mailparser';
import { parse as parseHtml, type HTMLElement } from 'node-html-parser';
import { PROJECT, snapshot, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

const SECRET = 'hostile-secret-3e9a1c7f5b2d8e4a6c0f9b1d3e7a5c2f';
const SMTP_PASSWORD = 'smtp-pass-7d2f9a4c1e';

/** Strings that try to become markup, template syntax, headers or slots, or to confuse a reader. */
const HOSTILE = [
  '<script>pwn()</script>',
  '"><img src=x onerror=pwn()>',
  "'><svg onload=pwn()>",
  '</title><iframe src=javascript:pwn()>',
  ']]></description><script>pwn()</script>',
  '{{unsubscribe_url}} {{preferences_url}} {{name}}',
  '{{{site.title}}} {{#each x}}',
  '[[pwn]] %%pwn%% ${pwn} <%= pwn %>',
  'line\r\nBcc: victim@evil.example',
  '\r\n\r\n<html>body injection',
  'bidi \u202eevil\u202c and \u2066isolate\u2069',
  'zero\u200bwidth\u200d\ufeff',
  'lone \ud800 surrogate',
  `long ${'W'.repeat(900)} word`,
  '&amp; &lt;script&gt; &#x3C;',
  '</script><script>pwn()</script>',
  'javascript:pwn()',
  'nul\u0000char and \u0007bell',
];

/** A YAML double-quoted scalar: JSON's escapes are YAML's, so any string survives (lone surrogates as \\u escapes). */
const yaml = (s: string) => JSON.stringify(s).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

interface Picks {
  guide: string[];
  news: string[];
  config: string[];
  body: string;
}

/** Cut to a field's limit (see LIMITS in the schema): past it the text is refused, not published. */
const fit = (s: string | undefined, n: number) => (s ?? '').slice(0, n);

function siteFiles(p: Picks): Record<string, string> {
  const [title, tldr, take, topic, related, event, q, a] = p.guide.map((s, i) => fit(s, [280, 990, 990, 90, 90, 990, 990, 990][i]!));
  const [ntitle, source, ntopic, query] = p.news.map((s, i) => fit(s, [280, 90, 90, 990][i]!));
  return {
    'content/guides/hostile/guide.md': [
      '---',
      `title: ${yaml(`Guide ${title}`)}`,
      'level: beginner',
      `topics: [${yaml(`Alpha ${topic}`)}]`,
      `tldr: ${yaml(`TLDR ${tldr}`)}`,
      `takeaways: [${yaml(`Take ${take}`)}]`,
      `timeline: [{ date: 2026-04-01, event: ${yaml(`Event ${event}`)} }]`,
      `related: [${yaml(`Beta ${related}`)}]`,
      `faq: [{ q: ${yaml(`Q ${q}`)}, a: ${yaml(`A ${a}`)} }]`,
      '---',
      '',
      `## Section ${p.body.replace(/[\r\n]/g, ' ')}`,
      '',
      p.body,
      '',
    ].join('\n'),
    'content/news/hostile.md': [
      '---',
      `title: ${yaml(`News ${ntitle}`)}`,
      `url: ${yaml(`https://evil.example/item?q=${encodeURIComponent(query!)}&u={{unsubscribe_url}}`)}`,
      `source: ${yaml(`Src ${source}`)}`,
      'published: 2026-04-14T10:00:00Z',
      'score: 9',
      `topics: [${yaml(`Gamma ${ntopic}`)}]`,
      '---',
      `Summary ${p.body}`,
      '',
    ].join('\n'),
  };
}

/** Every element and attribute of a page: none may come from content. */
function assertCleanHtml(html: string, where: string): void {
  const doc = parseHtml(html, { comment: false });
  for (const el of doc.querySelectorAll('*') as HTMLElement[]) {
    const tag = el.tagName.toLowerCase();
    assert.ok(!['iframe', 'svg', 'img', 'object', 'embed'].includes(tag) || !/pwn|javascript:/i.test(el.outerHTML), `${where}: <${tag}> from content`);
    for (const [name, value] of Object.entries(el.attributes)) {
      assert.ok(!/^on/i.test(name), `${where}: attribute ${name} on <${tag}>`);
      if (/^(href|src|action)$/i.test(name)) assert.ok(!/^\s*javascript:/i.test(value), `${where}: ${name}=${value}`);
    }
    // The site's own scripts (the contents and the search page), by their fixed addresses, empty; any other script is JSON-LD.
    if (tag === 'script' && el.getAttribute('src') !== undefined) {
      assert.match(el.getAttribute('src')!, /^(\.\.\/)*assets\/(toc|search)\.js$/, `${where}: a script from elsewhere`);
      assert.equal(el.rawText, '', `${where}: a script with a body`);
    } else if (tag === 'script') {
      assert.equal(el.getAttribute('type'), 'application/ld+json', `${where}: a script that is not JSON-LD`);
      JSON.parse(el.rawText);
      assert.ok(!/<\/script/i.test(el.rawText), `${where}: JSON-LD that ends its script`);
    }
  }
}

/** A loopback SMTP server that wants a password (so one is configured) and keeps what it receives. */
async function authSink(password: string): Promise<{ url: string; messages: { to: string; raw: Buffer }[]; close: () => Promise<void> }> {
  const messages: { to: string; raw: Buffer }[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.password === password) callback(null, { user: auth.username });
      else callback(new Error('Invalid login'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo) messages.push({ to: r.address, raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://user:${password}@127.0.0.1:${port}`, messages, close: () => new Promise((r) => server.close(() => r())) };
}

describe('hostile content', () => {
  it('stays text in pages, feeds, JSON-LD, email and the sent message', async () => {
    const pick = fc.constantFrom(...HOSTILE);
    const [picks] = fc.sample(
      fc.record({
        guide: fc.array(pick, { minLength: 8, maxLength: 8 }),
        news: fc.array(pick, { minLength: 4, maxLength: 4 }),
        config: fc.array(pick, { minLength: 2, maxLength: 2 }),
        body: pick,
      }),
      { seed: Number(process.env.HOSTILE_SEED ?? 20261206), numRuns: 1 },
    ) as [Picks];
    // Every string once somewhere, whatever the seed picked: the fields rotate through the list.
    const all = [...picks.guide, ...picks.news];
    HOSTILE.forEach((h, i) => (all[i % all.length] = all[i % all.length] === h ? h : `${all[i % all.length]} ${h}`));
    picks.guide = all.slice(0, 8);
    picks.news = all.slice(8);

    // The guide is older than the issue and shares no topic with the news, so the email holds the
    // news fields and the site holds both. (The preheader is built from featured guide titles, and
    // its padding is counted apart from these fields.)
    const root = await tempSite();
    const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
    config.title = `Site ${picks.config[0]!.slice(0, 80)}`.slice(0, 100);
    config.from = `${JSON.stringify(`Sender ${picks.config[1]!.slice(0, 60)}`)} <almanac@almanac.example.org>`;
    await writeFiles(root, { ...siteFiles(picks), 'almanac.config.json': JSON.stringify(config), 'list.csv': 'email,name,editions\nann@example.com,Ann,midweek\n' });
    const published = await almanac(['guide', 'publish', 'hostile', '--note', 'first', '--root', root, '--now', '2026-01-10T00:00:00Z']);
    assert.equal(published.code, 0, published.stderr);
    assert.equal((await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
    // The secrets are in the environment of the build too: whatever it writes must not hold them.
    const secrets = { ALMANAC_SECRET: SECRET, SMTP_URL: `smtp://user:${SMTP_PASSWORD}@127.0.0.1:9` };
    const built = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z'], { env: secrets });
    assert.equal(built.code, 0, built.stderr);

    assert.ok(!built.stdout.includes(SECRET) && !built.stderr.includes(SMTP_PASSWORD));
    const out = await snapshot(path.join(root, 'dist'));
    const xml = new XMLParser();
    let pages = 0;
    for (const [file, bytes] of out) {
      const text = bytes.toString('utf8');
      assert.ok(!text.includes(SECRET) && !text.includes(SMTP_PASSWORD), `${file}: a secret`);
      assert.ok(!/almanac-slot-/.test(text), `${file}: a slot marker`);
      if (file.endsWith('.html')) {
        assertCleanHtml(text, file);
        pages++;
      } else if (file.endsWith('.xml') || file.endsWith('.atom')) {
        assert.equal(XMLValidator.validate(text), true, `${file}: well-formed XML`);
        const parsed = JSON.stringify(xml.parse(text));
        assert.ok(!/"(script|iframe|img|svg)"/.test(parsed), `${file}: an element from content`);
      } else if (file.endsWith('.json')) {
        JSON.parse(text);
      }
    }
    assert.ok(pages > 5);
    assert.ok([...out.keys()].some((f) => f.startsWith('feeds/')));

    const sink = await authSink(SMTP_PASSWORD);
    try {
      const run = await almanac(['issue', 'send', '2026-04-15-midweek', '--root', root], {
        env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.ok(!run.stdout.includes(SECRET) && !run.stderr.includes(SMTP_PASSWORD));
      assert.equal(sink.messages.length, 1, run.stdout + run.stderr);
      const { raw, to } = sink.messages[0]!;
      assert.equal(to, 'ann@example.com');
      const source = raw.toString('latin1');
      assert.ok(!source.includes(SECRET) && !source.includes(SMTP_PASSWORD));
      const headerBlock = source.split('\r\n\r\n')[0]!;
      const names = headerBlock.split('\r\n').filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
      assert.deepEqual(
        names.sort(),
        ['content-type', 'date', 'from', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post', 'message-id', 'mime-version', 'subject', 'to'],
        'exactly the headers the message builds',
      );
      const mail = await simpleParser(raw);
      assert.equal(mail.bcc, undefined);
      assert.ok(!/[\r\n]/.test(mail.subject ?? ''));
      const html = String(mail.html);
      const text = String(mail.text);
      assertCleanHtml(html, 'email html');
      assert.equal((html.match(/token=u\./g) ?? []).length, 1, 'one signed unsubscribe link in the HTML');
      assert.equal((html.match(/token=p\./g) ?? []).length, 1, 'one signed preferences link in the HTML');
      assert.equal((text.match(/token=u\./g) ?? []).length, 1, 'one in the text part');
      assert.equal((text.match(/token=p\./g) ?? []).length, 1, 'one in the text part');
      assert.ok(!html.includes('almanac-slot-') && !text.includes('almanac-slot-'));
      for (const a of parseHtml(html).querySelectorAll('a')) {
        const href = a.getAttribute('href') ?? '';
        if (href.startsWith('https://evil.example/')) assert.ok(!/token=/.test(href), 'no signed link inside a content URL');
      }
    } finally {
      await sink.close();
    }
  });
});
