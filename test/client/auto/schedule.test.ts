/**
 * The auto-updater's timing as data: when the next check is due after each kind of outcome, the jitter window's
 * bounds, the transient backoff and its caps, the throttle, and how outcomes change the persisted state.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AutoUpdateState,
  classifyFailure,
  DEFAULT_SCHEDULE,
  isCheckDue,
  nextCheckDelay,
  recordCheckResult,
  recordCheckStart,
  retryBackoff,
  type ScheduleOptions,
  scheduleOptions,
  startDelay,
} from '../../../src/client/auto/schedule.js';

const H = 60 * 60 * 1000;
const MIN = 60 * 1000;
const NOW = 1_700_000_000_000;
const OPTS: ScheduleOptions = {
  interval: 4 * H,
  jitter: 0.1,
  retryDelay: MIN,
  maxRetryDelay: H,
  initialDelay: 0,
};

const ok = (ago: number): AutoUpdateState => ({
  lastCheckAt: NOW - ago,
  lastResult: 'no-update',
  failures: 0,
});
const failed = (ago: number, failures: number, code: string): AutoUpdateState => ({
  lastCheckAt: NOW - ago,
  lastResult: 'error',
  failures,
  lastError: { code, class: classifyFailure(code) },
});

describe('nextCheckDelay', () => {
  const rows: {
    name: string;
    state: AutoUpdateState;
    random: number;
    options?: Partial<ScheduleOptions>;
    expected: { delayMs: number; reason: string };
  }[] = [
    {
      name: 'never checked: at once',
      state: { failures: 0 },
      random: 0.7,
      expected: { delayMs: 0, reason: 'first-check' },
    },
    {
      name: 'just checked, no jitter draw (0.5): one interval',
      state: ok(0),
      random: 0.5,
      expected: { delayMs: 4 * H, reason: 'interval' },
    },
    {
      name: 'jitter low bound (random 0): interval × 0.9',
      state: ok(0),
      random: 0,
      expected: { delayMs: 0.9 * 4 * H, reason: 'interval' },
    },
    {
      name: 'jitter high bound (random 1): interval × 1.1',
      state: ok(0),
      random: 1,
      expected: { delayMs: 1.1 * 4 * H, reason: 'interval' },
    },
    {
      name: 'random outside [0, 1] is clamped',
      state: ok(0),
      random: 7,
      expected: { delayMs: 1.1 * 4 * H, reason: 'interval' },
    },
    {
      name: 'checked 1 h ago: the rest of the interval',
      state: ok(H),
      random: 0.5,
      expected: { delayMs: 3 * H, reason: 'interval' },
    },
    {
      name: 'checked long ago: due now',
      state: ok(30 * H),
      random: 1,
      expected: { delayMs: 0, reason: 'interval' },
    },
    {
      name: 'last check in the future (clock went back): one interval, never more',
      state: ok(-10 * H),
      random: 0.5,
      expected: { delayMs: 4 * H, reason: 'interval' },
    },
    {
      name: 'found an update last time: the interval',
      state: { lastCheckAt: NOW, lastResult: 'update', failures: 0 },
      random: 0.5,
      expected: { delayMs: 4 * H, reason: 'interval' },
    },
    {
      name: 'first transient failure: retryDelay',
      state: failed(0, 1, 'DOWNLOAD_FAILED'),
      random: 0.5,
      expected: { delayMs: MIN, reason: 'retry' },
    },
    {
      name: 'third transient failure: retryDelay × 4',
      state: failed(0, 3, 'DOWNLOAD_STALLED'),
      random: 0.5,
      expected: { delayMs: 4 * MIN, reason: 'retry' },
    },
    {
      name: 'backoff capped at maxRetryDelay',
      state: failed(0, 12, 'METADATA_NOT_FOUND'),
      random: 0.5,
      expected: { delayMs: H, reason: 'retry' },
    },
    {
      name: 'backoff after very many failures stays capped',
      state: failed(0, 5000, 'CACHE_LOCKED'),
      random: 0.5,
      expected: { delayMs: H, reason: 'retry' },
    },
    {
      name: 'backoff never exceeds the interval',
      state: failed(0, 20, 'DOWNLOAD_FAILED'),
      random: 0.5,
      options: { interval: 10 * MIN },
      expected: { delayMs: 10 * MIN, reason: 'retry' },
    },
    {
      name: 'backoff is jittered too (high bound)',
      state: failed(0, 1, 'DOWNLOAD_FAILED'),
      random: 1,
      expected: { delayMs: 1.1 * MIN, reason: 'retry' },
    },
    {
      name: 'a retry already partly waited',
      state: failed(30_000, 1, 'DOWNLOAD_FAILED'),
      random: 0.5,
      expected: { delayMs: 30_000, reason: 'retry' },
    },
    {
      name: 'security failure: not retried before the full interval',
      state: failed(0, 1, 'METADATA_SIGNATURE_INVALID'),
      random: 0.5,
      expected: { delayMs: 4 * H, reason: 'interval' },
    },
    {
      name: 'rollback attack, many times: still the full interval, no tight loop',
      state: failed(0, 50, 'METADATA_ROLLBACK'),
      random: 0,
      expected: { delayMs: 0.9 * 4 * H, reason: 'interval' },
    },
    {
      name: 'other failure (install failed): the full interval',
      state: failed(0, 1, 'INSTALL_FAILED'),
      random: 0.5,
      expected: { delayMs: 4 * H, reason: 'interval' },
    },
    {
      name: 'no jitter configured: random has no effect',
      state: ok(0),
      random: 0.99,
      options: { jitter: 0 },
      expected: { delayMs: 4 * H, reason: 'interval' },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const got = nextCheckDelay(row.state, NOW, { ...OPTS, ...row.options }, row.random);
      assert.equal(got.reason, row.expected.reason);
      assert.ok(
        Math.abs(got.delayMs - row.expected.delayMs) <= 1,
        `${got.delayMs} ≈ ${row.expected.delayMs}`,
      );
    });
  }

  test('every draw lies in the jitter window', () => {
    for (let i = 0; i <= 100; i++) {
      const { delayMs } = nextCheckDelay(ok(0), NOW, OPTS, i / 100);
      assert.ok(delayMs >= 0.9 * 4 * H - 1 && delayMs <= 1.1 * 4 * H + 1, String(delayMs));
    }
  });
});

test('retryBackoff doubles from retryDelay and is capped', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => retryBackoff(n, OPTS)),
    [MIN, MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN, 32 * MIN, H, H, H],
  );
});

describe('startDelay and isCheckDue', () => {
  test('the first check waits initialDelay', () => {
    assert.deepEqual(startDelay({ failures: 0 }, NOW, { ...OPTS, initialDelay: 5000 }, 0.5), {
      delayMs: 5000,
      reason: 'first-check',
    });
  });
  test('a restart right after a check waits for the persisted schedule, not initialDelay', () => {
    assert.equal(startDelay(ok(MIN), NOW, { ...OPTS, initialDelay: 5000 }, 0.5).delayMs, 4 * H - MIN);
  });
  const due: [string, AutoUpdateState, boolean][] = [
    ['never checked', { failures: 0 }, true],
    ['checked a minute ago (ten restarts in a minute)', ok(MIN), false],
    ['checked just under the jitter window', ok(0.9 * 4 * H - 1000), false],
    ['checked at the low end of the jitter window', ok(0.9 * 4 * H), true],
    ['transient failure, backoff passed', failed(2 * MIN, 1, 'DOWNLOAD_FAILED'), true],
    ['transient failure, backoff not passed', failed(10_000, 1, 'DOWNLOAD_FAILED'), false],
    ['security failure a minute ago', failed(MIN, 1, 'METADATA_ROLLBACK'), false],
  ];
  for (const [name, state, expected] of due) {
    test(`due: ${name} → ${expected}`, () => assert.equal(isCheckDue(state, NOW, OPTS), expected));
  }
});

describe('classifyFailure', () => {
  const rows: [string, string][] = [
    ['DOWNLOAD_FAILED', 'transient'],
    ['DOWNLOAD_STALLED', 'transient'],
    ['DOWNLOAD_TOO_LARGE', 'transient'],
    ['METADATA_NOT_FOUND', 'transient'],
    ['CACHE_LOCKED', 'transient'],
    ['INSTALL_LOCKED', 'transient'],
    ['UPDATE_NOT_CHECKED', 'transient'],
    ['METADATA_SIGNATURE_INVALID', 'security'],
    ['METADATA_ROLLBACK', 'security'],
    ['METADATA_EXPIRED', 'security'],
    ['METADATA_INVALID', 'security'],
    ['TARGET_VERIFY_FAILED', 'security'],
    ['ARCHIVE_UNSAFE', 'security'],
    ['INSTALL_FAILED', 'failure'],
    ['APP_NOT_FOUND', 'failure'],
    ['IO_ERROR', 'failure'],
    ['INTERNAL_ERROR', 'failure'],
    ['SOMETHING_NEW', 'failure'],
  ];
  for (const [code, expected] of rows)
    test(`${code} → ${expected}`, () => assert.equal(classifyFailure(code), expected));
});

describe('recording outcomes', () => {
  test('a start records its time first, whatever happens next', () => {
    assert.deepEqual(recordCheckStart({ failures: 2 }, NOW), { failures: 2, lastCheckAt: NOW });
  });
  test('failures count up and remember their class; a success resets them', () => {
    let s = recordCheckStart({ failures: 0 }, NOW);
    s = recordCheckResult(s, { kind: 'error', code: 'DOWNLOAD_FAILED' });
    s = recordCheckResult(s, { kind: 'error', code: 'DOWNLOAD_STALLED' });
    assert.deepEqual(s, {
      lastCheckAt: NOW,
      lastResult: 'error',
      failures: 2,
      lastError: { code: 'DOWNLOAD_STALLED', class: 'transient' },
    });
    assert.deepEqual(recordCheckResult(s, { kind: 'update' }), {
      lastCheckAt: NOW,
      lastResult: 'update',
      failures: 0,
    });
  });
});

describe('scheduleOptions', () => {
  test('defaults: 4 h ± 10 %, first retry after a minute, capped at an hour', () => {
    assert.deepEqual(scheduleOptions({}), DEFAULT_SCHEDULE);
    assert.equal(DEFAULT_SCHEDULE.interval, 4 * H);
    assert.equal(DEFAULT_SCHEDULE.jitter, 0.1);
  });
  test('undefined keeps the default; only timing keys are taken', () => {
    const got = scheduleOptions({ interval: 1000, jitter: undefined, extra: 1 } as Partial<ScheduleOptions>);
    assert.deepEqual(got, {
      ...DEFAULT_SCHEDULE,
      interval: 1000,
      maxRetryDelay: DEFAULT_SCHEDULE.maxRetryDelay,
    });
  });
  const bad: [string, Partial<ScheduleOptions>][] = [
    ['interval 0', { interval: 0 }],
    ['interval NaN', { interval: Number.NaN }],
    ['jitter 1', { jitter: 1 }],
    ['jitter negative', { jitter: -0.1 }],
    ['retryDelay 0', { retryDelay: 0 }],
    ['maxRetryDelay below retryDelay', { retryDelay: 5000, maxRetryDelay: 1000 }],
    ['initialDelay negative', { initialDelay: -1 }],
    ['interval infinite', { interval: Number.POSITIVE_INFINITY }],
  ];
  for (const [name, given] of bad) {
    test(`rejects ${name}`, () => assert.throws(() => scheduleOptions(given), { code: 'INVALID_ARGUMENT' }));
  }
});
