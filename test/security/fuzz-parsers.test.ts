/**
 * A short run of every fuzz property of fuzz/ (assembled by fuzz/index.ts; the long run is `npm run fuzz`). The
 * seed is fixed and printed in each test's name; fast-check's failure report adds the counterexample and its
 * replay path.
 */
import { after, describe, type TestOptions, test } from 'node:test';
import fc from 'fast-check';
import { beginOutcomeStats, createFuzzSuite, outcomeSummary } from './fuzz/index.js';

/**
 * Fixed, so that a failure here reproduces. `npm run fuzz -- --seed 20250917 --only '<name>'` generates the same
 * first cases (and many more).
 */
const SEED = 20250917;

const suite = createFuzzSuite();
after(() => suite.cleanup());

describe(`parser fuzzing (seed ${SEED})`, () => {
  for (const p of suite.properties) {
    const options: TestOptions = { timeout: 120_000 };
    if (p.knownIssue !== undefined) options.todo = `known issue: ${p.knownIssue}`;
    test(`${p.name} [seed ${SEED}, ${p.testRuns} runs]`, options, async (t) => {
      if (p.available && !(await p.available())) {
        t.skip('a dependency this property needs is not installed');
        return;
      }
      beginOutcomeStats(p.name);
      await fc.assert(p.property, { seed: SEED, numRuns: p.testRuns });
      t.diagnostic(`outcomes: ${outcomeSummary(p.name)}`);
    });
  }
});
