// The spam score from Debian's SpamAssassin (local tests only): a spammy message scores high, the
// sample issue low; `check` shows the score, fails above the configured limit and says once that
// SpamAssassin is missing. scripts/ensure-test-tools.mjs installs it for `npm test` (as root).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseReport, scoreMessage, spamFinding } from '../src/mail/spam-score.ts';
import { BIN, PROJECT, tempSite, until, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const LIMITS = { warn: 3, fail: 5, timeoutSeconds: 15 };
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const installed = process.env.SPAMASSASSIN_PATH ? existsSync(process.env.SPAMASSASSIN_PATH) : existsSync('/usr/bin/spamassassin');
// As root the test set-up installs it, so missing is a fault there; elsewhere the reason is given.
const skip = !installed && !isRoot ? 'SpamAssassin is not installed and this user cannot install it (apt-get install spamassassin)' : false;

const SPAMMY = Buffer.from(
  [
    'From: WINNER NOTIFICATION <winner@example.com>',
    'To: undisclosed-recipients:;',
    'Subject: FREE MONEY!!! ACT NOW!!! 100% GUARANTEED!!!',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><p><b>CONGRATULATIONS!!! YOU HAVE WON $1,000,000 USD!!!</b></p>',
    '<p>Dear Friend, this is NOT SPAM. Claim your FREE prize NOW! Act now, 100% satisfaction guaranteed,',
    'no credit check, lose weight fast, work from home, earn extra cash!!!</p>',
    '<p><a href="http://192.168.1.1/claim.php?id=1">CLICK HERE</a></p></body></html>',
    '',
  ].join('\r\n'),
);

/** The sample site with its settings: a public address and a sender, without which nothing is checked for sending. */
async function sampleSite(settings: object = {}): Promise<string> {
  const root = await tempSite({ sample: true });
  const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8')) as object;
  await writeFiles(root, { 'almanac.config.json': JSON.stringify({ ...config, ...settings }) });
  return root;
}

describe('the spam score', { skip }, () => {
  it('scores a spammy message high, names the rules that fired, and fails it', async () => {
    const result = await scoreMessage(SPAMMY, 60);
    assert.equal(result.kind, 'scored', JSON.stringify(result));
    if (result.kind !== 'scored') return;
    assert.ok(result.report.score > 5, `score ${result.report.score}`);
    assert.ok(result.report.rules.some((r) => r.name === 'DEAR_FRIEND' && r.points > 0 && /Dear Friend/.test(r.description)), JSON.stringify(result.report.rules));
    const { finding } = spamFinding(result.report, LIMITS);
    assert.equal(finding?.severity, 'error');
    assert.match(finding!.found, /^\d+(\.\d+)? points: .*DEAR_FRIEND \+\d/);
  });

  it('scores the sample issue low, and `check` shows its score as a note, beside the templates\' client support', async () => {
    const root = await sampleSite();
    const run = await almanac(['check', '--root', root, '--now', '2026-04-14T09:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    const note = /note: next Midweek \(2026-04-15\): spam score (-?[\d.]+) points/.exec(run.stdout);
    assert.ok(note, run.stdout);
    assert.ok(Number(note[1]) <= LIMITS.warn, `the sample issue scores ${note[1]}`);
    // Said of the template, once, not of each edition.
    const corners = run.stdout.match(/warning: \(built-in\) templates\/email\/partials\/story\.hbs:2: client-support: expected features every client family supports, found border-radius, not supported by Outlook Windows\n/g);
    assert.equal(corners?.length, 1, run.stdout);
  });

  it('fails `check` above the configured limit', async () => {
    const root = await sampleSite({ checks: { spam: { warn: 0, fail: 0.01 } } });
    const run = await almanac(['check', '--root', root, '--now', '2026-04-14T09:00:00Z']);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /next Midweek \(2026-04-15\): spam-score: expected a SpamAssassin score of at most 0\.01, found [\d.]+ points: [A-Z_]+ \+/);
  });
});

describe('without SpamAssassin', () => {
  it('`check` says so once, as a note, and passes', async () => {
    const root = await sampleSite();
    const run = await almanac(['check', '--root', root, '--now', '2026-06-12T09:00:00Z'], { env: { SPAMASSASSIN_PATH: '/nonexistent/spamassassin' } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.match(/note: no spam score: SpamAssassin is not installed \(\/nonexistent\/spamassassin not found/g)?.length, 1, run.stdout);
  });

  it('leaves no timer behind, so `check` ends at once rather than after the timeout', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const result = await scoreMessage(Buffer.from('Subject: x\r\n\r\nx\r\n'), 600, '/nonexistent/spamassassin');
    assert.equal(result.kind, 'absent');
    assert.equal(timers(), before);
  });

  it('reads the score and the rules from test-mode output, folded lines and all', () => {
    const output = [
      'X-Spam-Status: No, score=0.7 required=5.0 tests=HTML_FONT_LOW_CONTRAST,',
      '\tHTML_MESSAGE,NO_RECEIVED autolearn=disabled version=4.0.1',
      'Subject: x',
      '',
      'body',
      'Content analysis details:   (0.7 points, 5.0 required)',
      '',
      ' pts rule name              description',
      '---- ---------------------- --------------------------------------------------',
      '-0.0 NO_RECEIVED            Informational: message has no Received headers',
      ' 0.7 HTML_FONT_LOW_CONTRAST BODY: HTML font color similar or identical to',
      '                            background',
      '',
    ].join('\n');
    assert.deepEqual(parseReport(output), {
      score: 0.7,
      rules: [
        { points: -0, name: 'NO_RECEIVED', description: 'Informational: message has no Received headers' },
        { points: 0.7, name: 'HTML_FONT_LOW_CONTRAST', description: 'BODY: HTML font color similar or identical to background' },
      ],
    });
    assert.equal(parseReport('Subject: no report\n\nbody'), undefined);
  });
});

/**
 * A `spamassassin` that never answers: it starts a child of its own (as a wrapper script would),
 * notes both process ids, one line per run, and waits for that child.
 */
async function hangingSpamAssassin(): Promise<{ dir: string; runs: () => number[][] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'almanac-spam-'));
  const script = path.join(dir, 'spamassassin');
  await writeFile(script, '#!/bin/sh\nsleep 300 &\necho "$$ $!" >> "$(dirname "$0")/runs"\nwait\n');
  await chmod(script, 0o755);
  const runs = () => (existsSync(path.join(dir, 'runs')) ? readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number)) : []);
  return { dir, runs };
}

