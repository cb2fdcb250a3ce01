#!/usr/bin/env node
/**
 * `npm run stress`: crash injection at scale (harness: test/install/versioned/crash-harness.mjs, on the built
 * dist/). Installs a release of ~140 entries into an install root on the old version, SIGKILLs the installing
 * process at each kill point, starts the real entry point and checks that exactly the old or the new version runs,
 * byte-identical to its release. Not part of npm test.
 *
 * The plan (seeded): the 5 step boundaries; when --runs leaves room, a sweep that kills right before EVERY
 * file-system call of the install once (so between every two file operations); the rest at random times in
 * [0, T]. Without room for the sweep, the rest is half random calls, half random times.
 *
 *   node scripts/stress.mjs [--runs N] [--seed S] [--concurrency C] [--no-sweep] [--kill op:K|step:N|time:Dms]
 *                           [--tmp DIR] [--keep-failed]
 * Prints progress, then runs, kill points hit, old/new outcomes and every failure (with its seed and kill
 * point); exits 1 on any failure.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  createHarness,
  describeFailure,
  describeModes,
  describePhases,
  NEW,
  OLD,
  parseSeed,
} from '../test/install/versioned/crash-harness.mjs';

const USAGE =
  'usage: node scripts/stress.mjs [--runs N] [--seed S] [--concurrency C] [--no-sweep] ' +
  '[--kill op:K|step:N|time:Dms] [--tmp DIR] [--keep-failed]';

function positive(name, text) {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${text}`);
  return n;
}

/** `op:12`, `step:3` or `time:150ms` → a kill point. */
function parseKill(text) {
  const match = /^(op|step|time):(\d+(?:\.\d+)?)(ms)?$/.exec(text);
  if (!match) throw new Error(`--kill must be op:K, step:N or time:Dms, not ${text}`);
  const value = Number(match[2]);
  if (match[1] === 'time') return { mode: 'time', delayMs: value };
  return match[1] === 'op' ? { mode: 'op', op: value } : { mode: 'step', step: value };
}

let options;
try {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      'no-sweep': { type: 'boolean', default: false },
      kill: { type: 'string' },
      tmp: { type: 'string' },
      'keep-failed': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const kill = values.kill === undefined ? undefined : parseKill(values.kill);
  options = {
    runs: positive('runs', values.runs ?? (kill ? '1' : '1000')),
    seed: parseSeed(values.seed),
    concurrency: positive('concurrency', values.concurrency ?? String(availableParallelism())),
    sweep: !values['no-sweep'],
    kill,
    tmp: values.tmp,
    keepFailed: values['keep-failed'],
  };
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(64);
}

const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
const harness = await createHarness({ tmp: options.tmp, keepFailed: options.keepFailed });
let closing;
process.on('SIGINT', () => {
  closing ??= harness.close().finally(() => process.exit(130));
});

try {
  console.log(`stress: seed ${options.seed}, ${options.runs} runs, ${options.concurrency} at a time`);
  const calibration = await harness.calibrate();
  console.log(
    `calibration: installing ${NEW} (${calibration.files} entries) over ${OLD} makes ${calibration.ops} ` +
      `file-system calls and takes T = ${calibration.durationMs.toFixed(0)} ms uninterrupted`,
  );
  const { points, sweeping } = options.kill
    ? { points: Array.from({ length: options.runs }, () => options.kill), sweeping: false }
    : harness.plan({ runs: options.runs, seed: options.seed, sweep: options.sweep });
  if (options.kill) console.log(`kill point: ${options.kill.mode} ${JSON.stringify(options.kill)}`);
  else if (sweeping)
    console.log(`plan: 5 step boundaries, every one of the ${calibration.ops} calls, rest random times`);
  else console.log('plan: 5 step boundaries, the rest half random calls, half random times in [0, T]');

  let failed = 0;
  const every = Math.max(1, Math.round(options.runs / 20));
  const summary = await harness.runAll(points, {
    concurrency: options.concurrency,
    onResult: (result, finished) => {
      if (options.kill) {
        const where = result.killedAt ? ` (died before ${result.killedAt})` : '';
        console.log(`  ${result.id}: ${result.point}${where}, hit ${result.hit}, outcome ${result.outcome}`);
      }
      if (result.problems.length > 0) {
        failed += 1;
        console.log(`FAILURE\n${describeFailure(result, options.seed)}`);
      }
      if (finished % every === 0 || finished === points.length) {
        console.log(`  ${finished}/${points.length} runs, ${failed} failures, ${elapsed()} s`);
      }
    },
  });

  console.log('');
  console.log(`runs:             ${summary.runs}`);
  console.log(
    `kill points hit:  ${summary.hits} of ${summary.runs} (${summary.distinctOpsHit} distinct calls)`,
  );
  console.log(`install reached:  ${describePhases(summary.phases)}`);
  console.log(`by kill mode:     ${describeModes(summary)}`);
  console.log(`outcomes:         old (${OLD}) ${summary.old}, new (${NEW}) ${summary.new}`);
  console.log(`failures:         ${summary.failures.length}`);
  for (const failure of summary.failures) console.log(describeFailure(failure, options.seed));
  console.log(
    `seed:             ${options.seed} (replay: npm run stress -- --seed ${options.seed} --runs ${options.runs})`,
  );
  console.log(`time:             ${elapsed()} s`);
  process.exitCode = summary.failures.length === 0 ? 0 : 1;
} finally {
  if (!closing) await harness.close();
}
