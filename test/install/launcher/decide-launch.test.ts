/** The launcher's pure decisions, as tables: name, input, expected result. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { InstallState } from '../../../src/install/index.js';
import {
  countTrialLaunch,
  decideLaunch,
  decideTrialExit,
  entryCommand,
  type LaunchDecision,
  type LaunchInput,
  type TrialExit,
  type TrialOutcome,
} from '../../../src/install/launcher/index.js';
import { T0, T1, trialState } from './helpers.js';

const POLICY = { confirmWithinMs: 1000, maxLaunches: 3 };
const BOTH = ['1.0.0', '1.1.0'];
const stable: InstallState = trialState({ current: '1.0.0', previous: null, trial: null });

function input(state: InstallState | null, overrides: Partial<LaunchInput> = {}): LaunchInput {
  return { state, trialHealthy: false, installed: BOTH, policy: POLICY, now: T1, ...overrides };
}

describe('decideLaunch', () => {
  const rows: [string, LaunchInput, LaunchDecision | RegExp][] = [
    ['no state: error', input(null), /no install\.json.*Reinstall/],
    [
      'no trial: start current',
      input(stable),
      { kind: 'start', version: '1.0.0', trial: false, endTrial: false },
    ],
    [
      'trial, first launch: start it on trial with the previous as fallback',
      input(trialState()),
      { kind: 'start', version: '1.1.0', trial: true, rollbackTo: '1.0.0', launch: 1 },
    ],
    [
      'trial launched maxLaunches-1 times: one more',
      input(trialState({ trial: { version: '1.1.0', launches: 2, since: T0 } })),
      { kind: 'start', version: '1.1.0', trial: true, rollbackTo: '1.0.0', launch: 3 },
    ],
    [
      'trial launched maxLaunches times without confirming: roll back',
      input(trialState({ trial: { version: '1.1.0', launches: 3, since: T0 } })),
      { kind: 'rollback', from: '1.1.0', to: '1.0.0', reason: 'too-many-launches', at: T1 },
    ],
    [
      'trial healthy: end the trial and start it plainly, whatever the launch count',
      input(trialState({ trial: { version: '1.1.0', launches: 9, since: T0 } }), { trialHealthy: true }),
      { kind: 'start', version: '1.1.0', trial: false, endTrial: true },
    ],
    [
      // The time limit is per launch: a trial switched to a week ago but never started gets its full launches.
      'trial switched long ago: still started (no time limit across launches)',
      input(trialState({ trial: { version: '1.1.0', launches: 0, since: 0 } }), { now: T1 * 10 }),
      { kind: 'start', version: '1.1.0', trial: true, rollbackTo: '1.0.0', launch: 1 },
    ],
    [
      'trial with no previous: run on trial without fallback, also past maxLaunches',
      input(trialState({ previous: null, trial: { version: '1.1.0', launches: 7, since: T0 } })),
      { kind: 'start', version: '1.1.0', trial: true, rollbackTo: null, launch: 8 },
    ],
    [
      'previous directory missing: no fallback',
      input(trialState(), { installed: ['1.1.0'] }),
      { kind: 'start', version: '1.1.0', trial: true, rollbackTo: null, launch: 1 },
    ],
    [
      'previous equal to current: no fallback',
      input(trialState({ previous: '1.1.0' })),
      { kind: 'start', version: '1.1.0', trial: true, rollbackTo: null, launch: 1 },
    ],
    [
      'trial of a version that is not current: ignored, start current',
      input(
        trialState({ current: '1.0.0', previous: null, trial: { version: '1.1.0', launches: 0, since: T0 } }),
      ),
      { kind: 'start', version: '1.0.0', trial: false, endTrial: false },
    ],
    [
      'current directory missing: error',
      input(stable, { installed: ['1.1.0'] }),
      /1\.0\.0 is missing.*Reinstall/,
    ],
    ['current not a version name: error', input({ ...stable, current: '../x' }), /invalid current version/],
    [
      'entry escapes the version directory: error',
      input({ ...stable, entry: '../../bin/sh' }),
      /unsafe entry/,
    ],
    ['absolute entry: error', input({ ...stable, entry: '/bin/sh' }), /unsafe entry/],
  ];
  for (const [name, given, expected] of rows) {
    test(name, () => {
      const actual = decideLaunch(given);
      if (expected instanceof RegExp) {
        assert.equal(actual.kind, 'error');
        assert.match((actual as { message: string }).message, expected);
      } else assert.deepEqual(actual, expected);
    });
  }
});

describe('decideTrialExit', () => {
  const exit = (overrides: Partial<TrialExit>): TrialExit => ({
    code: 0,
    signal: null,
    healthy: false,
    stopRequested: false,
    ...overrides,
  });
  const rows: [string, TrialExit, string | null, TrialOutcome][] = [
    ['healthy, exit 0: confirmed', exit({ healthy: true }), '1.0.0', { kind: 'confirmed' }],
    [
      'healthy, then crashed: confirmed (not the update’s fault)',
      exit({ healthy: true, code: 1 }),
      '1.0.0',
      { kind: 'confirmed' },
    ],
    ['exit 0 unconfirmed: trial goes on', exit({}), '1.0.0', { kind: 'unconfirmed' }],
    [
      'exit 3 unconfirmed: rollback, detail 3',
      exit({ code: 3 }),
      '1.0.0',
      { kind: 'rollback', to: '1.0.0', reason: 'crashed', detail: '3' },
    ],
    [
      'signal unconfirmed: rollback, detail the signal',
      exit({ code: null, signal: 'SIGSEGV' }),
      '1.0.0',
      { kind: 'rollback', to: '1.0.0', reason: 'crashed', detail: 'SIGSEGV' },
    ],
    [
      'could not start: rollback, detail the error code',
      exit({ code: null, spawnError: 'EACCES' }),
      '1.0.0',
      { kind: 'rollback', to: '1.0.0', reason: 'crashed', detail: 'EACCES' },
    ],
    [
      'stopped by the user, died of SIGTERM: no crash',
      exit({ code: null, signal: 'SIGTERM', stopRequested: true }),
      '1.0.0',
      { kind: 'unconfirmed' },
    ],
    [
      'stopped by the user, exit 130: no crash',
      exit({ code: 130, stopRequested: true }),
      '1.0.0',
      { kind: 'unconfirmed' },
    ],
    ['crash with nothing to roll back to: trial goes on', exit({ code: 3 }), null, { kind: 'unconfirmed' }],
  ];
  for (const [name, given, rollbackTo, expected] of rows) {
    test(name, () => assert.deepEqual(decideTrialExit(given, rollbackTo), expected));
  }
});

test('countTrialLaunch: one more launch on trial; no trial, same state', () => {
  assert.deepEqual(countTrialLaunch(trialState()).trial, { version: '1.1.0', launches: 1, since: T0 });
  assert.equal(countTrialLaunch(stable), stable);
});

describe('entryCommand', () => {
  const root = join('/', 'opt', 'app');
  const dir = join(root, 'versions', '1.0.0');
  const rows: [string, string, { command: string; args: string[] }][] = [
    ['native executable', 'bin/app', { command: join(dir, 'bin', 'app'), args: ['-v'] }],
    ['.js via node', 'main.js', { command: '/node', args: [join(dir, 'main.js'), '-v'] }],
    ['.mjs via node', 'lib/app.mjs', { command: '/node', args: [join(dir, 'lib', 'app.mjs'), '-v'] }],
    ['.cjs via node', 'app.cjs', { command: '/node', args: [join(dir, 'app.cjs'), '-v'] }],
    ['.json is not a script', 'app.json', { command: join(dir, 'app.json'), args: ['-v'] }],
  ];
  for (const [name, entry, expected] of rows) {
    test(name, () => assert.deepEqual(entryCommand(root, '1.0.0', entry, ['-v'], '/node'), expected));
  }
});