type HangingSpamAssassin = Awaited<ReturnType<typeof hangingSpamAssassin>>;

/** `almanac <command> --root <sample site>` as a child process, with a SpamAssassin that never answers and two minutes to wait for it. */
async function startWithHangingSpam(command: string[], stdio: StdioOptions): Promise<{ fake: HangingSpamAssassin; child: ChildProcess }> {
  const fake = await hangingSpamAssassin();
  const root = await sampleSite({ checks: { spam: { timeoutSeconds: 120 } } });
  const child = spawn(process.execPath, [BIN, ...command, '--root', root, '--now', '2026-06-08T09:00:00Z'], {
    env: { ...process.env, SPAMASSASSIN_PATH: '', PATH: `${fake.dir}:${process.env.PATH}` },
    stdio,
  });
  return { fake, child };
}

/** Stops the command and every process the fake SpamAssassin started, whatever the test left running. */
function stopAll(child: ChildProcess, fake: HangingSpamAssassin): void {
  child.kill('SIGKILL');
  for (const pid of fake.runs().flat()) killQuietly(pid);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Whether a process still runs (a zombie waiting to be reaped has stopped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('Ctrl-C once a score has been asked for', () => {
  // The preview server (and any command with its own Ctrl-C handling, set with `once`) stops as it did
  // before: the signal is passed to SpamAssassin, not made to kill the process outright.
  it('still reaches a command\'s own handler, which stops as it chooses', { timeout: 30_000 }, async () => {
    const script = [
      `import { scoreMessage } from ${JSON.stringify(path.join(PROJECT, 'src/mail/spam-score.ts'))};`,
      "const stopped = new Promise((resolve) => process.once('SIGINT', resolve));",
      // A server would keep the process running until its handler closes it; a timer stands in for it.
      'const alive = setInterval(() => {}, 60_000);',
      "await scoreMessage(Buffer.from('Subject: x\\r\\n\\r\\nx\\r\\n'), 5, '/nonexistent/spamassassin');",
      "process.stdout.write('ready\\n');",
      'await stopped;',
      'clearInterval(alive);',
      "await new Promise((resolve) => setTimeout(resolve, 50));",
      "process.stdout.write('closed\\n');",
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      await until(() => out.includes('ready\n'), 20_000);
      child.kill('SIGINT');
      assert.deepEqual(await exited, { code: 0, signal: null });
      assert.equal(out, 'ready\nclosed\n');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('a SpamAssassin that does not answer', () => {
  it('is stopped at the deadline, with everything it started', { timeout: 20_000 }, async () => {
    const fake = await hangingSpamAssassin();
    const started = performance.now();
    const result = await scoreMessage(Buffer.from('Subject: x\r\n\r\nhang\r\n'), 1, path.join(fake.dir, 'spamassassin'));
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(result, { kind: 'timeout', seconds: 1 });
    assert.ok(seconds < 5, `answered after ${seconds.toFixed(1)} s`);
    const [pids] = fake.runs();
    assert.equal(pids?.length, 2, JSON.stringify(fake.runs()));
    // The script's own child too, not only the process spawned.
    await until(() => !pids!.some(running), 5_000);
  });

  it('is stopped with `check` when Ctrl-C stops it, though it runs in a process group of its own', { timeout: 60_000 }, async () => {
    const { fake, child } = await startWithHangingSpam(['check'], 'ignore');
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      await until(() => fake.runs().length === 1, 30_000);
      child.kill('SIGINT');
      assert.equal(await exited, 'SIGINT', 'check stops as Ctrl-C stops a command');
      await until(() => !fake.runs().flat().some(running), 5_000);
    } finally {
      stopAll(child, fake);
    }
  });

  it('is stopped with the preview when Ctrl-C stops it, and the preview still closes as it did', { timeout: 60_000 }, async () => {
    const { fake, child } = await startWithHangingSpam(['preview', '--port', '0'], ['ignore', 'pipe', 'pipe']);
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      await until(() => /Preview at http:\/\/[\d.:]+\//.test(out), 30_000);
      const base = /Preview at (http:\/\/[\d.:]+)\//.exec(out)![1]!;
      const index = await (await fetch(`${base}/`)).text();
      const issue = /href="(\/issues\/[^"/]+)\/?"/.exec(index)?.[1];
      assert.ok(issue, index);
      assert.equal((await fetch(`${base}${issue}`)).status, 200);
      await until(() => fake.runs().length === 1, 30_000);
      child.kill('SIGINT');
      assert.deepEqual(await exited, { code: 0, signal: null }, out);
      await until(() => !fake.runs().flat().some(running), 5_000);
    } finally {
      stopAll(child, fake);
    }
  });

  it('is a warning in `check`, said once, after the configured time rather than a minute per edition', { timeout: 60_000 }, async () => {
    const fake = await hangingSpamAssassin();
    const root = await sampleSite({ checks: { spam: { timeoutSeconds: 1 } } });
    const started = performance.now();
    // A date with news for both next issues (and messages no earlier test has scored).
    const run = await almanac(['check', '--root', root, '--now', '2026-06-08T09:00:00Z'], { env: { SPAMASSASSIN_PATH: undefined, PATH: `${fake.dir}:${process.env.PATH}` } });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /next Sunday \(2026-06-14\): /, 'the next Sunday was checked too');
    const said = run.stdout.match(/warning: next Midweek \(2026-06-10\): spam-score: expected a score from SpamAssassin within 1 s \(checks\.spam\.timeoutSeconds\), found no spam score: SpamAssassin did not answer within 1 s and was stopped\n/g);
    assert.equal(said?.length, 1, run.stdout);
    assert.doesNotMatch(run.stdout + run.stderr, /next Sunday[^\n]*spam/);
    assert.equal(fake.runs().length, 1, 'not asked again for the next edition');
    assert.ok(seconds < 30, `check took ${seconds.toFixed(1)} s`);
    await until(() => !fake.runs().flat().some(running), 5_000);
  });
});
