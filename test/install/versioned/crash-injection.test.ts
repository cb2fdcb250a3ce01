/**
 * Crash injection with real processes (harness: crash-harness.mjs, on the BUILT dist/; npm test builds first).
 * Each run prepares an install root on 1.1.0, installs 2.0.0 (a release of ~140 entries: nested small files, a
 * 1 MiB file, an executable, symlinks, odd modes) in a child process, SIGKILLs it at a random kill point, then
 * starts the real entry point (notsotuf-launch). The app must start and print exactly the old or exactly the new
 * version, and install.json and the version directories must be exactly that release, byte for byte.
 *
 * Kill-point granularity: `op` kills land right before a chosen file-system call of the install (every
 * fs/promises function and FileHandle method, wrapped in the child; ~760 calls per install), i.e. between any
 * two file operations; `step` kills at each of the 5 step boundaries; `time` kills come from the parent at a
 * uniform random delay in [0, T] (T: a measured uninterrupted install), so they may land inside a system call;
 * runs side by side are slower than T, so these land mostly in the preparation and the copy, while `op` kills aim
 * at the move, switch and cleanup too. The diagnostic line says where each kind of kill left the install.
 *
 * The kill points come from a seeded PRNG. `npm test` uses a fixed seed, so every run tries the same plan and a
 * failure is not a matter of luck; NOTSOTUF_CRASH_SEED=<seed> picks another (`random` draws one), and the seed is
 * in the suite name to replay it (`time` kills then land at the same delays, not necessarily at the same
 * operation). `npm run stress` draws a new seed each run and tries 1,000+ kill points (every file-system call
 * once, plus random times), printing its seed.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type CrashHarness,
  createHarness,
  describeFailure,
  describeModes,
  NEW,
  OLD,
  parseSeed,
} from './crash-harness.mjs';

const RUNS = 200;
const CONCURRENCY = 2;
/** The seed of `npm test`: any fixed value; NOTSOTUF_CRASH_SEED overrides it. */
const DEFAULT_SEED = 20_251_206;
const SEED_ENV = process.env['NOTSOTUF_CRASH_SEED'];
const SEED = parseSeed(SEED_ENV === 'random' ? undefined : SEED_ENV || String(DEFAULT_SEED));

describe(`versioned install under crash injection (seed ${SEED}; replay: NOTSOTUF_CRASH_SEED=${SEED})`, () => {
  let harness: CrashHarness | undefined;
  before(async () => {
    // Fails (never skips) with "… is missing: … run `npm run build` first" when dist/ was not built.
    harness = await createHarness();
    await harness.calibrate();
  });
  after(() => harness?.close());

  const get = (): CrashHarness => {
    assert.ok(harness, 'the harness was created');
    return harness;
  };

  test('the checker accepts an intact root and flags every kind of damage', async () => {
    const h = get();
    const cases: [string, (root: string) => Promise<void>, RegExp | null][] = [
      ['intact', async () => {}, null],
      [
        'a changed file',
        (root) => writeFile(join(root, 'versions', OLD, `only-in-${OLD}.txt`), 'changed\n'),
        new RegExp(`versions/${OLD.replaceAll('.', '\\.')} differs from its release: only-in`),
      ],
      ['a changed mode', (root) => chmod(join(root, 'versions', OLD, 'etc', 'key.pem'), 0o644), /key\.pem/],
      [
        'a mixed app (old directory, new program)',
        (root) =>
          writeFile(
            join(root, 'versions', OLD, 'bin', 'app'),
            `#!/bin/sh\necho "app ${NEW} selected=${OLD}"\n`,
          ),
        /not exactly/,
      ],
      ['no install.json', (root) => rm(join(root, 'install.json')), /entry point exited with 70/],
    ];
    for (const [name, damage, expected] of cases) {
      const root = await h.setupRoot(join(h.base, 'checker', name.replaceAll(/\W+/g, '-')));
      await damage(root);
      const verdict = await h.verify(root);
      if (expected === null) {
        assert.deepEqual(verdict.problems, [], name);
        assert.equal(verdict.outcome, 'old', name);
      } else {
        assert.equal(verdict.outcome, null, name);
        assert.match(verdict.problems.join('\n'), expected, name);
      }
    }
  });

  test('it catches a non-atomic switch: a mutant that rewrites install.json in place', async () => {
    // The deliberate bug, in a private copy of dist/: install.json (written by util/durable-fs's writeFileAtomic)
    // truncated and rewritten instead of replaced by a rename. A kill between the truncation and the write leaves
    // an empty install.json: nothing can start.
    const mutant = await createHarness({
      small: 10,
      bigBytes: 4096,
      mutate: async (dist) => {
        const file = join(dist, 'util', 'durable-fs.js');
        const code = await readFile(file, 'utf8');
        const mutated = code
          .replace('const tmp = tempPathFor(target);', 'const tmp = target;')
          .replace("await open(tmp, 'wx', mode)", "await open(tmp, 'w', mode)");
        assert.equal(
          mutated.match(/const tmp = target;|open\(tmp, 'w', mode\)/g)?.length,
          2,
          'the mutation applies',
        );
        await writeFile(file, mutated);
      },
    });
    try {
      const { ops, stepOps } = await mutant.calibrate({ samples: 1 });
      // Every call from the switch step on, one run each.
      const from = stepOps[4] ?? 1;
      const points = Array.from({ length: ops - from + 1 }, (_, i) => ({
        mode: 'op' as const,
        op: from + i,
      }));
      const summary = await mutant.runAll(points, { concurrency: CONCURRENCY });
      assert.ok(summary.failures.length > 0, `the mutant survived ${points.length} kills around the switch`);
      const problems = summary.failures.flatMap((f) => f.problems).join('\n');
      assert.match(problems, /entry point exited with 70/);
    } finally {
      await mutant.close();
    }
  });

  test(`${RUNS} SIGKILLs (random file-system call, step boundary or time) leave exactly ${OLD} or ${NEW}`, async (t) => {
    const h = get();
    const { points } = h.plan({ runs: RUNS, seed: SEED });
    const summary = await h.runAll(points, { concurrency: CONCURRENCY });
    const modes = describeModes(summary);
    const calibration = h.calibration;
    t.diagnostic(
      `runs ${summary.runs}, kill points hit ${summary.hits} (${modes}), ` +
        `old ${summary.old}, new ${summary.new}, failures ${summary.failures.length}; ` +
        `install: ${calibration?.ops} file-system calls, T ${calibration?.durationMs.toFixed(0)} ms`,
    );
    const shown = summary.failures.slice(0, 10).map((f) => describeFailure(f, SEED));
    assert.equal(
      summary.failures.length,
      0,
      `${summary.failures.length} of ${RUNS} runs left a broken app (replay: NOTSOTUF_CRASH_SEED=${SEED}):\n` +
        shown.join('\n'),
    );
    assert.equal(summary.old + summary.new, RUNS);
    assert.ok(summary.old > 0, `some kills left ${OLD} (before the switch)`);
    assert.ok(summary.new > 0, `some kills left ${NEW} (after the switch)`);
    assert.ok(
      summary.hits >= 0.8 * RUNS,
      `at least 80% of the kills hit a running install: ${summary.hits} of ${RUNS} (${modes})`,
    );
    assert.equal(summary.byMode['step']?.hits, 5, 'every step boundary was killed');
  });
});
