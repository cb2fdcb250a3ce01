/** The versioned layout's state transitions, as named table rows (input → expected state). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  afterConfirm,
  afterInstall,
  afterTrialFailure,
  type InstallState,
  isFailedVersion,
  MAX_FAILED_VERSIONS,
  versionsToKeep,
  versionsToRemove,
} from '../../../src/install/index.js';

const T0 = 1_000;
const NOW = 5_000;

/** A state with current 1.0.0, nothing on trial; `over` replaces fields. */
function state(over: Partial<InstallState> = {}): InstallState {
  return {
    format: 1,
    current: '1.0.0',
    previous: null,
    entry: 'bin/app',
    trial: null,
    failed: [],
    lastResult: null,
    ...over,
  };
}

const crashed = (version: string, at = T0) => ({ version, reason: 'crashed' as const, at });

describe('afterInstall', () => {
  const rows: {
    name: string;
    input: [InstallState | undefined, string, { keepPrevious?: boolean }?];
    expected: Partial<InstallState>;
  }[] = [
    {
      name: 'fresh root: current, trial, no previous',
      input: [undefined, '1.0.0'],
      expected: {
        current: '1.0.0',
        previous: null,
        trial: { version: '1.0.0', launches: 0, since: NOW },
        failed: [],
        lastResult: { kind: 'installed', version: '1.0.0', previous: null, at: NOW },
      },
    },
    {
      name: 'update: the old current becomes previous',
      input: [state({ previous: '0.9.0' }), '1.1.0'],
      expected: {
        current: '1.1.0',
        previous: '1.0.0',
        trial: { version: '1.1.0', launches: 0, since: NOW },
        lastResult: { kind: 'installed', version: '1.1.0', previous: '1.0.0', at: NOW },
      },
    },
    {
      name: 'keepPrevious false: no previous',
      input: [state(), '1.1.0', { keepPrevious: false }],
      expected: { current: '1.1.0', previous: null },
    },
    {
      name: 'an unconfirmed trial is replaced by the new one',
      input: [state({ previous: '0.9.0', trial: { version: '1.0.0', launches: 2, since: T0 } }), '1.1.0'],
      expected: { current: '1.1.0', previous: '1.0.0', trial: { version: '1.1.0', launches: 0, since: NOW } },
    },
    {
      name: 'reinstalling the current version keeps its previous',
      input: [state({ previous: '0.9.0' }), '1.0.0'],
      expected: { current: '1.0.0', previous: '0.9.0' },
    },
    {
      name: 'reinstalling the previous version swaps them',
      input: [state({ previous: '0.9.0' }), '0.9.0'],
      expected: { current: '0.9.0', previous: '1.0.0' },
    },
    {
      name: 'failures of other versions are kept; the reinstalled one is forgotten (also spelled differently)',
      input: [state({ failed: [crashed('1.1'), crashed('0.5.0')] }), '1.1.0'],
      expected: { failed: [crashed('0.5.0')] },
    },
  ];
  for (const { name, input, expected } of rows) {
    test(name, () => {
      const [s, version, options] = input;
      const out = afterInstall(s, version, 'bin/app', NOW, options);
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(out[key as keyof InstallState], value, key);
      }
      assert.equal(out.entry, 'bin/app');
      assert.equal(out.format, 1);
    });
  }

  test('unknown fields survive (a newer writer’s additions)', () => {
    const s = { ...state(), extra: { keep: true } } as InstallState;
    assert.deepEqual((afterInstall(s, '2.0.0', 'app.js', NOW) as unknown as { extra: unknown }).extra, {
      keep: true,
    });
  });
});

describe('afterConfirm', () => {
  const onTrial = state({
    current: '1.1.0',
    previous: '1.0.0',
    trial: { version: '1.1.0', launches: 1, since: T0 },
  });
  const rows: { name: string; input: [InstallState, string]; expected: InstallState }[] = [
    {
      name: 'the version on trial: trial ends, lastResult confirmed',
      input: [onTrial, '1.1.0'],
      expected: { ...onTrial, trial: null, lastResult: { kind: 'confirmed', version: '1.1.0', at: NOW } },
    },
    { name: 'another version: unchanged', input: [onTrial, '1.0.0'], expected: onTrial },
    { name: 'no trial: unchanged', input: [state(), '1.0.0'], expected: state() },
  ];
  for (const { name, input, expected } of rows) {
    test(name, () => assert.deepEqual(afterConfirm(input[0], input[1], NOW), expected));
  }
  test('returns the same object when nothing changes (so callers skip the write)', () => {
    assert.equal(afterConfirm(onTrial, '9.9.9', NOW), onTrial);
  });
});

