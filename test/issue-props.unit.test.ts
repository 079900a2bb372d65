// Property-based tests of the issue pipeline (see test/props/issue-pipeline.ts): generated content in
// several time zones and both editions, with and without the editor's notes (pins, drops, guides and
// an intro), builds, passes its own checks, stays under Gmail's clipping size, shows every story of
// the window exactly once but the dropped ones, pinned ones first and in order, the noted guides
// as the featured ones, and a text part of lines that fit 78 characters. Seeded: a failure prints the seed and path;
// PROPS_SEED=<n> reruns it, and `npm run props -- --seed <n>` shrinks it to a small case or, with
// `--runs 10000`, goes deeper. Not shrunk here: shrinking an issue of 40 long stories takes minutes.
import { it } from 'node:test';
import { runIssueProperties } from './props/issue-pipeline.ts';

const seed = process.env.PROPS_SEED === undefined ? 20260415 : Number(process.env.PROPS_SEED);

it(`the issue pipeline holds its properties (seed ${seed})`, async () => {
  await runIssueProperties({ seed, runs: Number(process.env.PROPS_RUNS ?? 32), headlineFactor: 10, noShrink: true });
});
