// Bounces polled over IMAP: a real IMAP server on loopback (hoodiecrow-imap) holds real-shaped DSNs,
// ARF reports and foreign mail; `bounces fetch` records each through the one classifier into the real
// SQLite store and marks it processed on the server (a keyword, or a move), so that nothing is
// applied twice: not by a second fetch, and not after a crash between recording and marking.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FetchReport } from '../src/cli/bounces.ts';
import { configSchema } from '../src/content/config-schema.ts';
import { MAX_REPORT_BYTES } from '../src/mail/bounce-classify.ts';
import { bounceRecorder } from '../src/mail/bounce-intake.ts';
import { ImapFailure, PROCESSED_KEYWORD, pollMailbox } from '../src/mail/imap-intake.ts';
import { returnAddress } from '../src/mail/signing.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { IMAP_PASSWORD, IMAP_USER, babblingServer, echoingServer, imapServer, silentServer, type ImapServer } from './helpers/imap.ts';
import { almanac } from './helpers/in-process.ts';

const SECRET = 'test-secret-0123456789abcdef-6f1c9a2e';
const ISSUE = '2026-04-15-midweek';
const DOMAIN = 'bounces.example.org';
const NOW = '2026-04-16T10:00:00Z';
const READERS = ['hard@example.com', 'complainer@example.com', 'soft@example.com'];

interface Site {
  root: string;
  ids: number[];
}

async function site(imap: Record<string, unknown>): Promise<Site> {
  const root = await tempSite();
  await writeFiles(root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap } }) });
  const db = openDatabase(databasePath(root, {}));
  try {
    const subscribers = new SqliteSubscribers(db);
    const ids = READERS.map((email) => subscribers.upsert({ email, status: 'active' }, Date.parse('2026-04-01T00:00:00Z')).subscriber.id);
    return { root, ids };
  } finally {
    db.close();
  }
}

function loopback(server: { port: number }, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: '127.0.0.1', port: server.port, secure: false, starttls: false, user: IMAP_USER, timeoutSeconds: 2, ...more };
}

/** A fixture with a reader's signed return path and mailto address filled in, as it arrives. */
async function fixture(name: string, subscriber: number, messageId?: string): Promise<string> {
  const text = await readFile(path.join(PROJECT, 'test/fixtures/bounces', name), 'latin1');
  const filled = text
    .replaceAll('%RETURN%', returnAddress(SECRET, DOMAIN, { purpose: 'bounce', subscriber, issueId: ISSUE })!)
    .replaceAll('%UNSUB%', returnAddress(SECRET, DOMAIN, { purpose: 'unsubscribe', subscriber, issueId: ISSUE })!);
  const withId = messageId ? filled.replace(/^Message-I[dD]: .*$/m, `Message-ID: <${messageId}>`) : filled;
  return withId.replace(/\r?\n/g, '\r\n');
}

/** The three messages of most cases: a hard bounce, a complaint and a foreign report. */
async function threeReports(s: Site): Promise<string[]> {
  return [await fixture('dsn-hard.eml', s.ids[0]!), await fixture('arf-abuse.eml', s.ids[1]!), await fixture('foreign-dsn.eml', 0)];
}

function fetch(root: string, env: NodeJS.ProcessEnv = {}) {
  return almanac(['bounces', 'fetch', '--json', '--root', root, '--now', NOW], { env: { ALMANAC_SECRET: SECRET, BOUNCES_IMAP_PASSWORD: IMAP_PASSWORD, ...env } });
}

/** Each reader's status, and how many events the store holds. */
function stored(s: Site): { statuses: string[]; events: number; history: number[] } {
  const db = openDatabase(databasePath(s.root, {}));
  try {
    const subscribers = new SqliteSubscribers(db);
    const count = (id: number) => db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM mail_events WHERE subscriber_id = ? AND kind != 'ignored'").get(id)!.n;
    return {
      statuses: s.ids.map((id) => subscribers.get(id)!.status),
      events: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM mail_events').get()!.n,
      history: s.ids.map(count),
    };
  } finally {
    db.close();
  }
}

