/**
 * The state transitions of the versioned layout, as pure functions: the state and `now` in, the next state out.
 * The I/O code (install, entry point, health, cleanup) reads install.json, calls one of these under the state
 * lock and writes the result. Every transition spreads the old state, so unknown fields are kept.
 */
import { tryParseVersion, versionsEqual } from '../../core/index.js';
import type { FailedVersion, InstallState, LastResult } from './layout.js';
import { STATE_FORMAT } from './layout.js';

/** How many failed versions the state remembers; older entries go first (they are long superseded). */
export const MAX_FAILED_VERSIONS = 20;

/** Same version, also when spelled differently (`1.0` and `1.0.0` are one PEP 440 version). */
function sameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = tryParseVersion(a);
  const pb = tryParseVersion(b);
  return pa !== undefined && pb !== undefined && versionsEqual(pa, pb);
}

/**
 * The state right after `version` was switched to: it becomes current and starts its trial; the old current is
 * kept as `previous` for the rollback (unless `keepPrevious` is false, or it is the same version). Earlier failures
 * are kept, except a failure of `version` itself: it is being tried again, and a new failure is recorded afresh.
 */
export function afterInstall(
  state: InstallState | undefined,
  version: string,
  entry: string,
  now: number,
  options: { readonly keepPrevious?: boolean } = {},
): InstallState {
  const keepPrevious = options.keepPrevious ?? true;
  const old = state?.current ?? null;
  const previous = !keepPrevious ? null : old !== null && old !== version ? old : (state?.previous ?? null);
  const lastResult: LastResult = { kind: 'installed', version, previous: old, at: now };
  return {
    ...state,
    format: STATE_FORMAT,
    current: version,
    previous: previous === version ? null : previous,
    entry,
    trial: { version, launches: 0, since: now },
    failed: (state?.failed ?? []).filter((f) => !sameVersion(f.version, version)),
    lastResult,
  };
}

/** The trial of `version` ended well. Returns `state` itself when `version` is not on trial (nothing to do). */
export function afterConfirm(state: InstallState, version: string, now: number): InstallState {
  if (state.trial === null || state.trial.version !== version) return state;
  return { ...state, trial: null, lastResult: { kind: 'confirmed', version, at: now } };
}

/**
 * The version on trial failed: the previous version becomes current again, the failed one is remembered (so the
 * client skips it) and no longer kept. Only two versions are tracked, so `previous` becomes null. Returns `state`
 * itself when nothing can be rolled back (no trial, the trial is not the current version, or no previous).
 */
export function afterTrialFailure(
  state: InstallState,
  reason: FailedVersion['reason'],
  detail: string | undefined,
  now: number,
): InstallState {
  const { trial, previous } = state;
  if (trial === null || trial.version !== state.current || previous === null) return state;
  const from = state.current;
  const extra = detail === undefined ? {} : { detail };
  const failed: FailedVersion = { version: from, reason, ...extra, at: now };
  return {
    ...state,
    current: previous,
    previous: null,
    trial: null,
    failed: [...state.failed.filter((f) => !sameVersion(f.version, from)), failed].slice(
      -MAX_FAILED_VERSIONS,
    ),
    lastResult: { kind: 'rolled-back', from, to: previous, reason, ...extra, at: now },
  };
}

/** The versions whose directories must stay: current, previous and the one on trial. */
export function versionsToKeep(state: InstallState): ReadonlySet<string> {
  const keep = new Set([state.current]);
  if (state.previous !== null) keep.add(state.previous);
  if (state.trial !== null) keep.add(state.trial.version);
  return keep;
}

/**
 * Which of the version directories found (names under `versions/`) can go, sorted. Names starting with a dot
 * (staging directories) are recovery's business, never listed here; with no state nothing is removed, since the
 * directories might belong to an install that has not switched yet.
 */
export function versionsToRemove(existingDirs: readonly string[], state: InstallState | undefined): string[] {
  if (state === undefined) return [];
  const keep = versionsToKeep(state);
  return existingDirs.filter((name) => !name.startsWith('.') && !keep.has(name)).sort();
}

/** True when `version` failed its trial here: the client should not offer it again (a newer one is fine). */
export function isFailedVersion(state: InstallState | undefined, version: string): boolean {
  return state?.failed.some((f) => sameVersion(f.version, version)) ?? false;
}
