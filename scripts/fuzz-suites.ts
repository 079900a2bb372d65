// Longer runs of the seeded attack suites than `npm test` makes: the serve fuzz suite, the preview's
// host/origin fuzz run and the hostile-content build, once per seed from --seed on.
//   npm run fuzz:suites -- [--seed N] [--runs N]   (default: a random seed, 20 runs)
// A failing run names its seed; `FUZZ_SEED=N` (serve), `PREVIEW_FUZZ_SEED=N` and `HOSTILE_SEED=N`
// repeat one suite with it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = 'usage: npm run fuzz:suites -- [--seed INTEGER] [--runs COUNT]\n';
let values: { seed?: string; runs?: string };
try {
  ({ values } = parseArgs({ options: { seed: { type: 'string' }, runs: { type: 'string' } } }));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}
const first = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const runs = values.runs === undefined ? 20 : Number(values.runs);
if (!Number.isInteger(first) || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const project = fileURLToPath(new URL('../', import.meta.url));
const files = ['test/serve-fuzz.test.ts', 'test/preview-security.test.ts', 'test/hostile-content.unit.test.ts'];
for (let i = 0; i < runs; i++) {
  const seed = first + i;
  process.stderr.write(`seed ${seed} (${i + 1}/${runs})\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=dot', ...files], {
    cwd: project,
    env: { ...process.env, FUZZ_SEED: String(seed), PREVIEW_FUZZ_SEED: String(seed), HOSTILE_SEED: String(seed) },
    stdio: 'inherit',
  });
  if (run.status !== 0) {
    process.stderr.write(`failed with seed ${seed}: repeat it with FUZZ_SEED=${seed} PREVIEW_FUZZ_SEED=${seed} HOSTILE_SEED=${seed}\n`);
    process.exit(1);
  }
}
process.stderr.write(`${runs} seeds passed\n`);
