// Editions of any name: a third "monthly" edition with its own cron, label and templates, built,
// listed and subscribed to like Midweek and Sunday; readers of an edition the config drops are kept;
// and the window rule over any set of editions.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { editionNames, issueWindow, localDate, nextSlot, previousSlot, slotOn } from '../src/compose/slots.ts';
import { loadConfig } from '../src/content/config.ts';
import { configSchema } from '../src/content/config-schema.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { createApp } from '../src/server/app.ts';
import { ConfirmationQueue } from '../src/store/confirmations.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteLedger } from '../src/store/ledger.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { signReturnToken, signToken, verifyReturnToken } from '../src/mail/signing.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const BUILT_IN = fileURLToPath(new URL('../templates/email/pages/', import.meta.url));
const SECRET = 'editions-secret-0123456789abcdef01234';

const THREE = {
  baseUrl: 'https://letters.example.org',
  from: 'Letters <letters@letters.example.org>',
  editions: {
    midweek: {},
    sunday: {},
    monthly: { cron: '0 9 1 * *', label: 'The Month', maxItems: 3 },
  },
};

let counter = 0;
function news(title: string, published: string, score = 5): [string, string] {
  counter++;
  return [
    `content/news/n${counter}.md`,
    `---\ntitle: ${JSON.stringify(title)}\nurl: "https://news.example.com/${counter}"\nsource: Example Wire\npublished: ${published}\nscore: ${score}\ntopics: [Meta]\n---\nSummary of ${title}.\n`,
  ];
}

/** A site with three editions, news for one issue of each, and monthly's own email templates. */
async function threeEditionSite(): Promise<string> {
  const root = await tempSite();
  const mjml = await readFile(path.join(BUILT_IN, 'issue.mjml.hbs'), 'utf8');
  const text = await readFile(path.join(BUILT_IN, 'issue.txt.hbs'), 'utf8');
  assert.ok(mjml.includes('{{issue.editionLabel}} #{{issue.number}}</strong>'));
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify(THREE),
    'templates/email/pages/issue.monthly.mjml.hbs': mjml.replace('{{issue.editionLabel}} #{{issue.number}}</strong>', '{{issue.editionLabel}} #{{issue.number}} · Monthly round-up</strong>'),
    'templates/email/pages/issue.monthly.txt.hbs': `THE MONTH IN ONE PAGE\n${text}`,
    ...Object.fromEntries([
      news('Before the Sunday issue', '2026-04-11T10:00:00Z'),
      news('Between Sunday and Midweek', '2026-04-13T10:00:00Z', 8),
      news('Early in the last week of April', '2026-04-27T10:00:00Z'),
      news('Just before the month turns', '2026-04-30T10:00:00Z', 9),
    ]),
  });
  return root;
}

async function built(root: string, id: string): Promise<{ html: string; text: string; json: { edition: string; editionLabel: string; window: { from: number; to: number } } }> {
  const dir = path.join(root, 'dist', 'issues', id);
  return {
    html: await readFile(path.join(dir, 'email.html'), 'utf8'),
    text: await readFile(path.join(dir, 'email.txt'), 'utf8'),
    json: JSON.parse(await readFile(path.join(dir, 'issue.json'), 'utf8')),
  };
}

