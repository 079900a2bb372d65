// `serve` in-process against files that are not dist/'s own and links opened by machines: a
// confirmation link opened by a mail scanner, a symbolic link inside dist/ that points elsewhere, a dist/ that is itself a link to a release, and
// a subscribe answer whose time would tell a known reader from a new address.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/content/config.ts';
import type { Config } from '../src/content/config-schema.ts';
import { signToken } from '../src/mail/signing.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { createApp } from '../src/server/app.ts';
import type { AppOptions } from '../src/server/routes/context.ts';
import { CONFIRM_TTL, confirmKey } from '../src/server/confirmation-mail.ts';
import { ConfirmationQueue } from '../src/store/confirmations.ts';
import { databasePath, openDatabase, type Db } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { tempSite } from './helpers/cli.ts';

const SECRET = 'links-secret-0123456789abcdef0123456';
const CANARY = 'canary-outside-dist';

describe('serve: links and dist/ boundaries', () => {
  let root: string;
  let base: string;
  let db: Db;
  let store: SqliteSubscribers;
  let queue: ConfirmationQueue;
  let config: Config;
  let templates: TemplateSet;
  const clock = Date.parse('2026-06-20T09:00:00Z');
  let now = clock;
  const servers: http.Server[] = [];

  async function listen(options: Partial<AppOptions> = {}): Promise<string> {
    const server = http.createServer(
      createApp({
        distDir: path.join(root, 'dist'),
        config,
        subscribers: store,
        secret: SECRET,
        templates,
        confirmations: { queue, wake: () => {} },
        clock: () => now,
        log: () => {},
        ...options,
      }),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  before(async () => {
    root = await tempSite();
    const dist = path.join(root, 'dist');
    await mkdir(path.join(dist, 'guides'), { recursive: true });
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>home</title>');
    await writeFile(path.join(dist, 'guides', 'index.html'), '<!doctype html><title>guides</title>');
    await mkdir(path.join(root, 'outside'), { recursive: true });
    await writeFile(path.join(root, 'outside', 'secret.txt'), CANARY);
    await writeFile(path.join(root, 'outside', 'index.html'), CANARY);
    // An operator's shortcuts: a file and a folder linked into dist/ from elsewhere.
    await symlink(path.join(root, 'outside', 'secret.txt'), path.join(dist, 'linked.txt'));
    await symlink(path.join(root, 'outside'), path.join(dist, 'linked-folder'));
    db = openDatabase(databasePath(root));
    store = new SqliteSubscribers(db);
    queue = new ConfirmationQueue(db);
    ({ config } = await loadConfig(root));
    templates = await TemplateSet.load(root, 'site');
    base = await listen();
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    db.close();
  });

  /** A sign-up's confirmation link, as the mail for a request made at `requestedAt` carries it. */
  function signUp(email: string, requestedAt = now): { id: number; link: string } {
    const { subscriber, nonce } = store.signUp(email, ['midweek', 'sunday'], requestedAt)!;
    const token = signToken(SECRET, { subscriber: subscriber.id, key: confirmKey(subscriber.tokenKey, nonce), purpose: 'confirm', expires: requestedAt + CONFIRM_TTL });
    return { id: subscriber.id, link: `${base}/confirm?token=${token}` };
  }

  it('opening the confirmation link (what a mail scanner or link preview does) subscribes nobody; its button does', async () => {
    const { id, link } = signUp('scanned@example.com');
    for (let i = 0; i < 3; i++) {
      const opened = await fetch(link);
      assert.equal(opened.status, 200);
      const page = await opened.text();
      assert.match(page, /<form class="subscribe-form" method="post" action="\/confirm\?token(?:=|&#x3D;)[^"]+">/);
      assert.match(page, /<button type="submit">Yes, subscribe me<\/button>/);
      assert.equal(store.get(id)!.status, 'pending', 'opening the link confirms nothing');
    }
    assert.equal((await fetch(link, { method: 'HEAD' })).status, 405);
    assert.equal(store.get(id)!.status, 'pending');
    const clicked = await fetch(link, { method: 'POST' });
    assert.equal(clicked.status, 200);
    assert.match(await clicked.text(), /You are in/);
    const reader = store.get(id)!;
    assert.equal(reader.status, 'active');
    assert.equal(reader.confirmedAt, now, 'the confirmation is recorded');
    assert.equal((await fetch(link, { method: 'POST' })).status, 400, 'the button works once');
    assert.equal((await fetch(link)).status, 400, 'and the link, once used, opens no button');
  });

  it('a subscribe answer waits out the fixed time, for a known reader and a new address alike', async () => {
    store.upsert({ email: 'known-timing@example.com', status: 'active' }, now);
    const floorMs = 100;
    const timed = await listen({ subscribeAnswerMs: floorMs });
    for (const email of ['known-timing@example.com', 'new-timing@example.com']) {
      const started = performance.now();
      const res = await fetch(`${timed}/subscribe`, { method: 'POST', body: `email=${encodeURIComponent(email)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      await res.text();
      const ms = performance.now() - started;
      assert.equal(res.status, 200, email);
      assert.ok(ms >= floorMs - 1, `${email} answered after ${ms.toFixed(1)} ms, before the fixed ${floorMs} ms`);
    }
    assert.equal(store.find('new-timing@example.com')?.status, 'pending', 'the new address was signed up');
  });

  it('a symbolic link inside dist/ that points outside it is not served', async () => {
    for (const target of ['/linked.txt', '/linked-folder/secret.txt', '/linked-folder/', '/linked-folder']) {
      const res = await fetch(`${base}${target}`, { redirect: 'manual' });
      assert.equal(res.status, 404, target);
      assert.doesNotMatch(await res.text(), new RegExp(CANARY), target);
    }
    assert.equal((await fetch(`${base}/guides/`)).status, 200, 'files of dist/ itself are served');
  });

  it('a dist/ that is itself a link (to a release folder) is served', async () => {
    const release = await tempSite();
    await mkdir(path.join(release, 'build-1', 'guides'), { recursive: true });
    await writeFile(path.join(release, 'build-1', 'guides', 'index.html'), 'release page');
    await symlink(path.join(release, 'build-1'), path.join(release, 'dist'));
    const linked = await listen({ distDir: path.join(release, 'dist') });
    const res = await fetch(`${linked}/guides/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'release page');
  });
});
