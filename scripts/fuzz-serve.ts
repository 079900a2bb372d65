// Long fuzz runs against the real `almanac serve` process, with autocannon loading it at the same
// time: generated requests (seeded; the same seed replays the same run), then checks that the process
// never crashed, never answered 5xx for a client's mistake, never redirected off-site, never served
// a canary from outside dist/, and stayed under the memory ceiling.
//   node --import tsx scripts/fuzz-serve.ts [--seed N] [--count N] [--seconds N] [--connections N]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { generate, plantedSite, run } from '../test/helpers/fuzz-requests.ts';
import { smtpSink } from '../test/helpers/smtp.ts';

const PROJECT = fileURLToPath(new URL('../', import.meta.url));
const RSS_CEILING_MB = 200;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} expects a whole number, found "${process.argv[i + 1] ?? ''}"\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<number> {
  const seed = option('seed', Math.floor(Math.random() * 2 ** 31));
  const count = option('count', 20_000);
  const seconds = option('seconds', 10);
  const connections = option('connections', 50);
  process.stdout.write(`fuzz-serve: seed ${seed}, ${count} requests, autocannon ${connections} connections for ${seconds} s\n`);

  const root = await plantedSite();
  const sink = await smtpSink();
  const child = spawn(process.execPath, ['--import', path.join(PROJECT, 'scripts/report-rss.mjs'), path.join(PROJECT, 'bin/almanac.js'), 'serve', '--port', '0', '--root', root], {
    env: { ...process.env, ALMANAC_SECRET: 'fuzz-secret-0123456789abcdef-ghijklmn', SMTP_URL: sink.url },
  });
  let out = '';
  let err = '';
  let exitCode: number | null | undefined;
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.on('close', (code) => ((exitCode = code), resolve())));
  const deadline = Date.now() + 30_000;
  while (!/at http:\/\/127\.0\.0\.1:(\d+)\/\n/.test(out)) {
    if (exitCode !== undefined || Date.now() > deadline) throw new Error(`serve did not start:\n${out}${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)![1]);
  const base = `http://127.0.0.1:${port}`;

  let peakKb = 0;
  const sampler = setInterval(() => {
    import('node:fs').then(({ readFileSync }) => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peakKb = Math.max(peakKb, kb);
      } catch {
        // Not Linux, or the process is gone: the exit report covers it.
      }
    });
  }, 100);

  const started = performance.now();
  const [failures, load] = await Promise.all([
    run(port, generate(seed, count), 16),
    autocannon({
      url: base,
      connections,
      duration: seconds,
      requests: [
        { method: 'GET', path: '/guides/meta/' },
        { method: 'GET', path: '/healthz' },
        { method: 'POST', path: '/subscribe', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=load%40example.com' },
        { method: 'GET', path: '/no/such/page' },
      ],
    }),
  ]);
  const elapsed = (performance.now() - started) / 1000;
  const healthy = exitCode === undefined && (await fetch(`${base}/healthz`).then((r) => r.status === 200, () => false));
  child.kill('SIGTERM');
  await exited;
  clearInterval(sampler);
  await sink.close();

  const maxRssKb = Number(/@@maxrss-kb (\d+)/.exec(err)?.[1] ?? peakKb);
  const rssMb = Math.max(maxRssKb, peakKb) / 1024;
  const serverErrors = out.split('\n').filter((l) => / 5\d\d [\d.]+ms/.test(l) && !/ 503 /.test(l));
  const crashed = /TypeError|RangeError|Uncaught|at .+\.ts:\d+:\d+/.test(out + err) || exitCode !== 0;
  const lines = [
    `  ${count} fuzz requests in ${elapsed.toFixed(1)} s alongside autocannon: ${load.requests.total} requests (${load.requests.average.toFixed(0)} req/s, p99 ${load.latency.p99} ms, ${load.errors} errors, ${load.non2xx} non-2xx)`,
    `  peak RSS ${rssMb.toFixed(0)} MB (ceiling ${RSS_CEILING_MB} MB); exit code ${exitCode}; still answering before stop: ${healthy}`,
    `  fuzz failures: ${failures.length}; logged 5xx other than 503: ${serverErrors.length}; crash: ${crashed}`,
    ...failures.slice(0, 20).map((f) => `    ${f}`),
    ...serverErrors.slice(0, 10).map((l) => `    ${l}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const ok = failures.length === 0 && serverErrors.length === 0 && !crashed && healthy && rssMb < RSS_CEILING_MB;
  process.stdout.write(ok ? 'fuzz-serve: ok\n' : `fuzz-serve: FAILED (replay with --seed ${seed} --count ${count})\n`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
