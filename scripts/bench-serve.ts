// npm run bench (third part) — `almanac serve` under load from autocannon, on loopback:
// GET of a guide page, and the RFC 8058 one-click POST /unsubscribe.
import { spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { signToken } from '../src/mail/signing.ts';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { scratchDir } from './scratch.ts';

const PROJECT = fileURLToPath(new URL('../', import.meta.url));
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 10);
const SECRET = 'bench-secret-0123456789abcdef-6f1c9a2e';

async function main(): Promise<void> {
  const root = await scratchDir('almanac-bench-serve-');
  await cp(path.join(PROJECT, 'content'), path.join(root, 'content'), { recursive: true });
  const bin = path.join(PROJECT, 'bin/almanac.js');
  await new Promise((resolve) => spawn(process.execPath, [bin, 'build', '--root', root], { stdio: 'ignore' }).on('close', resolve));
  const db = openDatabase(databasePath(root));
  const { subscriber } = new SqliteSubscribers(db).upsert({ email: 'bench@example.com', status: 'active' }, Date.now());
  db.close();
  const token = signToken(SECRET, { subscriber: subscriber.id, key: subscriber.unsubscribeKey, purpose: 'unsubscribe', expires: 0 });

  const server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--root', root], { env: { ...process.env, ALMANAC_SECRET: SECRET, SMTP_URL: '' } });
  let out = '';
  server.stdout.on('data', (d) => (out += d));
  while (!/:(\d+)\/\n/.test(out)) await new Promise((r) => setTimeout(r, 20));
  const base = `http://127.0.0.1:${/:(\d+)\/\n/.exec(out)![1]}`;
  const run = (opts: Partial<autocannon.Options>) => autocannon({ url: base, connections: 50, duration: SECONDS, ...opts });
  try {
    const page = await run({ url: `${base}/guides/meta/` });
    const unsub = await run({
      url: `${base}/unsubscribe?token=${token}`,
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const line = (label: string, r: autocannon.Result) =>
      `  ${label.padEnd(30)} ${r.requests.average.toFixed(0).padStart(6)} req/s · p99 ${r.latency.p99} ms · ${r.requests.total} requests, ${r.errors} errors, ${r.non2xx} non-2xx`;
    process.stdout.write(
      ['', `serve: autocannon, 50 connections, ${SECONDS} s each, loopback`, line('GET /guides/meta/', page), line('POST /unsubscribe (one-click)', unsub), ''].join('\n'),
    );
  } finally {
    server.kill('SIGTERM');
  }
}

await main();
