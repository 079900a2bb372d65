// news fetch against feeds served on loopback: every format, encodings, redirects, conditional
// requests, a server that hangs, one that sends too much, bad feeds, hostile text, duplicates, and
// the items it writes going through the site build and the next issue.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readNewsItem } from '../src/content/news-item.ts';
import { renderSummaryText } from '../src/render/markdown.ts';
import { almanac, tempSite, writeFiles } from './helpers/cli.ts';
import { fixture, hang, huge, redirect, serve, startFeedServer, together, type FeedServer, type Handler } from './helpers/feed-server.ts';
import { json, runMain } from './helpers/main.ts';
import type { FetchReport } from '../src/intake/run.ts';

const NOW = '2026-12-05T12:00:00Z';
const RSS = 'application/rss+xml; charset=utf-8';

async function siteWith(sources: { name: string; url: string; [k: string]: unknown }[], extra: Record<string, unknown> = {}): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ sources, ...extra, intake: { allowPrivateSources: true, timeoutSeconds: 5, ...(extra.intake as object | undefined) } }),
  });
  return root;
}

async function fetchNews(root: string, ...args: string[]) {
  const run = await runMain(['news', 'fetch', '--root', root, '--now', NOW, '--json', ...args]);
  return { run, report: run.stdout ? json<FetchReport>(run) : undefined };
}

/** Every news file below the site, by path, with its parsed item. */
async function items(root: string) {
  const dir = path.join(root, 'content/news');
  if (!existsSync(dir)) return new Map();
  const rels = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.md')).map((f) => f.split(path.sep).join('/'));
  return new Map(
    rels.map((rel) => {
      const read = readNewsItem(root, rel, 'UTC');
      assert.ok(read.item, `${rel} parses: ${JSON.stringify(read.problems)}`);
      return [`content/news/${rel}`, read.item] as const;
    }),
  );
}