const flagsOf = (server: ImapServer, box = 'INBOX') => server.messages(box)!.map((m) => [...m.flags].sort());

async function withServer<T>(server: { close(): Promise<void> }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await server.close();
  }
}

describe('bounces fetch (IMAP)', () => {
  it('a DSN, an ARF report and a foreign message: bounced, unsubscribed (complaint), ignored; each flagged; a second fetch adds nothing, a new message is taken', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s) });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server) } }) });
    await withServer(server, async () => {
      const run = await fetch(s.root);
      assert.equal(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout) as FetchReport;
      assert.deepEqual(
        report.messages.map((m) => [m.source, m.kind, m.email, m.changed]),
        [
          ['imap:INBOX:1', 'hard', READERS[0], { from: 'active', to: 'bounced' }],
          ['imap:INBOX:2', 'complaint', READERS[1], { from: 'active', to: 'unsubscribed' }],
          ['imap:INBOX:3', 'ignored', null, null],
        ],
      );
      assert.deepEqual(report.counts, { hard: 1, soft: 0, complaint: 1, unsubscribe: 0, ignored: 1 });
      assert.deepEqual([report.failed, report.waiting], [[], 0]);
      assert.deepEqual(stored(s), { statuses: ['bounced', 'unsubscribed', 'active'], events: 3, history: [1, 1, 0] });
      assert.deepEqual(flagsOf(server), [[PROCESSED_KEYWORD, '\\Seen'], [PROCESSED_KEYWORD, '\\Seen'], [PROCESSED_KEYWORD, '\\Seen']]);

      const again = await fetch(s.root);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual((JSON.parse(again.stdout) as FetchReport).messages, [], 'flagged messages are not read again');
      assert.equal(stored(s).events, 3, 'nothing recorded, not even as a replay');

      server.deliver(await fixture('dsn-soft.eml', s.ids[2]!));
      const human = await almanac(['bounces', 'fetch', '--root', s.root, '--now', NOW], { env: { ALMANAC_SECRET: SECRET, BOUNCES_IMAP_PASSWORD: IMAP_PASSWORD } });
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`^imap:INBOX:4\tsoft\t${READERS[2]} ${ISSUE}\t`, 'm'));
      assert.equal(human.stdout.trim().split('\n').length, 1, 'only the new message');
      assert.match(human.stderr, /^0 hard bounce\(s\), 1 soft, 0 complaint\(s\), 0 unsubscribe\(s\), 0 ignored$/m);
    });
  });

  for (const move of [true, false]) {
    it(`move mode (${move ? 'MOVE' : 'a server without MOVE: COPY and EXPUNGE'}): the folder is created and the processed messages leave the mailbox`, async () => {
      const s = await site({});
      const server = await imapServer({ messages: await threeReports(s), move });
      await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server, { processed: { moveTo: 'Almanac/Processed' } }) } }) });
      await withServer(server, async () => {
        assert.equal(server.messages('Almanac/Processed'), undefined);
        const run = await fetch(s.root);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual((JSON.parse(run.stdout) as FetchReport).messages.map((m) => m.kind), ['hard', 'complaint', 'ignored']);
        assert.deepEqual(server.messages('INBOX'), []);
        const moved = server.messages('Almanac/Processed')!;
        assert.equal(moved.length, 3);
        assert.ok(moved.every((m) => m.flags.includes(PROCESSED_KEYWORD)), 'the keyword goes with them');
        assert.deepEqual(stored(s).statuses, ['bounced', 'unsubscribed', 'active']);
        const again = await fetch(s.root);
        assert.deepEqual((JSON.parse(again.stdout) as FetchReport).messages, []);
        assert.equal(stored(s).events, 3);
      });
    });
  }

  it('move mode on a server whose folders sit under "INBOX." (Courier, Cyrus): the folder is found again on later polls, not created again', async () => {
    const s = await site({});
    const server = await imapServer({ messages: [await fixture('dsn-hard.eml', s.ids[0]!)], prefix: 'INBOX.' });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server, { processed: { moveTo: 'Processed' } }) } }) });
    await withServer(server, async () => {
      const first = await fetch(s.root);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(server.messages('INBOX.Processed')!.length, 1);
      server.deliver(await fixture('arf-abuse.eml', s.ids[1]!));
      const second = await fetch(s.root);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual((JSON.parse(second.stdout) as FetchReport).messages.map((m) => m.kind), ['complaint']);
      assert.deepEqual([server.messages('INBOX')!.length, server.messages('INBOX.Processed')!.length], [0, 2]);
    });
  });

  it('takes at most batchSize messages a poll, oldest first; the rest wait for the next', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s) });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server, { batchSize: 2 }) } }) });
    await withServer(server, async () => {
      const first = JSON.parse((await fetch(s.root)).stdout) as FetchReport;
      assert.deepEqual([first.messages.map((m) => m.source), first.waiting], [['imap:INBOX:1', 'imap:INBOX:2'], 1]);
      const second = JSON.parse((await fetch(s.root)).stdout) as FetchReport;
      assert.deepEqual([second.messages.map((m) => m.source), second.waiting], [['imap:INBOX:3'], 0]);
    });
  });

  it('a wrong password is the run\'s failure (exit 2) with the server\'s words, and changes nothing', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s) });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server) } }) });
    await withServer(server, async () => {
      const run = await fetch(s.root, { BOUNCES_IMAP_PASSWORD: 'wrong' });
      assert.equal(run.code, 2);
      assert.match(run.stderr, new RegExp(`^IMAP 127\\.0\\.0\\.1:${server.port}: expected a server that accepts the login of "${IMAP_USER}" and mailbox "INBOX", found login refused: Login failed: authentication failure; nothing was changed$`, 'm'));
      assert.doesNotMatch(run.stderr, /wrong/, 'the password never shows');
      assert.deepEqual(stored(s), { statuses: ['active', 'active', 'active'], events: 0, history: [0, 0, 0] });
      assert.deepEqual(flagsOf(server), [[], [], []]);
    });
  });

  it('a server that quotes the login command back in its refusal: the password is not printed', async () => {
    const echoing = await echoingServer();
    const s = await site({});
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(echoing) } }) });
    await withServer(echoing, async () => {
      for (const password of [IMAP_PASSWORD, 'say "hello" \\ friend']) {
        const run = await fetch(s.root, { BOUNCES_IMAP_PASSWORD: password });
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /found login refused: refused: \S+ LOGIN "bounces" "…"; nothing was changed$/m);
        for (const shown of ['correct', 'hello', 'friend']) assert.doesNotMatch(run.stderr + run.stdout, new RegExp(shown));
      }
    });
  });

  for (const greet of [false, true]) {
    it(`a server that ${greet ? 'greets and then' : 'accepts the connection and'} never answers: exit 2 within the deadline, nothing changed`, async () => {
      const hanging = await silentServer(greet);
      const s = await site({});
      await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(hanging, { timeoutSeconds: 0.3 }) } }) });
      await withServer(hanging, async () => {
        const started = Date.now();
        const run = await fetch(s.root);
        const took = Date.now() - started;
        assert.equal(run.code, 2, run.stderr);
        assert.equal(hanging.connections(), 1);
        assert.match(run.stderr, /found (Socket timeout \(ETIMEOUT\)|Failed to receive greeting .*\(GREETING_TIMEOUT\)); nothing was changed$/m);
        assert.ok(took < 5000, `ended after ${took} ms (deadline 0.3 s)`);
        assert.equal(stored(s).events, 0);
      });
    });
  }

  it('a server that keeps sending untagged lines and never completes an answer: exit 2 within timeoutSeconds, nothing changed', async () => {
    const babbling = await babblingServer(50);
    const s = await site({});
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(babbling, { timeoutSeconds: 0.3 }) } }) });
    await withServer(babbling, async () => {
      const started = Date.now();
      const run = await fetch(s.root);
      const took = Date.now() - started;
      assert.equal(run.code, 2, run.stderr);
      assert.equal(babbling.connections(), 1);
      assert.match(run.stderr, /found no complete answer within 0\.3 s; nothing was changed$/m);
      assert.ok(took < 5000, `ended after ${took} ms (0.3 s a command)`);
      assert.equal(run.stdout, '');
      assert.equal(stored(s).events, 0);
    });
  });

  it('a message larger than MAX_REPORT_BYTES is read only that far, recorded as ignored and marked like any other', async () => {
    const s = await site({});
    const big = `Subject: a very large report\r\nMessage-ID: <big@mx.example.net>\r\n\r\n${`${'x'.repeat(998)}\r\n`.repeat(10_600)}`;
    assert.ok(big.length > MAX_REPORT_BYTES);
    const server = await imapServer({ messages: [big, await fixture('dsn-hard.eml', s.ids[0]!)] });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server) } }) });
    await withServer(server, async () => {
      const run = await fetch(s.root);
      assert.equal(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout) as FetchReport;
      assert.deepEqual(report.messages.map((m) => [m.kind, m.text]), [['ignored', `larger than ${MAX_REPORT_BYTES} bytes`], ['hard', 'SMTP; 550 5.1.1 <reader@example.com>... User unknown']]);
      assert.deepEqual(flagsOf(server), [[PROCESSED_KEYWORD, '\\Seen'], [PROCESSED_KEYWORD, '\\Seen']]);
    });
  });

  it('"starttls": true and a server that does not offer STARTTLS: exit 2 before the login, nothing changed', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s) });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server, { starttls: true }) } }) });
    await withServer(server, async () => {
      const run = await fetch(s.root);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /found Server does not support STARTTLS; nothing was changed$/m);
      assert.deepEqual(flagsOf(server), [[], [], []]);
      assert.equal(stored(s).events, 0);
    });
  });

  it('a mailbox that keeps no keywords is refused in keyword mode (it would be read again every time) and works in move mode', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s), keywords: false });
    await withServer(server, async () => {
      await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server) } }) });
      const run = await fetch(s.root);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /does not keep keywords such as \$AlmanacProcessed; set bounces\.imap\.processed\.moveTo/);
      assert.equal(stored(s).events, 0);
      await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server, { processed: { moveTo: 'Processed' } }) } }) });
      const moved = await fetch(s.root);
      assert.equal(moved.code, 0, moved.stderr);
      assert.equal(server.messages('Processed')!.length, 3);
    });
  });

  it('the password comes from BOUNCES_IMAP_PASSWORD or the file BOUNCES_IMAP_PASSWORD_FILE names; without either, exit 1 naming it', async () => {
    const s = await site({});
    const server = await imapServer({ messages: [] });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server) } }) });
    await withServer(server, async () => {
      const none = await fetch(s.root, { BOUNCES_IMAP_PASSWORD: undefined });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /^environment: BOUNCES_IMAP_PASSWORD: expected the password of the bounces\.imap mailbox/m);
      const file = path.join(s.root, 'imap-password');
      await writeFile(file, `${IMAP_PASSWORD}\n`);
      const fromFile = await fetch(s.root, { BOUNCES_IMAP_PASSWORD: undefined, BOUNCES_IMAP_PASSWORD_FILE: file });
      assert.equal(fromFile.code, 0, fromFile.stderr);
      // The password pasted into the _FILE variable is not printed back as a file that could not be read.
      const pasted = await fetch(s.root, { BOUNCES_IMAP_PASSWORD: undefined, BOUNCES_IMAP_PASSWORD_FILE: 'correct horse battery staple' });
      assert.equal(pasted.code, 1);
      assert.match(pasted.stderr, /BOUNCES_IMAP_PASSWORD_FILE: expected a readable file holding the password, found ENOENT reading a value that does not look like a file name/);
      assert.doesNotMatch(pasted.stderr, /horse/);
      const missing = await fetch(s.root, { BOUNCES_IMAP_PASSWORD: undefined, BOUNCES_IMAP_PASSWORD_FILE: path.join(s.root, 'no-such-file') });
      assert.match(missing.stderr, /found ENOENT reading ".*no-such-file"/);
    });
    const bare = await tempSite();
    const noImap = await almanac(['bounces', 'fetch', '--root', bare], { env: { ALMANAC_SECRET: SECRET, BOUNCES_IMAP_PASSWORD: IMAP_PASSWORD } });
    assert.equal(noImap.code, 1);
    assert.match(noImap.stderr, /^almanac\.config\.json: bounces\.imap: expected the mailbox bounces arrive in/m);
  });
});

