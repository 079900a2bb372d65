// Generated requests against the real server on loopback (a few thousand a run, seeded): it never
// falls over, never answers 5xx for a client's mistake, never redirects off-site and never serves a
// file from outside dist/ (canaries planted beside dist/, in the site root and above it).
// Longer runs, against the `serve` process under load: node --import tsx scripts/fuzz-serve.ts --seed N --count N
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/content/config.ts';
import { TemplateSet } from '../src/render/templates.ts';
import { createApp, createServer } from '../src/server/app.ts';
import { DatabaseHealth } from '../src/server/db-health.ts';
import { ConfirmationQueue } from '../src/store/confirmations.ts';
import { databasePath, openDatabase, type Db } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { generate, plantedSite, run } from './helpers/fuzz-requests.ts';
import { rawRequest } from './helpers/serve.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const COUNT = Number(process.env.FUZZ_COUNT ?? 2000);

describe('serve under generated requests', () => {
  let server: http.Server;
  let port: number;
  let db: Db;
  const logs: string[] = [];

  before(async () => {
    const root = await plantedSite();
    db = openDatabase(databasePath(root));
    db.pragma('busy_timeout = 50');
    const { config } = await loadConfig(root);
    server = createServer(
      createApp({
        distDir: path.join(root, 'dist'),
        config,
        subscribers: new SqliteSubscribers(db),
        secret: 'fuzz-secret-0123456789abcdef-ghijklmn',
        templates: await TemplateSet.load(root, 'site'),
        confirmations: { queue: new ConfirmationQueue(db), wake: () => {} },
        health: new DatabaseHealth(() => Date.now()),
        clock: () => Date.now(),
        log: (line) => logs.push(line),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    db.close();
  });

  it('a request Node cannot parse gets its 4xx with the security headers every answer carries', async () => {
    const requests = [
      'POST /subscribe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
      'POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      `GET /?${'q'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ];
    for (const request of requests) {
      const res = await rawRequest(port, request);
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} for ${request.slice(0, 60)}`);
      assert.match(res.headers['content-security-policy'] ?? '', /script-src 'self' 'wasm-unsafe-eval';/, request.slice(0, 60));
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
  });

  it('Expect: 100-continue with a body over the limit gets its 413 without being invited to send it', async () => {
    const big = await rawRequest(port, 'POST /subscribe HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20000\r\n\r\n');
    assert.equal(big.status, 413);
    const small = await rawRequest(port, 'POST /unsubscribe?token=x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
    assert.equal(small.status, 100, 'a body within the limit is still invited');
  });

  it('a request whose body Node cannot parse is not logged with a status it never got', async () => {
    const before = logs.length;
    const res = await rawRequest(port, 'POST /subscribe?log-check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\nzz\r\nabc\r\n0\r\n\r\n');
    assert.equal(res.status, 400);
    const deadline = Date.now() + 5000;
    const find = () => logs.slice(before).find((l) => / POST \/subscribe /.test(l));
    while (!find() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const line = find();
    assert.ok(line, 'the request is logged');
    assert.doesNotMatch(line, / POST \/subscribe 200 /);
  });

  it(`${COUNT} requests (seed ${SEED}): no 5xx, no off-site redirect, nothing from outside dist/, still serving`, async () => {
    const statuses = new Map<number, number>();
    const failures = await run(port, generate(SEED, COUNT), 16, (res) => statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1));
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures (seed ${SEED})`);
    // The generator reaches the interesting answers, not only 400s.
    for (const status of [200, 301, 400, 404, 405, 413]) assert.ok(statuses.get(status), `no ${status} among ${JSON.stringify([...statuses])}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.ok(!logs.some((l) => / 5\d\d .*error:/.test(l)), logs.filter((l) => / 5\d\d /.test(l)).slice(0, 5).join('\n'));
  });
});
