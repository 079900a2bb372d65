// npm run bench (second part) — sending speed, both measured here against one loopback SMTP sink:
//
//   almanac issue send: the real command (ledger, signed links, per-recipient copies, pooled SMTP);
//   the same, DKIM-signed:  with an RSA-2048 key (sending.dkim, DKIM_PRIVATE_KEY);
//   nodemailer alone:   the same pool sending one pre-built raw MIME message over and over.
//
// Then the peak memory of `issue send` to BENCH_SEND_RSS subscribers (default 100,000).
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { scratchDir } from './scratch.ts';

const PROJECT = fileURLToPath(new URL('../', import.meta.url));
const MESSAGES = Number(process.env.BENCH_SEND_MESSAGES ?? 5000);
const RSS_SUBSCRIBERS = Number(process.env.BENCH_SEND_RSS ?? 100_000);
const CONNECTIONS = 5;
const SECRET = 'bench-secret-0123456789abcdef-6f1c9a2e';

/** A sink that accepts and counts, keeping nothing. */
async function sink(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received++;
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, close: () => new Promise((r) => server.close(() => r())) };
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ ms: number; stdout: string; stderr: string; rssMb: number; cpuUs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', path.join(PROJECT, 'scripts/report-rss.mjs'), ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}\n${stdout}${stderr}`));
      const kb = Number(/@@maxrss-kb (\d+)/.exec(stderr)?.[1] ?? 0);
      const cpuUs = Number(/@@cpu-us (\d+)/.exec(stderr)?.[1] ?? 0);
      resolve({ ms: performance.now() - started, stdout, stderr, rssMb: kb / 1024, cpuUs });
    });
  });
}

async function siteWith(subscribers: number, sending: object = {}): Promise<string> {
  const root = await scratchDir('almanac-bench-send-');
  await cp(path.join(PROJECT, 'content'), path.join(root, 'content'), { recursive: true });
  await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify({ baseUrl: 'https://bench.example.org', sending: { concurrency: CONNECTIONS, ...sending } }));
  await run([path.join(PROJECT, 'bin/almanac.js'), 'issue', 'build', 'sunday', '--date', '2026-04-12', '--now', '2026-04-12T07:00:00Z'], {}, root);
  await run([path.join(PROJECT, 'bin/almanac.js'), 'subscribers', 'list'], {}, root); // creates the database
  const db = new Database(path.join(root, '.almanac/almanac.db'));
  const insert = db.prepare("INSERT INTO subscribers (email, name, status, created_at, updated_at) VALUES (?, ?, 'active', 0, 0)");
  const edition = db.prepare('INSERT INTO subscriber_editions (subscriber_id, edition) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < subscribers; i++) {
      const id = insert.run(`reader${i}@example.com`, `Reader ${i}`).lastInsertRowid;
      for (const name of ['midweek', 'sunday']) edition.run(id, name);
    }
  })();
  db.close();
  return root;
}

const BASELINE = `
import nodemailer from 'nodemailer';
import { readFileSync } from 'node:fs';
const raw = readFileSync(process.argv[2]);
const n = Number(process.argv[3]);
const t = nodemailer.createTransport({ url: process.env.SMTP_URL, pool: true, maxConnections: ${CONNECTIONS}, maxMessages: Infinity });
const started = performance.now();
let next = 0;
async function worker() { while (next < n) { const i = next++; await t.sendMail({ envelope: { from: 'a@bench.example.org', to: 'reader' + i + '@example.com' }, raw }); } }
await Promise.all(Array.from({ length: ${CONNECTIONS * 2} }, worker));
console.log('rate', (n / ((performance.now() - started) / 1000)).toFixed(1));
t.close();
`;