describe('bounces.imap settings', () => {
  const parse = (imap: Record<string, unknown>) => configSchema.safeParse({ bounces: { imap } });

  it('implicit TLS on 993 unless told otherwise; STARTTLS required on another port', () => {
    const tls = parse({ host: 'imap.example.org', user: 'bounces' });
    assert.ok(tls.success);
    assert.deepEqual(
      (({ port, secure, starttls, mailbox, processed, intervalMinutes }) => ({ port, secure, starttls, mailbox, processed, intervalMinutes }))(tls.data.bounces.imap!),
      { port: 993, secure: true, starttls: false, mailbox: 'INBOX', processed: {}, intervalMinutes: 5 },
    );
    const upgrade = parse({ host: 'imap.example.org', user: 'bounces', port: 143 });
    assert.ok(upgrade.success);
    assert.deepEqual([upgrade.data.bounces.imap!.secure, upgrade.data.bounces.imap!.starttls], [false, true]);
  });

  it('plain text to a host that is not this machine is refused unless allowPlainText says so', () => {
    const plain = parse({ host: 'imap.example.org', user: 'bounces', secure: false, starttls: false });
    assert.equal(plain.success, false);
    assert.deepEqual(plain.error!.issues.map((i) => i.path.join('.')), ['bounces.imap.starttls']);
    assert.ok(parse({ host: 'imap.example.org', user: 'bounces', secure: false, starttls: false, allowPlainText: true }).success);
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.8.9.10']) assert.ok(parse({ host, user: 'bounces', secure: false, starttls: false }).success, host);
    for (const host of ['10.0.0.1', '127.example.org', 'localhost.example.org']) assert.equal(parse({ host, user: 'bounces', secure: false, starttls: false }).success, false, host);
  });

  it('processed.moveTo may not be the mailbox itself (each poll would move every processed message onto itself again)', () => {
    for (const [mailbox, moveTo] of [['INBOX', 'INBOX'], ['INBOX', 'inbox'], [undefined, 'Inbox'], ['Bounces', 'Bounces'], ['Bounces', ' Bounces ']]) {
      const same = parse({ host: 'imap.example.org', user: 'bounces', mailbox, processed: { moveTo } });
      assert.equal(same.success, false, `${mailbox} → ${moveTo}`);
      assert.deepEqual(same.error!.issues.map((i) => [i.path.join('.'), i.message]), [['bounces.imap.processed.moveTo', 'a folder other than the mailbox read ("mailbox"), e.g. "Almanac/Processed"']]);
    }
    // Only INBOX is case-insensitive in IMAP: "bounces" and "Bounces" are two folders.
    assert.ok(parse({ host: 'imap.example.org', user: 'bounces', mailbox: 'Bounces', processed: { moveTo: 'bounces' } }).success);
    assert.ok(parse({ host: 'imap.example.org', user: 'bounces', processed: { moveTo: 'INBOX/Processed' } }).success);
  });

  it('no password key: an unknown key such as "password" is an error', () => {
    assert.equal(parse({ host: 'imap.example.org', user: 'bounces', password: 'x' }).success, false);
  });
});

