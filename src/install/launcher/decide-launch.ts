/**
 * What the entry point does, as pure decisions: which version to start at launch, and what a trial launch's end
 * means. Data in (the state, whether the trial's health marker exists, which version directories exist, the
 * policy, `now`), a plain result out; `launch.ts` executes it.
 *
 * The confirmation time limit applies per launch (TrialPolicy: "after the start of a launch"), never since the
 * switch: a user who installs an update and opens the app a week later must not find it rolled back for not
 * having run. So at launch only the launch count can end a trial; the clock is the running launcher's job.
 */
import {
  type FailedVersion,
  type InstallState,
  isEntryPath,
  isVersionDirName,
  type TrialPolicy,
} from '../versioned/index.js';

export interface LaunchInput {
  /** `install.json`, or null when there is none. */
  readonly state: InstallState | null;
  /** Whether `health/<trial version>.ok` exists (false when nothing is on trial). */
  readonly trialHealthy: boolean;
  /** The version directories that exist under `versions/`. */
  readonly installed: readonly string[];
  readonly policy: TrialPolicy;
  readonly now: number;
}

export type LaunchDecision =
  /** Start a version that is not on trial. `endTrial`: its trial was confirmed (marker found), record that first. */
  | { readonly kind: 'start'; readonly version: string; readonly trial: false; readonly endTrial: boolean }
  /**
   * Start the version on trial: count the launch, watch for its health marker. `rollbackTo` is the version to
   * fall back to if it crashes or does not confirm in time; null when there is none (then it just runs).
   */
  | {
      readonly kind: 'start';
      readonly version: string;
      readonly trial: true;
      readonly rollbackTo: string | null;
      /** Which launch of the trial this is (1 for the first). */
      readonly launch: number;
    }
  /** The trial is over without confirmation: select `to` and start it instead. */
  | {
      readonly kind: 'rollback';
      readonly from: string;
      readonly to: string;
      readonly reason: FailedVersion['reason'];
      readonly at: number;
    }
  /** Nothing can be started; `message` says what to do. */
  | { readonly kind: 'error'; readonly message: string };

const REINSTALL = 'Reinstall the app (or run its installer again) to recreate the install root.';

/** Decides what the entry point starts. Healthy beats the launch count: a confirmed trial is never rolled back. */
export function decideLaunch(input: LaunchInput): LaunchDecision {
  const { state, trialHealthy, installed, policy, now } = input;
  if (state === null) {
    return {
      kind: 'error',
      message: `The install root has no install.json, so no version is selected. ${REINSTALL}`,
    };
  }
  if (!isVersionDirName(state.current)) {
    return {
      kind: 'error',
      message: `install.json names an invalid current version ${JSON.stringify(state.current)}. ${REINSTALL}`,
    };
  }
  if (!isEntryPath(state.entry)) {
    return {
      kind: 'error',
      message: `install.json names an unsafe entry path ${JSON.stringify(state.entry)}. ${REINSTALL}`,
    };
  }
  const previous =
    state.previous !== null &&
    state.previous !== state.current &&
    isVersionDirName(state.previous) &&
    installed.includes(state.previous)
      ? state.previous
      : null;
  if (!installed.includes(state.current)) {
    // A missing current version is a damaged root, not a failed trial: say so rather than quietly start another.
    return {
      kind: 'error',
      message: `The selected version ${state.current} is missing from versions/. ${REINSTALL}`,
    };
  }
  const trial = state.trial;
  // A trial of another version than the current one cannot be acted on; the current version is what runs.
  if (trial === null || trial.version !== state.current) {
    return { kind: 'start', version: state.current, trial: false, endTrial: false };
  }
  if (trialHealthy) return { kind: 'start', version: state.current, trial: false, endTrial: true };
  if (previous !== null && trial.launches >= policy.maxLaunches) {
    return { kind: 'rollback', from: state.current, to: previous, reason: 'too-many-launches', at: now };
  }
  return {
    kind: 'start',
    version: state.current,
    trial: true,
    rollbackTo: previous,
    launch: trial.launches + 1,
  };
}

/** The state after one more launch of the version on trial (the state itself when nothing is on trial). */
export function countTrialLaunch(state: InstallState): InstallState {
  if (state.trial === null) return state;
  return { ...state, trial: { ...state.trial, launches: state.trial.launches + 1 } };
}

/** How one trial launch ended. */
export interface TrialExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** The process could not be started at all (ENOENT, EACCES…): its error code. */
  readonly spawnError?: string;
  /** Whether the health marker existed when it exited. */
  readonly healthy: boolean;
  /** The launcher forwarded a stop signal (the user quit): dying of it is no crash. */
  readonly stopRequested: boolean;
}

export type TrialOutcome =
  /** It confirmed: end the trial. */
  | { readonly kind: 'confirmed' }
  /** It ended cleanly (or was stopped) without confirming: the trial goes on at the next launch. */
  | { readonly kind: 'unconfirmed' }
  /** It crashed before confirming: roll back to `to` and start it. */
  | { readonly kind: 'rollback'; readonly to: string; readonly reason: 'crashed'; readonly detail: string };

/** Decides what a finished trial launch means. A crash after the marker was written is not the update's fault. */
export function decideTrialExit(exit: TrialExit, rollbackTo: string | null): TrialOutcome {
  if (exit.healthy) return { kind: 'confirmed' };
  const crashed =
    exit.spawnError !== undefined || (!exit.stopRequested && (exit.signal !== null || exit.code !== 0));
  if (!crashed || rollbackTo === null) return { kind: 'unconfirmed' };
  const detail = exit.spawnError ?? exit.signal ?? String(exit.code);
  return { kind: 'rollback', to: rollbackTo, reason: 'crashed', detail };
}
