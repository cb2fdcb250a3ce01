/**
 * When the auto-updater checks next, as pure decisions: data in (the persisted state, `now`, the options and a
 * random number for the jitter), a delay out. The timer, the clock and the state file are the updater's business.
 *
 * - After a check that worked (or found an update), the next one is due an `interval` later, give or take `jitter`:
 *   spread over time, a fleet of apps started together does not hit the server together.
 * - After a transient failure (offline, server down, a stall), it is retried sooner, with a backoff that doubles per
 *   consecutive failure and is capped (at `maxRetryDelay`, and never more than the interval).
 * - After a security failure (metadata that does not verify, a file that does not match its signed hash) or any
 *   other failure, only the full interval: trying again at once would fail the same way, and hammering a
 *   repository under attack helps no one.
 * The delay counts from the persisted time of the last check, so an app restarted ten times in a minute checks once.
 */
import { type ErrorCode, NotsotufError } from '../../core/errors.js';

/** How a failure is retried: `transient` with backoff, `security` and `failure` only after the full interval. */
export type FailureClass = 'transient' | 'security' | 'failure';

/** What the auto-updater remembers between runs (in the cache directory; see `state-file.ts`). */
export interface AutoUpdateState {
  /** When the last check started, in ms since the epoch. Absent: never checked. */
  readonly lastCheckAt?: number;
  /** How the last finished check ended. */
  readonly lastResult?: 'no-update' | 'update' | 'error';
  /** Consecutive failed checks; 0 after one that worked. */
  readonly failures: number;
  /** The last failure's code and class, while `failures` > 0. */
  readonly lastError?: { readonly code: string; readonly class: FailureClass };
}

export const EMPTY_AUTO_UPDATE_STATE: AutoUpdateState = { failures: 0 };

/** The timing options, in ms (`jitter` is a fraction of the wait). */
export interface ScheduleOptions {
  readonly interval: number;
  readonly jitter: number;
  readonly retryDelay: number;
  readonly maxRetryDelay: number;
  readonly initialDelay: number;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = {
  interval: 4 * 60 * 60 * 1000,
  jitter: 0.1,
  retryDelay: 60 * 1000,
  maxRetryDelay: 60 * 60 * 1000,
  initialDelay: 0,
};

/** The next check: in how many ms, and why then. */
export interface CheckDelay {
  readonly delayMs: number;
  readonly reason: 'first-check' | 'interval' | 'retry';
}

// Network and server trouble, or another process using the cache or the install root: gone by itself soon.
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'DOWNLOAD_FAILED',
  'DOWNLOAD_STALLED',
  'DOWNLOAD_TOO_LARGE',
  'METADATA_NOT_FOUND',
  'CACHE_LOCKED',
  'INSTALL_LOCKED',
  'UPDATE_NOT_CHECKED',
]);

// The repository, or what it served, did not verify: possibly an attack, never fixed by asking again at once.
const SECURITY: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'METADATA_INVALID',
  'METADATA_EXPIRED',
  'METADATA_ROLLBACK',
  'METADATA_SIGNATURE_INVALID',
  'THRESHOLD_NOT_MET',
  'TARGET_VERIFY_FAILED',
  'TARGET_FILE_MISMATCH',
  'TARGET_FILE_MISSING',
  'PATCH_INVALID',
  'PATCH_RESULT_MISMATCH',
  'ARCHIVE_UNSAFE',
  'ARCHIVE_INVALID',
  'VERIFY_FAILED',
]);

/** How a failure with `code` is retried. */
export function classifyFailure(code: string): FailureClass {
  if (TRANSIENT.has(code as ErrorCode)) return 'transient';
  if (SECURITY.has(code as ErrorCode)) return 'security';
  return 'failure';
}

/** The state once a check starts: its time is recorded first, so a check that crashes still counts. */
export function recordCheckStart(state: AutoUpdateState, now: number): AutoUpdateState {
  return { ...state, lastCheckAt: now };
}