describe('editions of any name', () => {
  it('builds an issue of each of three editions; the monthly one covers from the last slot of any edition and uses its own templates', async () => {
    const root = await threeEditionSite();
    const ids: Record<string, string> = { sunday: '2026-04-12', midweek: '2026-04-15', monthly: '2026-05-01' };
    for (const [edition, date] of Object.entries(ids)) {
      const run = await almanac(['issue', 'build', edition, '--date', date, '--root', root, '--now', '2026-05-02T00:00:00Z']);
      assert.equal(run.code, 0, `${edition}: ${run.stderr}`);
      assert.equal(run.stdout.trim(), `${date}-${edition}`);
    }
    const monthly = await built(root, '2026-05-01-monthly');
    assert.equal(monthly.json.editionLabel, 'The Month');
    // The previous slot of any edition before 1 May 09:00 is Midweek's, Wednesday 29 April 07:00.
    assert.deepEqual(monthly.json.window, { from: Date.parse('2026-04-29T07:00:00Z'), to: Date.parse('2026-05-01T09:00:00Z') });
    assert.match(monthly.html, /The Month #\d+ · Monthly round-up/);
    assert.match(monthly.text, /^THE MONTH IN ONE PAGE\n/);
    assert.match(monthly.text, /Just before the month turns/);
    assert.doesNotMatch(monthly.text, /Early in the last week of April/, 'published before Midweek of 29 April');

    for (const id of ['2026-04-12-sunday', '2026-04-15-midweek']) {
      const other = await built(root, id);
      assert.doesNotMatch(other.html, /Monthly round-up/, `${id} uses the shared template`);
      assert.doesNotMatch(other.text, /THE MONTH IN ONE PAGE/, id);
    }
    // check: the next issue of every edition, and a template of an edition the config does not have.
    await writeFiles(root, { 'templates/email/pages/issue.weekly.txt.hbs': 'Weekly\n' });
    const check = await almanac(['check', '--json', '--root', root, '--now', '2026-04-30T12:00:00Z']);
    assert.equal(check.code, 0, check.stderr);
    const checked = JSON.parse(check.stdout) as { warnings: { file: string; expected: string; found: string }[]; problems?: { file: string }[] };
    assert.deepEqual(
      checked.warnings.filter((w) => w.file.endsWith('issue.weekly.txt.hbs')).map((w) => [w.expected, w.found]),
      [['a template of an edition of almanac.config.json (midweek, sunday or monthly); only those are used', 'one for "weekly"']],
      check.stdout,
    );

    const midweek = await built(root, '2026-04-15-midweek');
    assert.deepEqual(midweek.json.window, { from: Date.parse('2026-04-12T08:00:00Z'), to: Date.parse('2026-04-15T07:00:00Z') });
    assert.match(midweek.text, /Between Sunday and Midweek/);
    assert.doesNotMatch(midweek.text, /Before the Sunday issue/);
  });

  it('a Sunday after the first of the month covers from the monthly issue, not from Midweek', async () => {
    const config = configSchema.parse(THREE);
    const slot = slotOn(config, 'sunday', '2026-04-05')!;
    // Midweek went out Wednesday 1 April at 07:00, the monthly issue the same day at 09:00.
    assert.deepEqual(issueWindow(config, slot), { from: Date.parse('2026-04-01T09:00:00Z'), to: Date.parse('2026-04-05T08:00:00Z') });
  });

  it('refuses an edition the config does not have, listing the ones it does, in every command that takes one', async () => {
    const root = await threeEditionSite();
    const runs = [
      ['issue', 'build', 'weekly', '--date', '2026-04-15'],
      ['issue', 'new', 'weekly', '--date', '2026-04-15'],
      ['subscribers', 'list', '--edition', 'weekly'],
      ['subscribers', 'export', '--edition', 'weekly'],
    ];
    for (const args of runs) {
      const run = await almanac([...args, '--root', root, '--now', '2026-04-14T00:00:00Z']);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /midweek, sunday or monthly \(the editions of almanac\.config\.json\), found "weekly"/, args.join(' '));
    }
    const add = await almanac(['subscribers', 'add', 'ann@example.com', '--editions', 'monthly,weekly', '--root', root]);
    assert.equal(add.code, 2);
    assert.match(add.stderr, /--editions expects editions of this site \(midweek, sunday, monthly, "midweek sunday", or empty for all\), found "monthly,weekly"/);
  });

  it('lists three editions in schedule --list and status, and the subscribe form offers three', async () => {
    const root = await threeEditionSite();
    const now = '2026-04-14T00:00:00Z';
    const schedule = await almanac(['schedule', '--list', '--json', '--root', root, '--now', now]);
    assert.equal(schedule.code, 0, schedule.stderr);
    const list = JSON.parse(schedule.stdout) as { editions: { edition: string; label: string; cron: string; next: string[] }[] };
    assert.deepEqual(
      list.editions.map((e) => [e.edition, e.label, e.cron, e.next[0]]),
      [
        ['midweek', 'Midweek', '0 7 * * 3', '2026-04-15T07:00:00.000Z'],
        ['sunday', 'Sunday', '0 8 * * 0', '2026-04-19T08:00:00.000Z'],
        ['monthly', 'The Month', '0 9 1 * *', '2026-05-01T09:00:00.000Z'],
      ],
    );
    const status = await almanac(['status', '--json', '--root', root, '--now', now]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual((JSON.parse(status.stdout) as { editions: { edition: string }[] }).editions.map((e) => e.edition), ['midweek', 'sunday', 'monthly']);

    await writeFiles(root, { 'content/guides/good/guide.md': '---\ntitle: Good\nlevel: beginner\ntopics: [Meta]\ntldr: Short.\ntakeaways: [One]\n---\n\n## A\n\nBody.\n' });
    assert.equal((await almanac(['guide', 'publish', 'good', '--note', 'first', '--root', root, '--now', now])).code, 0);
    const build = await almanac(['build', '--root', root, '--now', now]);
    assert.equal(build.code, 0, build.stderr);
    const page = await readFile(path.join(root, 'dist', 'guides', 'good', 'index.html'), 'utf8');
    const boxes = [...page.matchAll(/<input type="checkbox" name="editions" value="([^"]+)" checked> ([^<\n]+)/g)].map((m) => [m[1], m[2]!.trim()]);
    assert.deepEqual(boxes, [['midweek', 'Midweek'], ['sunday', 'Sunday'], ['monthly', 'The Month']]);
    assert.match(page, /Midweek, Sunday &amp; The Month/);
  });

  it('signs up for the edition chosen, offers every configured edition on the preferences page, and keeps an edition the config dropped', async () => {
    const root = await threeEditionSite();
    const db = openDatabase(databasePath(root));
    const store = new SqliteSubscribers(db);
    const { config } = await loadConfig(root);
    const templates = await TemplateSet.load(root, 'site');
    const server = http.createServer(
      createApp({
        distDir: path.join(root, 'dist'),
        config,
        subscribers: store,
        secret: SECRET,
        templates,
        confirmations: { queue: new ConfirmationQueue(db), wake: () => {} },
        clock: () => Date.parse('2026-04-14T00:00:00Z'),
        log: () => {},
        subscribeAnswerMs: 0,
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (url: string, body: string) =>
      fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base }, body });
    try {
      const res = await post('/subscribe', 'email=mona%40example.com&editions=monthly&editions=weekly');
      assert.ok(res.status < 400, `subscribe answered ${res.status}`);
      assert.deepEqual(store.find('mona@example.com')!.editions, ['monthly'], 'an edition the site does not have is ignored');
      await post('/subscribe', 'email=all%40example.com');
      assert.deepEqual(store.find('all@example.com')!.editions, ['midweek', 'monthly', 'sunday'], 'nothing ticked: every edition');

      // A reader still down for "weekly", an edition this config no longer has.
      const { subscriber } = store.upsert({ email: 'old@example.com', editions: ['sunday', 'weekly'], status: 'active' }, 0);
      const token = signToken(SECRET, { subscriber: subscriber.id, key: subscriber.tokenKey, purpose: 'preferences', expires: 0 });
      const page = await (await fetch(`${base}/preferences?token=${token}`)).text();
      const boxes = [...page.matchAll(/name="editions" value="([^"]+)"( checked)?/g)].map((m) => [m[1], Boolean(m[2])]);
      assert.deepEqual(boxes, [['midweek', false], ['sunday', true], ['monthly', false]]);
      assert.match(page, /You receive Sunday\./);
      const saved = await post(`/preferences?token=${token}`, 'editions=monthly&editions=midweek');
      assert.equal(saved.status, 200);
      assert.match(await saved.text(), /You receive Midweek and The Month\./);
      assert.deepEqual(store.find('old@example.com')!.editions, ['midweek', 'monthly', 'weekly'], 'the dropped edition stays on the row');

      // An issue goes to the active readers of its edition only: a reader of the dropped edition alone
      // gets nothing, and stays on the list.
      const ledger = new SqliteLedger(db);
      store.upsert({ email: 'weekly-only@example.com', editions: ['weekly'], status: 'active' }, 0);
      assert.equal(ledger.enqueue('2026-05-01-monthly', 'monthly', 0), 1, 'old@ (mona and all@ are still pending)');
      assert.equal(ledger.enqueue('2026-04-19-sunday', 'sunday', 0), 0);
      assert.equal(store.find('weekly-only@example.com')?.status, 'active');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      db.close();
    }
  });

  it('imports editions of the site, rejects another naming its line and value, and keeps a reader of a dropped edition', async () => {
    const root = await threeEditionSite();
    await writeFiles(root, { 'list.csv': 'email,editions\nann@example.com,monthly\nbob@example.com,"sunday monthly"\ncy@example.com,weekly\ndee@example.com,\n' });
    const run = await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Imported 3 new subscribers/);
    assert.match(run.stdout, /rejected .*list\.csv:4: editions: expected editions of this site: midweek, sunday, monthly, "midweek sunday", or empty for all, found "weekly"/);
    const listed = await almanac(['subscribers', 'list', '--edition', 'monthly', '--root', root]);
    assert.deepEqual(listed.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 3).join(' ')), ['ann@example.com  monthly', 'bob@example.com  monthly sunday', 'dee@example.com  midweek monthly sunday']);

    // The config drops monthly: its readers stay on the list with it; the other editions go on.
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ ...THREE, editions: { midweek: {}, sunday: {} } }) });
    const all = await almanac(['subscribers', 'list', '--root', root]);
    assert.match(all.stdout, /^ann@example\.com\t\tmonthly\tactive/m);
    assert.match(all.stdout, /^bob@example\.com\t\tmonthly sunday\tactive/m);
    const dropped = await almanac(['subscribers', 'list', '--edition', 'monthly', '--root', root]);
    assert.equal(dropped.code, 2);
    assert.match(dropped.stderr, /--edition expects midweek or sunday/);
  });

  it('a list exported before an edition was turned off imports into a new database with that edition kept', async () => {
    const root = await threeEditionSite();
    await writeFiles(root, { 'list.csv': 'email,editions\nann@example.com,monthly\nbob@example.com,"sunday monthly"\n' });
    assert.equal((await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
    const exported = await almanac(['subscribers', 'export', '--root', root]);
    assert.equal(exported.code, 0, exported.stderr);
    // Monthly turned off, and the list moved to a new database.
    await writeFiles(root, { 'almanac.config.json': JSON.stringify({ ...THREE, editions: { monthly: false } }), 'moved.csv': exported.stdout });
    await rm(databasePath(root), { force: true });
    const run = await almanac(['subscribers', 'import', path.join(root, 'moved.csv'), '--root', root]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Imported 2 new subscribers.*rejected 0 lines/);
    const all = await almanac(['subscribers', 'list', '--root', root]);
    assert.match(all.stdout, /^ann@example\.com\t\tmonthly\tactive/m);
    assert.match(all.stdout, /^bob@example\.com\t\tmonthly sunday\tactive/m);
    // A name the config never had is still a mistake.
    await writeFiles(root, { 'typo.csv': 'email,editions\ncy@example.com,monthy\n' });
    const typo = await almanac(['subscribers', 'import', path.join(root, 'typo.csv'), '--root', root]);
    assert.match(typo.stdout, /rejected .*typo\.csv:2: editions: expected editions of this site/);
  });

  it('signs a return path for an issue of any edition name, within the 64 characters of a local part', () => {
    for (const edition of ['monthly', 'ai-weekly-2', 'x'.repeat(15), 'a-']) {
      const claims = { purpose: 'bounce' as const, subscriber: 36 ** 10 - 1, issueId: `2026-05-01-${edition}` };
      const token = signReturnToken(SECRET, claims);
      assert.ok(token, edition);
      assert.ok(`bounces+${token}`.length <= 64, `${token.length} characters`);
      assert.deepEqual(verifyReturnToken(SECRET, token), claims, edition);
    }
  });

  it('moves the readers of a database from before, each edition flag to a row, and loses none', async () => {
    const root = await tempSite();
    const file = databasePath(root);
    // Open once to create the schema, then wind it back to the flag columns as the previous version left them.
    openDatabase(file).close();
    const raw = new Database(file);
    const version = raw.pragma('user_version', { simple: true }) as number;
    raw.exec(`DROP TABLE subscriber_editions;
      ALTER TABLE subscribers ADD COLUMN midweek INTEGER NOT NULL DEFAULT 1 CHECK (midweek IN (0, 1));
      ALTER TABLE subscribers ADD COLUMN sunday INTEGER NOT NULL DEFAULT 1 CHECK (sunday IN (0, 1));
      INSERT INTO subscribers (id, email, midweek, sunday, status, created_at, updated_at) VALUES
        (1, 'both@example.com', 1, 1, 'active', 0, 0), (2, 'mid@example.com', 1, 0, 'active', 0, 0),
        (3, 'sun@example.com', 0, 1, 'unsubscribed', 0, 0), (4, 'none@example.com', 0, 0, 'pending', 0, 0);`);
    raw.pragma(`user_version = ${version - 1}`);
    raw.close();
    const db = openDatabase(file);
    const store = new SqliteSubscribers(db);
    assert.deepEqual(
      [...store.list()].map((s) => [s.id, s.email, s.editions, s.status]),
      [
        [1, 'both@example.com', ['midweek', 'sunday'], 'active'],
        [2, 'mid@example.com', ['midweek'], 'active'],
        [3, 'sun@example.com', ['sunday'], 'unsubscribed'],
        [4, 'none@example.com', [], 'pending'],
      ],
    );
    assert.deepEqual(db.prepare("SELECT name FROM pragma_table_info('subscribers') WHERE name IN ('midweek', 'sunday')").all(), []);
    assert.equal(store.count({ edition: 'sunday' }), 2);
    assert.ok(store.remove('both@example.com'));
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM subscriber_editions WHERE subscriber_id = 1').get(), { n: 0 }, 'a removed reader leaves no edition rows');
    db.close();
  });
});