describe('afterTrialFailure', () => {
  const onTrial = state({
    current: '1.1.0',
    previous: '1.0.0',
    trial: { version: '1.1.0', launches: 3, since: T0 },
    failed: [crashed('0.5.0'), crashed('1.1.0', 1)],
  });
  const rows: {
    name: string;
    input: [InstallState, 'crashed' | 'not-confirmed-in-time' | 'too-many-launches', string | undefined];
    expected: InstallState;
  }[] = [
    {
      name: 'crash: back to previous, failed recorded once, lastResult rolled-back with the detail',
      input: [onTrial, 'crashed', 'SIGSEGV'],
      expected: {
        ...onTrial,
        current: '1.0.0',
        previous: null,
        trial: null,
        failed: [crashed('0.5.0'), { version: '1.1.0', reason: 'crashed', detail: 'SIGSEGV', at: NOW }],
        lastResult: {
          kind: 'rolled-back',
          from: '1.1.0',
          to: '1.0.0',
          reason: 'crashed',
          detail: 'SIGSEGV',
          at: NOW,
        },
      },
    },
    {
      name: 'too many launches, no detail: no detail fields',
      input: [onTrial, 'too-many-launches', undefined],
      expected: {
        ...onTrial,
        current: '1.0.0',
        previous: null,
        trial: null,
        failed: [crashed('0.5.0'), { version: '1.1.0', reason: 'too-many-launches', at: NOW }],
        lastResult: { kind: 'rolled-back', from: '1.1.0', to: '1.0.0', reason: 'too-many-launches', at: NOW },
      },
    },
    {
      name: 'no previous: unchanged',
      input: [{ ...onTrial, previous: null }, 'crashed', '1'],
      expected: { ...onTrial, previous: null },
    },
    {
      name: 'no trial: unchanged',
      input: [{ ...onTrial, trial: null }, 'crashed', '1'],
      expected: { ...onTrial, trial: null },
    },
    {
      name: 'trial of a version that is not current: unchanged',
      input: [{ ...onTrial, current: '1.0.0', previous: '0.9.0' }, 'crashed', '1'],
      expected: { ...onTrial, current: '1.0.0', previous: '0.9.0' },
    },
  ];
  for (const { name, input, expected } of rows) {
    test(name, () => assert.deepEqual(afterTrialFailure(...input, NOW), expected));
  }

  test(`remembers at most ${MAX_FAILED_VERSIONS} failed versions, dropping the oldest`, () => {
    const failed = Array.from({ length: MAX_FAILED_VERSIONS }, (_, i) => crashed(`0.${i}.0`));
    const out = afterTrialFailure({ ...onTrial, failed }, 'crashed', undefined, NOW);
    assert.equal(out.failed.length, MAX_FAILED_VERSIONS);
    assert.equal(out.failed[0]?.version, '0.1.0');
    assert.equal(out.failed.at(-1)?.version, '1.1.0');
  });
});

describe('versionsToKeep / versionsToRemove', () => {
  const rows: {
    name: string;
    input: [string[], InstallState | undefined];
    keep: string[];
    remove: string[];
  }[] = [
    {
      name: 'current and previous kept, the rest removed, dot names never',
      input: [
        ['0.9.0', '1.0.0', '1.1.0', '.staging-abc', '0.8.0'],
        state({ current: '1.1.0', previous: '1.0.0' }),
      ],
      keep: ['1.0.0', '1.1.0'],
      remove: ['0.8.0', '0.9.0'],
    },
    {
      name: 'a trial version is kept',
      input: [['1.0.0', '2.0.0'], state({ trial: { version: '2.0.0', launches: 0, since: 0 } })],
      keep: ['1.0.0', '2.0.0'],
      remove: [],
    },
    { name: 'no state: nothing removed', input: [['1.0.0', '2.0.0'], undefined], keep: [], remove: [] },
  ];
  for (const { name, input, keep, remove } of rows) {
    test(name, () => {
      if (input[1] !== undefined) assert.deepEqual([...versionsToKeep(input[1])].sort(), keep);
      assert.deepEqual(versionsToRemove(...input), remove);
    });
  }
});

describe('isFailedVersion', () => {
  const s = state({ failed: [crashed('1.1.0')] });
  const rows: { name: string; input: [InstallState | undefined, string]; expected: boolean }[] = [
    { name: 'the failed version', input: [s, '1.1.0'], expected: true },
    { name: 'the same version spelled differently', input: [s, '1.1'], expected: true },
    { name: 'a newer version', input: [s, '1.1.1'], expected: false },
    { name: 'no state', input: [undefined, '1.1.0'], expected: false },
  ];
  for (const { name, input, expected } of rows)
    test(name, () => assert.equal(isFailedVersion(...input), expected));
});
