// Deeper runs of the issue pipeline's properties than `npm test` makes:
//   npm run props -- [--seed N] [--runs N] [--no-shrink]   (default: a random seed, 10,000 runs)
// A failure prints the seed and the path that reproduce it, and the smallest failing content found.
import { parseArgs } from 'node:util';
import { runIssueProperties } from '../test/props/issue-pipeline.ts';

const USAGE = 'usage: npm run props -- [--seed INTEGER] [--runs COUNT] [--no-shrink]\n';
let values: { seed?: string; runs?: string; 'no-shrink'?: boolean };
try {
  ({ values } = parseArgs({ options: { seed: { type: 'string' }, runs: { type: 'string' }, 'no-shrink': { type: 'boolean' } } }));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const runs = values.runs === undefined ? 10_000 : Number(values.runs);
if (!Number.isInteger(seed) || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write(USAGE);
  process.exit(2);
}
process.stderr.write(`issue properties: seed ${seed}, ${runs} runs\n`);
const started = performance.now();
try {
  await runIssueProperties({ seed, runs, noShrink: values['no-shrink'] ?? false });
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stderr.write(`passed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