/** A lower-case slug name, as the config allows. */
const editionName = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
/** Crons that fire at most once a day, so that a date names one slot. */
const dailyCron = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 6 })).map(([m, h, d]) => `${m} ${h} * * ${d}`),
  fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 28 })).map(([m, h, d]) => `${m} ${h} ${d} * *`),
  fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 })).map(([m, h]) => `${m} ${h} * * 1-5`),
);

describe('editions: the window rule over any set of editions', () => {
  it('each issue covers from the latest earlier slot of any edition to its own, no slot falls inside, and its date names it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(editionName, dailyCron), { minLength: 1, maxLength: 5, selector: ([name]) => name }),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Auckland'),
        fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2028-12-31T00:00:00Z') }),
        fc.nat(),
        (editions, timezone, at, pick) => {
          // Midweek and Sunday are there unless turned off: off here unless drawn.
          const config = configSchema.parse({ timezone, editions: { midweek: false, sunday: false, ...Object.fromEntries(editions.map(([name, cron]) => [name, { cron }])) } });
          assert.deepEqual([...editionNames(config)].sort(), editions.map(([name]) => name).sort());
          const edition = editions[pick % editions.length]![0];
          const slot = nextSlot(config, edition, at);
          const { from, to } = issueWindow(config, slot);
          assert.equal(to, slot);
          assert.ok(from < to, `from ${new Date(from).toISOString()} before to ${new Date(to).toISOString()}`);
          assert.equal(from, Math.max(...editionNames(config).map((e) => previousSlot(config, e, slot))));
          // No edition goes out strictly inside the window: consecutive issues share their edges.
          for (const e of editionNames(config)) assert.ok(nextSlot(config, e, from) >= to, `${e} goes out inside the window`);
          assert.equal(slotOn(config, edition, localDate(config, slot)), slot);
        },
      ),
      { numRuns: 100 },
    );
  });
});
