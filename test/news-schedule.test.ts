// The scheduler fetches the news before it builds an issue (fetchBeforeIssue), and a fetch that fails
// never keeps the issue from going out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { slotRunner } from '../src/schedule/run-slot.ts';
import { fetchBeforeIssue } from '../src/intake/before-issue.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { IntakeStore } from '../src/store/intake.ts';
import { IssueStore } from '../src/store/issues.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { fixture, hang, serve, startFeedServer, type FeedServer } from './helpers/feed-server.ts';
import { MemoryLedger } from './helpers/memory-ledger.ts';

const SLOT = Date.parse('2026-12-06T08:00:00Z');
const SECRET = 'schedule-secret-0123456789abcdef';

async function site(config: object): Promise<string> {
  const root = await tempSite();
  await writeFiles(root, { 'almanac.config.json': JSON.stringify({ baseUrl: 'https://letters.example', ...config }) });
  return root;
}

function runner(root: string, logs: string[]) {
  const db = openDatabase(databasePath(root));
  const clock = () => SLOT;
  const run = slotRunner({
    root,
    secret: SECRET,
    ledger: new MemoryLedger([]),
    transport: { send: async () => undefined, close: () => undefined },
    clock,
    holder: 'test:1',
    holderAlive: () => true,
    beforeBuild: fetchBeforeIssue({ root, store: new IntakeStore(db), clock, log: (l) => logs.push(l) }),
  });
  return { run, db };
}

describe('fetch before each issue', () => {
  let server: FeedServer;
  before(async () => {
    server = await startFeedServer({ '/feed.json': serve(fixture('feed.json'), 'application/feed+json'), '/hang.xml': hang });
  });
  after(() => server.close());

  it('the slot fetches the sources first, and their items are in the issue it builds', async () => {
    const root = await site({ sources: [{ name: 'JSON Newsroom', url: server.url('/feed.json') }], intake: { allowPrivateSources: true } });
    const logs: string[] = [];
    const { run, db } = runner(root, logs);
    const outcome = await run.run('sunday', SLOT, new AbortController().signal);
    db.close();
    assert.equal(outcome.issueId, '2026-12-06-sunday', JSON.stringify(outcome));
    assert.deepEqual(logs, ['news fetch: 2 added, 0 skipped; 1 of 1 sources answered']);
    const stored = new IssueStore(root).get('2026-12-06-sunday')!;
    assert.ok(stored.html.includes('Assistant update ships to all users'));
  });

  it('a slot stopped while the sources are read stops reading them: SIGTERM ends a run in bounded time', async () => {
    const sources = Array.from({ length: 8 }, (_, i) => ({ name: `Slow ${i}`, url: server.url('/hang.xml') }));
    const root = await site({ sources, intake: { allowPrivateSources: true, timeoutSeconds: 30, concurrency: 2 } });
    const logs: string[] = [];
    const { run, db } = runner(root, logs);
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 300);
    await run.run('sunday', SLOT, stop.signal);
    db.close();
    const took = Date.now() - started;
    assert.ok(took < 10_000, `stopped after ${took} ms, not after every source's deadline`);
    assert.match(logs.join('\n'), /Slow 0 failed: stopped/);
  });

  it('a failing fetch is logged and the issue is built from the news already there; fetchBeforeIssue: false fetches nothing', async () => {
    const root = await site({ sources: [{ name: 'Gone', url: server.url('/missing.xml') }], intake: { allowPrivateSources: true } });
    await writeFiles(root, {
      'content/news/2026/12/hand.md': '---\ntitle: Written by hand\nurl: https://hand.example/1\nsource: Editor\npublished: 2026-12-04T10:00:00Z\nscore: 6\n---\n\nA summary.\n',
    });
    const logs: string[] = [];
    const { run, db } = runner(root, logs);
    const outcome = await run.run('sunday', SLOT, new AbortController().signal);
    db.close();
    assert.equal(outcome.issueId, '2026-12-06-sunday');
    assert.deepEqual(logs, ['news fetch: 0 added, 0 skipped; 0 of 1 sources answered', 'news fetch: Gone failed: HTTP 404']);

    const off = await site({ fetchBeforeIssue: false, sources: [{ name: 'JSON Newsroom', url: server.url('/feed.json') }], intake: { allowPrivateSources: true } });
    const before = server.requests.length;
    const offLogs: string[] = [];
    const second = runner(off, offLogs);
    const empty = await second.run.run('sunday', SLOT, new AbortController().signal);
    second.db.close();
    assert.equal(empty.state, 'empty');
    assert.equal(server.requests.length, before);
    assert.deepEqual(offLogs, []);
  });
});

describe('the preview lists what arrived since the last issue', () => {
  it('shows items news fetch wrote after the last scheduled issue, not older ones nor hand-written ones', async () => {
    const http = await import('node:http');
    const { Preview } = await import('../src/server/preview.ts');
    const root = await site({});
    const item = (slug: string, title: string) => ({
      [`content/news/2026/12/${slug}.md`]: `---\ntitle: ${JSON.stringify(title)}\nurl: https://x.example/${slug}\nsource: Wire\npublished: 2026-12-04T10:00:00Z\nscore: 6\n---\n\nA summary.\n`,
    });
    await writeFiles(root, { ...item('fresh', 'Fresh <b>from</b> the feed'), ...item('older', 'Fetched before the last issue'), ...item('hand', 'Written by hand') });
    const db = openDatabase(databasePath(root));
    const store = new IntakeStore(db);
    // The last scheduled issue before the clock is the Midweek of Wednesday 2 December, 07:00 UTC.
    store.recordArrivals([
      { story: 'https://x.example/fresh', file: 'content/news/2026/12/fresh.md', source: 'Wire', arrivedAt: Date.parse('2026-12-04T09:00:00Z') },
      { story: 'https://x.example/older', file: 'content/news/2026/12/older.md', source: 'Wire', arrivedAt: Date.parse('2026-12-02T06:00:00Z') },
    ]);
    const preview = new Preview({ root, clock: () => Date.parse('2026-12-05T12:00:00Z'), log: () => undefined, arrivals: (since) => store.arrivedSince(since) });
    await preview.reload();
    const server = http.createServer((req, res) => void preview.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      const section = /<h2>News arrived since the last issue \(([^)]*)\)<\/h2><ul class="plain">(.*?)<\/ul>/s.exec(page);
      assert.ok(section, page);
      assert.match(section[1]!, /Wed 2 Dec 2026 07:00/);
      assert.match(section[2]!, /<a href="https:\/\/x\.example\/fresh" rel="noopener noreferrer">Fresh &lt;b&gt;from&lt;\/b&gt; the feed<\/a>/);
      assert.match(section[2]!, /Wire · score 6 · content\/news\/2026\/12\/fresh\.md/);
      assert.doesNotMatch(section[2]!, /older|hand/);
    } finally {
      server.close();
      db.close();
    }
  });
});