async function main(): Promise<void> {
  const server = await sink();
  try {
    const root = await siteWith(MESSAGES);
    const env = { SMTP_URL: server.url, ALMANAC_SECRET: SECRET };
    // The sink runs in this process: its CPU time during a run is what the run cost the receiving side.
    const sinkCpu = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
      const before = process.cpuUsage();
      const result = await f();
      const used = process.cpuUsage(before);
      return [result, used.user + used.system];
    };
    const [almanac, almanacSinkUs] = await sinkCpu(() => run([path.join(PROJECT, 'bin/almanac.js'), 'issue', 'send', '2026-04-12-sunday'], env, root));
    const almanacRate = Number(/([\d.]+) messages\/s this run/.exec(almanac.stdout)?.[1]);

    // The same send with every message DKIM-signed (RSA-2048), on an identical site.
    const signedRoot = await siteWith(MESSAGES, { dkim: { domain: 'bench.example.org', selector: 'bench' } });
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const [signed, signedSinkUs] = await sinkCpu(() => run([path.join(PROJECT, 'bin/almanac.js'), 'issue', 'send', '2026-04-12-sunday'], { ...env, DKIM_PRIVATE_KEY: rsaKey }, signedRoot));
    const signedRate = Number(/([\d.]+) messages\/s this run/.exec(signed.stdout)?.[1]);

    // The same message, pre-built once as raw MIME, through nodemailer's pool alone.
    const sample = path.join(root, 'sample.eml');
    // Through the store, which gives the slot markers of this process.
    const { IssueStore } = await import('../src/store/issues.ts');
    const { html, text } = new IssueStore(root).get('2026-04-12-sunday')!;
    const { MessageTemplate } = await import('../src/mail/message.ts');
    const tokens = { unsubscribe: 'https://bench.example.org/unsubscribe?token=x', preferences: 'https://bench.example.org/preferences?token=x', name: 'Reader' };
    await writeFile(
      sample,
      MessageTemplate.compile({ from: 'Bench <a@bench.example.org>', subject: 'Bench', html, text, listId: 'Bench <bench.example.org>', date: new Date(0), issueId: 'bench' }).render({
        email: 'reader@example.com', name: 'Reader', messageId: 'bench@bench.example.org', unsubscribeUrl: tokens.unsubscribe, unsubscribeMailto: 'mailto:a@bench.example.org', tokens,
      }),
    );
    const script = path.join(PROJECT, 'scripts/.bench-baseline.mjs');
    await writeFile(script, BASELINE);
    const baseline = await run([script, sample, String(MESSAGES)], env, PROJECT);
    const baselineRate = Number(/rate ([\d.]+)/.exec(baseline.stdout)?.[1]);

    const big = await siteWith(RSS_SUBSCRIBERS);
    const large = await run([path.join(PROJECT, 'bin/almanac.js'), 'issue', 'send', '2026-04-12-sunday'], env, big);
    const largeRate = Number(/([\d.]+) messages\/s this run/.exec(large.stdout)?.[1]);

    const perMessage = (us: number) => (us / MESSAGES).toFixed(0);
    process.stdout.write(
      [
        '',
        `send: ${MESSAGES} messages of a ${Math.round(Buffer.byteLength(html) / 1024)} KB HTML issue to a loopback smtp-server, ${CONNECTIONS} connections`,
        `  almanac issue send (ledger, signed links)  ${almanacRate.toFixed(0).padStart(6)} messages/s`,
        `  almanac issue send, DKIM-signed (RSA-2048) ${signedRate.toFixed(0).padStart(6)} messages/s  (${(signedRate / almanacRate).toFixed(2)} of unsigned; target ≥ 0.75)`,
        `  nodemailer alone, one pre-built raw MIME   ${baselineRate.toFixed(0).padStart(6)} messages/s`,
        `  ratio ${(almanacRate / baselineRate).toFixed(2)} (target ≥ 0.90)`,
        `  CPU per message, sending process (all threads) + sink: unsigned ${perMessage(almanac.cpuUs)} + ${perMessage(almanacSinkUs)} µs, ` +
          `DKIM-signed ${perMessage(signed.cpuUs)} + ${perMessage(signedSinkUs)} µs (${os.availableParallelism()} cores)`,
        `  almanac issue send to ${RSS_SUBSCRIBERS.toLocaleString('en-US')} subscribers: peak RSS ${large.rssMb.toFixed(0)} MB, ${largeRate.toFixed(0)} messages/s, ${(large.ms / 1000).toFixed(1)} s`,
        `  (peak RSS for ${MESSAGES.toLocaleString('en-US')} subscribers: ${almanac.rssMb.toFixed(0)} MB)`,
        '',
      ].join('\n'),
    );
  } finally {
    await server.close();
  }
}

await main();
