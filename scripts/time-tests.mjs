// Times the test commands against their budgets: `npm test` within 4 minutes, `npm run test:unit`
// within 30 seconds. Each runs three times (--runs N to change) and the slowest run is what counts.
// The machine should be quiet: the load average before each run is printed beside its time.
//
//   npm run test:time                 both commands
//   npm run test:time -- --only unit  one of them (unit or all)
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs expects a whole number of at least 1, found "${values.runs}"`);
  process.exit(2);
}

const COMMANDS = [
  { name: 'unit', script: 'test:unit', budget: 30 },
  { name: 'all', script: 'test', budget: 240 },
];
const chosen = COMMANDS.filter((c) => values.only === undefined || c.name === values.only);
if (chosen.length === 0) {
  console.error(`--only expects ${COMMANDS.map((c) => c.name).join(' or ')}, found "${values.only}"`);
  process.exit(2);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let over = false;
for (const command of chosen) {
  const seconds = [];
  for (let i = 1; i <= runs; i++) {
    const load = os.loadavg()[0].toFixed(2);
    const started = process.hrtime.bigint();
    const run = spawnSync(npm, ['run', '--silent', command.script], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const took = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) {
      console.error(`npm run ${command.script} failed (exit ${run.status}); its errors:\n${run.stderr}`);
      process.exit(1);
    }
    seconds.push(took);
    console.log(`npm run ${command.script}, run ${i} of ${runs}: ${took.toFixed(1)} s (load average before it: ${load})`);
  }
  const worst = Math.max(...seconds);
  const fits = worst <= command.budget;
  if (!fits) over = true;
  console.log(`npm run ${command.script}: slowest ${worst.toFixed(1)} s of ${command.budget} s allowed: ${fits ? 'within' : 'OVER'} budget\n`);
}
process.exit(over ? 1 : 0);
