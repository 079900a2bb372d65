// Runs the test files, each exactly once:
//   node scripts/run-tests.mjs unit   the in-process files (test/*.unit.test.ts), in two processes
//                                     that each load a share of them (test/helpers/unit-shard.ts)
//   node scripts/run-tests.mjs all    those, then every other test file, one process per file
// The unit files share processes because loading the sources and libraries once per file cost more
// than the tests themselves; the other files start servers, browsers and child processes and keep a
// process each, two at a time.
// Every temporary folder the tests make (sites, databases, browser profiles) is made below one folder
// of this run, given to them as TMPDIR and removed when the run ends: a run otherwise left hundreds of
// sites behind, and repeated runs filled the disk. (tsx keeps its cache of compiled files there too,
// so each run compiles afresh: a fraction of a second per process, against a cache that only grew.)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('../', import.meta.url));
const testDir = path.join(project, 'test');
const which = process.argv[2];
if (which !== 'unit' && which !== 'all') {
  console.error(`usage: node scripts/run-tests.mjs unit|all (found "${which ?? ''}")`);
  process.exit(2);
}

const files = readdirSync(testDir).filter((n) => n.endsWith('.test.ts')).sort().map((n) => path.join('test', n));
const unit = files.filter((f) => f.endsWith('.unit.test.ts'));
const rest = files.filter((f) => !f.endsWith('.unit.test.ts'));
const workers = Math.max(1, Math.min(2, os.availableParallelism()));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'almanac-tests-'));
const env = { ...process.env, TMPDIR: scratch };
function removeScratch() {
  try {
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    console.error(`could not remove the tests' temporary folder ${scratch}: ${err.message}`);
  }
}
/** The test processes running, each the leader of a process group of its own, with a promise of its end. */
const running = new Map();
/** Starts node with `args`; its own processes (servers, builds, browsers) share its process group. */
function start(args, stdio) {
  const child = spawn(process.execPath, args, { cwd: project, stdio, env, detached: true });
  running.set(child, new Promise((resolve) => child.once('close', resolve)).then(() => running.delete(child)));
  return child;
}
/** Signals every test process and whatever it started. */
function signalAll(signal, children = [...running.keys()]) {
  for (const child of children) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group has ended.
    }
  }
}
// Stopped (Ctrl-C, or a CI's time limit): the test processes and what they started are stopped too,
// and the folder removed only once they have ended, so that none goes on writing into it; what does
// not end within a few seconds, or once the run is stopped again, is killed. The run then ends by
// the same signal, so that a shell loop around it stops too.
let stopping;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) return signalAll('SIGKILL');
    stopping = stop(signal);
  });
}
async function stop(signal) {
  const children = [...running.keys()];
  signalAll(signal, children);
  const late = setTimeout(() => signalAll('SIGKILL'), 10_000);
  await Promise.all(running.values());
  clearTimeout(late);
  // A test process gone may have left what it started: nothing of its group outlives the run.
  signalAll('SIGKILL', children);
  removeScratch();
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

/** Runs node with `args` from the project folder; its output is printed whole once it ends, so shards do not interleave. */
function run(args) {
  return new Promise((resolve) => {
    const child = start(args, ['ignore', 'pipe', 'pipe']);
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output: Buffer.concat(out) }));
  });
}

/** The unit files split into `workers` shares of about the same size (bytes of test code stand in for time). */
function shards() {
  const out = Array.from({ length: workers }, () => ({ bytes: 0, files: [] }));
  const bySize = unit.map((f) => ({ f, bytes: statSync(path.join(project, f)).size })).sort((a, b) => b.bytes - a.bytes);
  for (const { f, bytes } of bySize) {
    const lightest = out.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.files.push(f);
    lightest.bytes += bytes;
  }
  return out.filter((s) => s.files.length > 0).map((s) => s.files.sort());
}

// A unit file shares its process and must start no other: one that does belongs in a plain *.test.ts.
const STARTS_PROCESS = /node:child_process|\blaunchBrowser\b|\bBIN\b|import \{[^}]*\balmanac\b[^}]*\} from '\.\/helpers\/cli\.ts'/;
const misplaced = unit.filter((f) => STARTS_PROCESS.test(readFileSync(path.join(project, f), 'utf8')));
if (misplaced.length > 0) {
  for (const f of misplaced) console.error(`${f}: starts a process or a browser; name it *.test.ts (not *.unit.test.ts), or run the command in-process`);
  removeScratch();
  process.exit(1);
}

let failed = false;
const started = Date.now();
const results = await Promise.all(shards().map((share) => run(['--import', 'tsx', '--test-reporter=spec', 'test/helpers/unit-shard.ts', ...share])));
// A run being stopped ends there (see stop), without the report of the tests it stopped.
if (stopping) await stopping;
for (const r of results) {
  process.stdout.write(r.output);
  if (r.code !== 0) failed = true;
}
console.log(`unit tests: ${unit.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s${failed ? ', with failures' : ''}`);

if (which === 'all') {
  const other = start(['--import', 'tsx', '--test', `--test-concurrency=${workers}`, ...rest], 'inherit');
  const code = await new Promise((resolve) => other.on('close', (c) => resolve(c ?? 1)));
  if (code !== 0) failed = true;
}
if (stopping) await stopping;
removeScratch();
process.exit(failed ? 1 : 0);