describe('news fetch', () => {
  let server: FeedServer;
  const sent = { bytes: 0 };
  const routes: Record<string, Handler> = {
    '/rss2.xml': serve(fixture('rss2.xml'), RSS),
    '/atom.xml': serve(fixture('atom.xml'), 'application/atom+xml'),
    '/old-atom': redirect('/moved-atom', 301),
    '/moved-atom': redirect('/atom.xml', 302),
    '/feed.json': serve(fixture('feed.json'), 'application/feed+json', { encoding: 'br' }),
    '/rdf.xml': serve(fixture('rdf.xml'), 'application/rdf+xml', { encoding: 'gzip' }),
    // No charset in the header: the XML declaration says ISO-8859-1.
    '/latin1.xml': serve(fixture('latin1.xml'), 'application/rss+xml'),
    '/undated.xml': serve(fixture('undated.xml'), RSS, { validators: false }),
    '/malformed.xml': serve(fixture('malformed.xml'), RSS),
    '/html-page': serve('<!doctype html><html><body>Not a feed</body></html>', 'text/html'),
    '/hang.xml': hang,
    '/huge.xml': huge(50 * 1024 * 1024, sent),
    // 5 MB of feed in 5 kB of gzip: the limit counts what it decodes to.
    '/bomb.xml': serve(`<rss version="2.0"><channel><title>${' '.repeat(5_000_000)}</title></channel></rss>`, RSS, { encoding: 'gzip' }),
    '/dup-a.xml': serve(fixture('dup-a.xml'), RSS),
    '/dup-b.xml': serve(fixture('dup-b.xml'), RSS),
    '/hostile.xml': serve(fixture('hostile.xml'), RSS),
    '/to-metadata': redirect('http://169.254.169.254/latest/meta-data/'),
    '/to-private': redirect('http://10.1.2.3/feed.xml'),
    '/to-file': redirect('file:///etc/passwd'),
    '/to-ftp': redirect('ftp://127.0.0.1/feed.xml'),
    '/loop': redirect('/loop'),
    // JSON.parse quotes the start of the body in its error: here an escape that retitles the terminal.
    // Answers two readers at the same instant, once both have asked: two runs then write at once.
    '/together.xml': together(2, serve(`<rss version="2.0"><channel><title>Busy</title>${Array.from({ length: 200 }, (_, i) => `<item><title>Busy story ${i} of the day</title><link>https://busy.example/${i}</link><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>`).join('')}</channel></rss>`, RSS, { validators: false })),
    '/always-304': (_req, res) => {
      res.writeHead(304);
      res.end();
    },
    '/bidi.xml': serve('<rss version="2.0"><channel><title>B</title><item><title>Invoice \u202Efdp.exe</title><link>https://bidi.example/1</link></item></channel></rss>', RSS),
    '/escapes.json': serve('{"title": \u001b]0;owned\u0007\u001b[2J', 'application/feed+json'),
  };

  before(async () => {
    server = await startFeedServer(routes);
  });
  after(async () => {
    await server.close();
  });

  it('reads RSS 2.0, Atom (behind redirects), JSON Feed (br), RDF (gzip) and ISO-8859-1, then nothing new on a second run', async () => {
    const root = await siteWith(
      [
        { name: 'Lab Blog', url: server.url('/rss2.xml'), topics: ['Meta'], score: 7 },
        { name: 'Research Notes', url: server.url('/old-atom') },
        { name: 'JSON Newsroom', url: server.url('/feed.json') },
        { name: 'arXiv cs.CL', url: server.url('/rdf.xml') },
        { name: 'Latin', url: server.url('/latin1.xml') },
      ],
      { topicRules: { llama: 'Llama', '/sparse\\s+attention/': 'Attention' } },
    );
    const { run, report } = await fetchNews(root);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(report!.sources.map((s) => [s.name, s.status]), [
      ['Lab Blog', 'fetched'],
      ['Research Notes', 'fetched'],
      ['JSON Newsroom', 'fetched'],
      ['arXiv cs.CL', 'fetched'],
      ['Latin', 'fetched'],
    ]);
    const byTitle = new Map([...(await items(root)).values()].map((i) => [i.title, i]));
    assert.deepEqual([...byTitle.keys()].sort(), [
      'A plain text item <not markup>',
      'Assistant update ships to all users',
      'Café crème: été naïve',
      'Introducing Llama 5: open weights for everyone',
      'Only content:encoded here',
      'Scaling laws revisited & tested',
      'Sparse attention in practice',
      'Tokenizer-free language models at scale',
    ]);
    const llama = byTitle.get('Introducing Llama 5: open weights for everyone')!;
    assert.equal(llama.source, 'Lab Blog');
    assert.equal(llama.score, 7);
    assert.deepEqual(llama.topics, ['Meta', 'Llama']);
    assert.equal(llama.published, Date.parse('2026-11-30T16:00:00Z'));
    // The description, not content:encoded; the relative link made absolute; the image gone.
    assert.match(llama.summary, /\*\*Llama 5\*\*/);
    assert.match(llama.summary, /\[paper\]\(https:\/\/lab\.example\/blog\/llama-5\/paper\)/);
    assert.doesNotMatch(llama.summary, /Full post|img|x\.png/);
    assert.match(byTitle.get('Only content:encoded here')!.summary, /^-\s+one$/m);
    assert.match(byTitle.get('Scaling laws revisited & tested')!.summary, /\*\*bold\*\*/);
    assert.match(byTitle.get('Sparse attention in practice')!.summary, /\[link to the code\]\(https:\/\/notes\.example\/code\)/);
    assert.deepEqual(byTitle.get('Sparse attention in practice')!.topics, ['Attention']);
    assert.equal(byTitle.get('Assistant update ships to all users')!.published, Date.parse('2026-12-03T12:15:00Z'));
    assert.match(byTitle.get('A plain text item <not markup>')!.summary, /<b>angle brackets<\/b>/, 'plain text stays text (escaped when rendered)');
    assert.equal(byTitle.get('Café crème: été naïve')!.summary, 'Résumé à la française.');
    const files = [...(await items(root)).keys()];
    assert.ok(files.includes('content/news/2026/11/introducing-llama-5-open-weights-for-everyone.md'), files.join('\n'));
    // The feeds were asked for with the site's User-Agent.
    const asked = server.requests.find((r) => r.path === '/rss2.xml')!;
    assert.equal(asked.headers['user-agent'], 'Almanac/0.1.0 (+http://localhost:4000)');

    const before = server.requests.length;
    const second = await fetchNews(root);
    assert.equal(second.run.code, 0);
    assert.deepEqual(second.report!.added, []);
    assert.deepEqual(second.report!.sources.map((s) => s.status), ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const conditional = server.requests.slice(before).find((r) => r.path === '/rss2.xml')!;
    assert.ok(conditional.headers['if-none-match'], 'the ETag is sent back');
    assert.equal(conditional.headers['if-modified-since'], 'Tue, 01 Dec 2026 00:00:00 GMT');
  });

  it('skips what is already there, even when the feed has no validators, and entries without a link or title; dates the undated at fetch time', async () => {
    const root = await siteWith([{ name: 'Sloppy', url: server.url('/undated.xml') }]);
    const first = await fetchNews(root);
    assert.equal(first.run.code, 0, first.run.stderr);
    assert.deepEqual(first.report!.added.map((a) => a.title).sort(), ['A guid that is a permalink', 'An entry without a date']);
    assert.deepEqual(first.report!.skipped.map((s) => s.reason).sort(), ['no link', 'no title']);
    const undated = [...(await items(root)).values()].find((i) => i.title === 'An entry without a date')!;
    assert.equal(undated.published, Date.parse(NOW));
    const second = await fetchNews(root);
    assert.equal(second.report!.sources[0]!.status, 'fetched');
    assert.deepEqual(second.report!.added, []);
    assert.equal(second.report!.skipped.filter((s) => s.reason.startsWith('already present: content/news/')).length, 2);
    const text = await runMain(['news', 'fetch', '--root', root, '--now', NOW]);
    assert.equal(text.code, 0);
    assert.equal(
      text.stdout,
      [
        'Skipped "An entry without a link" (Sloppy): no link',
        'Skipped "(untitled)" (Sloppy): no title',
        'Skipped 2 entries already present (--json lists them)',
        '0 added, 4 skipped; 1 source: 1 read, 0 unchanged, 0 failed',
        '',
      ].join('\n'),
    );
  });

  it('never overwrites an edited file and does not bring back one the editor deleted', async () => {
    const root = await siteWith([{ name: 'Sloppy', url: server.url('/undated.xml') }]);
    await fetchNews(root);
    const files = [...(await items(root)).keys()];
    const edited = files.find((f) => f.endsWith('an-entry-without-a-date.md'))!;
    const removed = files.find((f) => f.endsWith('a-guid-that-is-a-permalink.md'))!;
    const text = (await readFile(path.join(root, edited), 'utf8')).replace('score: 5', 'score: 9');
    await writeFile(path.join(root, edited), text);
    await rm(path.join(root, removed));
    const again = await fetchNews(root);
    assert.deepEqual(again.report!.added, []);
    assert.equal(await readFile(path.join(root, edited), 'utf8'), text);
    assert.ok(!existsSync(path.join(root, removed)));
    assert.ok(again.report!.skipped.some((s) => s.reason === `fetched before into ${removed}, since removed`), JSON.stringify(again.report!.skipped));
  });

  it('a hanging server, a 50 MB feed, malformed XML, an HTML page and a 404 fail on their own, named, and the rest is read', async () => {
    const root = await siteWith(
      [
        { name: 'Hangs', url: server.url('/hang.xml') },
        { name: 'Huge', url: server.url('/huge.xml') },
        { name: 'Bomb', url: server.url('/bomb.xml') },
        { name: 'Broken', url: server.url('/malformed.xml') },
        { name: 'Page', url: server.url('/html-page') },
        { name: 'Gone', url: server.url('/nothing-here.xml') },
        { name: 'Stale', url: server.url('/always-304') },
        { name: 'JSON Newsroom', url: server.url('/feed.json') },
      ],
      { intake: { timeoutSeconds: 0.5, maxFeedBytes: 1_000_000 } },
    );
    const started = Date.now();
    const { run, report } = await fetchNews(root);
    const took = Date.now() - started;
    assert.equal(run.code, 0, 'one source worked');
    const error = (name: string) => report!.sources.find((s) => s.name === name)!.error ?? '';
    assert.match(error('Hangs'), /no complete answer within 0\.5 s/);
    assert.match(error('Huge'), /larger than the limit of 1,000,000 bytes/);
    assert.ok(sent.bytes < 20 * 1024 * 1024, `the server stopped being read early (${sent.bytes} bytes sent)`);
    assert.match(error('Bomb'), /larger than the limit of 1,000,000 bytes/);
    assert.match(error('Broken'), /expected an RSS, Atom or JSON feed, found XML that is not well-formed \(line \d+/);
    assert.match(error('Page'), /found an HTML page/);
    assert.match(error('Gone'), /HTTP 404/);
    assert.match(error('Stale'), /HTTP 304 \(not modified\) to a request that named no version/);
    assert.equal(report!.added.length, 2);
    assert.ok(took < 4000, `bounded by the deadline (${took} ms)`);

    const text = await runMain(['news', 'fetch', '--root', root, '--now', NOW, '--source', 'Broken']);
    assert.equal(text.code, 1, 'no source worked');
    assert.match(text.stdout, new RegExp(`Failed Broken \\(${server.url('/malformed.xml').replace(/[.]/g, '\\.')}\\): expected an RSS`));
  });

  it('two runs at once write each story once: the second waits for the first and finds its files', async () => {
    const root = await siteWith([{ name: 'Busy', url: server.url('/together.xml') }], { intake: { maxNewPerSource: 500 } });
    const run = () => almanac(['news', 'fetch', '--root', root, '--now', NOW, '--json']);
    const [a, b] = await Promise.all([run(), run()]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const added = [JSON.parse(a.stdout) as FetchReport, JSON.parse(b.stdout) as FetchReport].map((r) => r.added.length).sort((x, y) => x - y);
    assert.deepEqual(added, [0, 200]);
    assert.equal((await items(root)).size, 200);
  });

  it('a feed\'s own words in an error reach the terminal as escapes, not as control characters', async () => {
    const root = await siteWith([{ name: 'Escapes', url: server.url('/escapes.json') }]);
    const text = await runMain(['news', 'fetch', '--root', root, '--now', NOW]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /Failed Escapes .*found JSON that does not parse/);
    assert.doesNotMatch(text.stdout, /[\u0000-\u0009\u000b-\u001f\u007f]/);
    assert.match(text.stdout, /\\x1b\]0;owned\\x07/);

    const bidi = await siteWith([{ name: 'Bidi', url: server.url('/bidi.xml') }]);
    const added = await runMain(['news', 'fetch', '--root', bidi, '--now', NOW]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /"Invoice \\u202efdp\.exe"/, 'a title that reorders the line is shown with the override as an escape');
  });

  it('refuses redirects to private, link-local and non-http addresses, private sources unless allowed, and redirect loops', async () => {
    const root = await siteWith([
      { name: 'Metadata', url: server.url('/to-metadata') },
      { name: 'Private', url: server.url('/to-private') },
      { name: 'File', url: server.url('/to-file') },
      { name: 'Ftp', url: server.url('/to-ftp') },
      { name: 'Loop', url: server.url('/loop') },
    ]);
    const { run, report } = await fetchNews(root);
    assert.equal(run.code, 1);
    const error = (name: string) => report!.sources.find((s) => s.name === name)!.error ?? '';
    assert.match(error('Metadata'), /refused: 169\.254\.169\.254 is a link-local address/);
    assert.match(error('Private'), /refused: 10\.1\.2\.3 is a private address/);
    assert.match(error('File'), /refused: not an http\(s\) URL: file:/);
    assert.match(error('Ftp'), /refused: not an http\(s\) URL: ftp:/);
    assert.match(error('Loop'), /more than 5 redirects/);
    assert.ok(!server.requests.some((r) => r.path === '/feed.xml'));

    const strict = await tempSite();
    const port = new URL(server.origin).port;
    await writeFiles(strict, {
      'almanac.config.json': JSON.stringify({
        sources: [
          { name: 'Literal', url: server.url('/rss2.xml') },
          { name: 'By name', url: `http://localhost:${port}/rss2.xml` },
        ],
      }),
    });
    const refused = await fetchNews(strict);
    assert.equal(refused.run.code, 1);
    assert.match(refused.report!.sources[0]!.error!, /refused: 127\.0\.0\.1 is a loopback address/);
    assert.match(refused.report!.sources[1]!.error!, /refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
  });

  it('keeps one copy of a story told by two sources: same URL, or nearly the same headline the same week', async () => {
    const root = await siteWith([
      { name: 'Outlet A', url: server.url('/dup-a.xml') },
      { name: 'Outlet B', url: server.url('/dup-b.xml') },
    ]);
    const { report } = await fetchNews(root);
    assert.deepEqual(report!.added.map((a) => `${a.source}: ${a.title}`), [
      'Outlet A: Meta releases new open model family',
      'Outlet A: Shared story told twice',
      // A source's own similar headline, and another's months apart, are stories of their own.
      'Outlet A: Meta releases new open model family, part two',
      'Outlet B: Meta releases a new open model family',
    ]);
    assert.deepEqual(
      report!.skipped.map((s) => `${s.source}: ${s.reason}`).sort(),
      [
        'Outlet B: already present: content/news/2026/12/shared-story-told-twice.md',
        'Outlet B: near-duplicate of the headline of content/news/2026/12/meta-releases-new-open-model-family.md (Outlet A)',
      ],
    );
  });

  it('--dry-run writes nothing and keeps no validators; --source reads one; --since leaves older entries out', async () => {
    const root = await siteWith([
      { name: 'Lab Blog', url: server.url('/rss2.xml') },
      { name: 'JSON Newsroom', url: server.url('/feed.json') },
    ]);
    const dry = await fetchNews(root, '--dry-run');
    assert.equal(dry.report!.dryRun, true);
    assert.equal(dry.report!.added.length, 4);
    assert.equal((await items(root)).size, 0);
    assert.ok(!existsSync(path.join(root, '.almanac')), 'no database left behind');
    const one = await fetchNews(root, '--source', 'lab blog', '--since', '2026-12-01');
    const capped = await siteWith([{ name: 'JSON Newsroom', url: server.url('/feed.json') }], { intake: { maxNewPerSource: 1 } });
    const limited = await fetchNews(capped);
    assert.equal(limited.report!.added.length, 1);
    assert.deepEqual(limited.report!.skipped.map((s) => s.reason), ['over the limit of 1 new items from one source in a run (intake.maxNewPerSource)']);
    const rest = await fetchNews(capped);
    assert.equal(rest.report!.sources[0]!.status, 'fetched', 'read in full again, not answered 304');
    assert.equal(rest.report!.added.length, 1);
    assert.deepEqual(one.report!.sources.map((s) => [s.name, s.status]), [['Lab Blog', 'fetched']], 'the dry run kept no ETag to answer 304 to');
    assert.deepEqual(one.report!.added.map((a) => a.title), ['Only content:encoded here']);
    assert.deepEqual(one.report!.skipped.map((s) => s.reason), ['published before --since']);
    const unknown = await runMain(['news', 'fetch', '--root', root, '--source', 'Nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no source named "Nope"/);
    const badSince = await runMain(['news', 'fetch', '--root', root, '--since', 'last week']);
    assert.equal(badSince.code, 2);
  });

  it('hostile text stays text: files parse back, and neither the site nor the issue carries markup from the feed', async () => {
    const root = await siteWith([
      { name: 'Hostile', url: server.url('/hostile.xml') },
      { name: 'JSON Newsroom', url: server.url('/feed.json') },
    ], { baseUrl: 'https://letters.example' });
    const { run, report } = await fetchNews(root);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(report!.skipped.some((s) => s.reason === 'a link that is not an absolute http(s) URL'));
    // Stories an email could not link to would stop the issue at its link check.
    for (const url of ['http://plain.example/story', 'https://127.0.0.1/story']) {
      assert.match(report!.skipped.find((s) => s.url === url)?.reason ?? 'not skipped', /a link an email cannot carry/, url);
    }
    const all = await items(root);
    const titles = [...all.values()].map((i) => i.title).sort();
    assert.ok(titles.includes('--- injected: true ---'), titles.join('\n'));
    assert.ok(titles.includes('Ctrl chars and a newline # in the title: yes') || titles.includes('Ctrlchars and a newline # in the title: yes'), titles.join('\n'));
    assert.ok(titles.includes('Title with markup'), titles.join('\n'));
    for (const [file, item] of all) {
      const raw = await readFile(path.join(root, file), 'utf8');
      assert.doesNotMatch(raw, /<script|onerror|onclick|onmouseover|<iframe|<img|<svg|<style|<form/i, file);
      const html = renderSummaryText(item.summary);
      assert.doesNotMatch(html, /<(?!\/?(p|a|strong|em|ul|ol|li|code|pre|blockquote|br)\b)[a-z]/i, `${file}: only what a summary renders`);
      assert.doesNotMatch(html, /href="(?!https:|mailto:)/i, `${file}: only https and mailto links`);
      assert.ok(!('injected' in item), file);
    }
    const hostile = [...all.values()].find((i) => i.url === 'https://hostile.example/1')!;
    assert.match(hostile.summary, /\[that\]\(https:\/\/ok\.example\/\)/);
    // Emails link only to https: an http link keeps its text, or the issue would not build.
    assert.match(hostile.summary, /\bplain http\b/);
    assert.doesNotMatch(hostile.summary, /http:\/\/plain/);
    assert.match(hostile.summary, /\bthe admin page\b/);
    assert.doesNotMatch(hostile.summary, /127\.0\.0\.1/);

    const built = await runMain(['build', '--root', root, '--now', NOW]);
    assert.equal(built.code, 0, built.stderr);
    const issue = await runMain(['issue', 'build', 'sunday', '--date', '2026-12-06', '--root', root, '--now', '2026-12-06T07:00:00Z']);
    assert.equal(issue.code, 0, issue.stderr);
    const id = issue.stdout.trim().split(/\s+/).find((w) => /^\d{4}-\d{2}-\d{2}-sunday$/.test(w)) ?? '2026-12-06-sunday';
    const email = await readFile(path.join(root, 'dist/issues', id, 'email.html'), 'utf8');
    assert.match(email, /Assistant update ships to all users/);
    const pages = await readdir(path.join(root, 'dist'), { recursive: true });
    for (const page of pages.filter((p) => p.endsWith('.html'))) {
      const html = await readFile(path.join(root, 'dist', page), 'utf8');
      // The feed's text may show as written ("![img](javascript:…)" in a sentence), never as markup.
      assert.doesNotMatch(html, /<script>alert|<img src=x|\son(error|click|mouseover)=|(href|src)="(javascript|data):/i, page);
    }
  });
});
