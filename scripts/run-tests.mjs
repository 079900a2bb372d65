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
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
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
/** The test processes running, with a promise of each one's end. */
const running = new Map();
/** Starts node with `args` in the run's own process group, so that Ctrl-C and Ctrl-Z reach it directly. */
function start(args, stdio) {
  const child = spawn(process.execPath, args, { cwd: project, stdio, env });
  running.set(child, new Promise((resolve) => child.once('close', resolve)).then(() => running.delete(child)));
  return child;
}
/**
 * Every process below this one: the test processes and what they started (servers, builds, browsers,
 * some in process groups of their own), read from /proc; the test processes alone where there is none.
 */
function descendants() {
  const found = [];
  const queue = [process.pid];
  while (queue.length > 0) {
    const pid = queue.shift();
    let tasks;
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      if (pid === process.pid) return [...running.keys()].map((child) => child.pid);
      continue;
    }
    for (const task of tasks) {
      let children = [];
      try {
        children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
      } catch {
        // That thread has ended.
      }
      for (const child of children) {
        if (found.includes(child)) continue;
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}
/** Whether `pid` still runs (a process that has ended but is not yet reaped does not). */
function runs(pid) {
  if (existsSync('/proc/self')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat[stat.lastIndexOf(')') + 2] !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function signal(pids, name) {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // It has ended.
    }
  }
}
// Stopped (Ctrl-C, a CI's time limit, a closed terminal): the test processes and what they started
// are stopped too, and the folder removed only once they have all ended, so that none goes on writing
// into it; what does not end within ten seconds, or once the run is stopped again, is killed. The run
// then ends by the same signal, so that a shell loop around it stops too.
let stopping;
let killNow = () => {};
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(name, () => {
    if (stopping) return killNow();
    stopping = stop(name);
  });
}
async function stop(name) {
  const pids = descendants();
  signal(pids, name);
  const deadline = Date.now() + 10_000;
  let again = false;
  killNow = () => (again = true);
  while (!again && Date.now() < deadline && pids.some(runs)) await new Promise((resolve) => setTimeout(resolve, 50));
  signal([...pids, ...descendants()], 'SIGKILL');
  await Promise.all(running.values());
  removeScratch();
  process.removeAllListeners(name);
  process.kill(process.pid, name);
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