/** The state once a check ended (an aborted check changes nothing). */
export function recordCheckResult(
  state: AutoUpdateState,
  result: { readonly kind: 'no-update' | 'update' } | { readonly kind: 'error'; readonly code: string },
): AutoUpdateState {
  if (result.kind !== 'error') {
    const { lastError: _gone, ...rest } = state;
    return { ...rest, lastResult: result.kind, failures: 0 };
  }
  return {
    ...state,
    lastResult: 'error',
    failures: state.failures + 1,
    lastError: { code: result.code, class: classifyFailure(result.code) },
  };
}

/** The transient backoff after `failures` consecutive failures: doubling from `retryDelay`, capped. */
export function retryBackoff(failures: number, options: ScheduleOptions): number {
  const cap = Math.min(options.maxRetryDelay, options.interval);
  const doubled = options.retryDelay * 2 ** Math.min(Math.max(failures - 1, 0), 40);
  return Math.min(doubled, cap);
}

/**
 * In how many ms the next check is due. `random` (in [0, 1)) picks the point in the jitter window:
 * the wait is `base × (1 − jitter + 2 × jitter × random)`. A last check "in the future" (the clock went back)
 * counts as just made, so the delay never exceeds one wait.
 */
export function nextCheckDelay(
  state: AutoUpdateState,
  now: number,
  options: ScheduleOptions,
  random: number,
): CheckDelay {
  if (state.lastCheckAt === undefined) return { delayMs: 0, reason: 'first-check' };
  const retry = state.failures > 0 && state.lastError?.class === 'transient';
  const base = retry ? retryBackoff(state.failures, options) : options.interval;
  const r = Math.min(Math.max(random, 0), 1);
  const wait = base * (1 - options.jitter + 2 * options.jitter * r);
  const elapsed = Math.max(0, now - state.lastCheckAt);
  return { delayMs: Math.max(0, Math.round(wait - elapsed)), reason: retry ? 'retry' : 'interval' };
}

/** The delay of the first check after `start()`: never sooner than `initialDelay`. */
export function startDelay(
  state: AutoUpdateState,
  now: number,
  options: ScheduleOptions,
  random: number,
): CheckDelay {
  const next = nextCheckDelay(state, now, options, random);
  return next.delayMs >= options.initialDelay ? next : { ...next, delayMs: options.initialDelay };
}

/**
 * The throttle of a check that was not forced: due once the shortest wait of the jitter window has passed, so
 * a timer set anywhere in the window always finds it due.
 */
export function isCheckDue(state: AutoUpdateState, now: number, options: ScheduleOptions): boolean {
  return nextCheckDelay(state, now, options, 0).delayMs === 0;
}

/**
 * The timing options with their defaults, checked.
 * @throws NotsotufError INVALID_ARGUMENT naming the bad option.
 */
export function scheduleOptions(given: Partial<ScheduleOptions>): ScheduleOptions {
  const options = { ...DEFAULT_SCHEDULE };
  for (const key of Object.keys(DEFAULT_SCHEDULE) as (keyof ScheduleOptions)[]) {
    const value = given[key];
    if (value !== undefined) options[key] = value;
  }
  const check = (ok: boolean, name: keyof ScheduleOptions, rule: string) => {
    if (!ok) {
      throw new NotsotufError('INVALID_ARGUMENT', `The auto-updater option ${name} must be ${rule}.`, {
        details: { [name]: options[name] },
      });
    }
  };
  const ms = (v: number) => Number.isFinite(v) && v >= 0;
  check(ms(options.interval) && options.interval > 0, 'interval', 'a positive number of ms');
  check(Number.isFinite(options.jitter) && options.jitter >= 0 && options.jitter < 1, 'jitter', 'in [0, 1)');
  check(ms(options.retryDelay) && options.retryDelay > 0, 'retryDelay', 'a positive number of ms');
  check(
    ms(options.maxRetryDelay) && options.maxRetryDelay >= options.retryDelay,
    'maxRetryDelay',
    'at least retryDelay',
  );
  check(ms(options.initialDelay), 'initialDelay', 'a number of ms, 0 or more');
  return options;
}