describe('IMAP poll faults', () => {
  it('a crash between recording a message and marking it: the next poll records it as a replay and applies nothing twice', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s) });
    await withServer(server, async () => {
      const imap = configSchema.parse({ bounces: { imap: loopback(server) } }).bounces.imap!;
      const db = openDatabase(databasePath(s.root, {}));
      try {
        const record = bounceRecorder(db, { softLimit: 3, softWindowDays: 30 }, SECRET, () => Date.parse(NOW));
        const crash = pollMailbox({
          imap,
          password: IMAP_PASSWORD,
          handle: record,
          afterRecord: (uid) => {
            if (uid === 2) throw new Error('killed between recording and flagging');
          },
        });
        await assert.rejects(crash, (err: unknown) => err instanceof ImapFailure && err.handled === 2 && /killed/.test(err.words));
        assert.deepEqual(flagsOf(server), [[PROCESSED_KEYWORD, '\\Seen'], [], []], 'the second message was recorded, not flagged');
        assert.deepEqual(stored(s), { statuses: ['bounced', 'unsubscribed', 'active'], events: 2, history: [1, 1, 0] });

        const next = await pollMailbox({ imap, password: IMAP_PASSWORD, handle: record });
        assert.deepEqual(
          next.messages.map((m) => ('entry' in m ? [m.uid, m.entry.kind, m.entry.changed, m.entry.text.split(':')[0]] : [m.uid, m.error])),
          [
            [2, 'ignored', null, 'replayed'],
            [3, 'ignored', null, 'a delivery report for a message this site did not sign'],
          ],
        );
        assert.deepEqual(stored(s).history, [1, 1, 0], 'the complaint is in the history once');
        assert.deepEqual(flagsOf(server), [[PROCESSED_KEYWORD, '\\Seen'], [PROCESSED_KEYWORD, '\\Seen'], [PROCESSED_KEYWORD, '\\Seen']]);
      } finally {
        db.close();
      }
    });
  });

  it('a server that refuses to mark a message (no right to store flags): the fetch fails (exit 2) after that message instead of reading it again on every poll unnoticed', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s), refuse: ['UID STORE'] });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server) } }) });
    await withServer(server, async () => {
      const run = await fetch(s.root);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /found message 1 was recorded but could not be marked processed: the server refused to store \$AlmanacProcessed; 1 message\(s\) recorded before it; one not yet marked is read again next time and counts once, the rest wait for the next fetch$/m);
      assert.deepEqual((JSON.parse(run.stdout) as FetchReport).messages.map((m) => m.source), ['imap:INBOX:1'], 'the messages after it are left for later');
      assert.deepEqual(stored(s), { statuses: ['bounced', 'active', 'active'], events: 1, history: [1, 0, 0] });
      assert.deepEqual(flagsOf(server), [[], [], []]);

      // Moving is enough where flags cannot be kept: the message leaves the mailbox.
      await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server, { processed: { moveTo: 'Processed' } }) } }) });
      const moved = await fetch(s.root);
      assert.equal(moved.code, 0, moved.stderr);
      assert.deepEqual([server.messages('INBOX')!.length, server.messages('Processed')!.length], [0, 3]);
      assert.deepEqual(stored(s), { statuses: ['bounced', 'unsubscribed', 'active'], events: 4, history: [1, 1, 0] }, 'the first message again, as a replay');
    });
  });

  it('a server that refuses both the flag and the move: the fetch fails (exit 2) naming the folder', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s), refuse: ['UID STORE', 'UID MOVE'] });
    await writeFiles(s.root, { 'almanac.config.json': JSON.stringify({ bounces: { domain: DOMAIN, imap: loopback(server, { processed: { moveTo: 'Processed' } }) } }) });
    await withServer(server, async () => {
      const run = await fetch(s.root);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /found message 1 was recorded but could not be marked processed: the server refused to store \$AlmanacProcessed and to move it to "Processed"; /m);
      assert.equal(stored(s).events, 1);
      assert.equal(server.messages('INBOX')!.length, 3);
    });
  });

  it('UIDs go to the server as ranges: a big batch, or many messages left to move, stay one short command (servers cap a line, Dovecot at 64 KB)', async () => {
    const messages = Array.from({ length: 120 }, (_, i) => `Subject: ${i}\r\nMessage-ID: <${i}@example.net>\r\n\r\nnot a report\r\n`);
    const server = await imapServer({ messages });
    await withServer(server, async () => {
      const commands: string[] = [];
      const logger = { debug: (e: { src?: string; msg?: string }) => e.src === 'c' && commands.push(e.msg ?? ''), info: () => undefined, warn: () => undefined, error: () => undefined };
      const poll = async (more: Record<string, unknown>) =>
        pollMailbox({ imap: configSchema.parse({ bounces: { imap: loopback(server, { batchSize: 10_000, ...more }) } }).bounces.imap!, password: IMAP_PASSWORD, handle: async () => 'seen', client: { logger } });
      assert.equal((await poll({})).messages.length, 120);
      // Flagged in keyword mode; moveTo set later moves them all at the next poll.
      assert.equal((await poll({ processed: { moveTo: 'Processed' } })).messages.length, 0);
      assert.equal(server.messages('Processed')!.length, 120);
      const uidCommands = commands.filter((c) => /^\S+ UID (FETCH|MOVE)/.test(c));
      assert.ok(uidCommands.some((c) => / UID MOVE 1:120 /.test(c)), uidCommands.join('\n'));
      assert.ok(uidCommands.some((c) => / UID FETCH 1:120 /.test(c)), uidCommands.join('\n'));
      assert.ok(uidCommands.every((c) => c.length < 200), `the longest command has ${Math.max(...uidCommands.map((c) => c.length))} characters`);
    });
  });

  it('one message the intake cannot record is left unmarked for the next poll; the others go on', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s) });
    await withServer(server, async () => {
      const imap = configSchema.parse({ bounces: { imap: loopback(server) } }).bounces.imap!;
      const seen: string[] = [];
      const result = await pollMailbox({
        imap,
        password: IMAP_PASSWORD,
        handle: async (m) => {
          if (m.source.endsWith(':2')) throw new Error('database is locked');
          seen.push(m.source);
          return m.raw.length;
        },
      });
      assert.deepEqual(seen, ['imap:INBOX:1', 'imap:INBOX:3']);
      assert.deepEqual(result.messages.filter((m) => 'error' in m), [{ uid: 2, source: 'imap:INBOX:2', error: 'database is locked' }]);
      assert.deepEqual(flagsOf(server), [[PROCESSED_KEYWORD, '\\Seen'], [], [PROCESSED_KEYWORD, '\\Seen']]);
    });
  });

  it('STARTTLS: the connection is upgraded before the login (the server refuses a login in plain text)', async () => {
    const s = await site({});
    const server = await imapServer({ messages: await threeReports(s), starttls: true });
    await withServer(server, async () => {
      const imap = configSchema.parse({ bounces: { imap: loopback(server, { starttls: true }) } }).bounces.imap!;
      // The test server's certificate is its own, self-signed: only this test skips its verification.
      const trusting = { tls: { rejectUnauthorized: false } };
      const result = await pollMailbox({ imap, password: IMAP_PASSWORD, handle: async (m) => m.source, client: trusting });
      assert.deepEqual(result.messages.map((m) => m.source), ['imap:INBOX:1', 'imap:INBOX:2', 'imap:INBOX:3']);
      const plain = configSchema.parse({ bounces: { imap: loopback(server) } }).bounces.imap!;
      await assert.rejects(pollMailbox({ imap: plain, password: IMAP_PASSWORD, handle: async () => 0 }), ImapFailure, 'without STARTTLS the login is refused');
    });
  });

  it('an abort (the scheduler stopping) ends a poll that waits on a silent server at once', async () => {
    const hanging = await silentServer(true);
    await withServer(hanging, async () => {
      const imap = configSchema.parse({ bounces: { imap: loopback(hanging, { timeoutSeconds: 60 }) } }).bounces.imap!;
      const controller = new AbortController();
      const started = Date.now();
      const poll = pollMailbox({ imap, password: IMAP_PASSWORD, handle: async () => 0, signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      await assert.rejects(poll, (err: unknown) => err instanceof ImapFailure && err.words === 'stopped');
      assert.ok(Date.now() - started < 5000, 'not the 60 s deadline');
      // An abort that says why (the scheduler's deadline) is reported in those words.
      const timed = new AbortController();
      const late = pollMailbox({ imap, password: IMAP_PASSWORD, handle: async () => 0, signal: timed.signal });
      setTimeout(() => timed.abort('no end within 5 min'), 200);
      await assert.rejects(late, (err: unknown) => err instanceof ImapFailure && err.words === 'no end within 5 min');
    });
  });
});
