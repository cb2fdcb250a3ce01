/**
 * The versioned install layout (atomic install with rollback). One install root holds every kept release in its
 * own directory and one small state file; switching versions is one atomic rename of that file, so at every
 * instant the entry point finds a complete version to start: the old one before the switch, the new one after.
 *
 * ```
 * <root>/install.json               the state (InstallState), replaced atomically (temp file + fsync + rename)
 * <root>/versions/<version>/        a complete release, never modified once renamed into place
 * <root>/versions/.staging-<rand>/  an install in progress; leftovers are removed by recovery
 * <root>/health/<version>.ok        written by the app (markHealthy) once the version on trial started properly
 * <root>/data/                      the app's own data: never touched by installs, updates or rollbacks
 * ```
 * Paths are joined with node:path; version directory names are the version as published (e.g. `1.1.0`).
 */
import { join } from 'node:path';

export const STATE_FILE = 'install.json';
export const VERSIONS_DIR = 'versions';
export const HEALTH_DIR = 'health';
export const DATA_DIR = 'data';
export const STAGING_PREFIX = '.staging-';
export const STATE_FORMAT = 1;

/** A version on trial: installed and selected, but not yet confirmed healthy by the app. */
export interface Trial {
  readonly version: string;
  /** Launches of the trial version so far (the entry point counts them). */
  readonly launches: number;
  /** When the switch happened (ms since the epoch). */
  readonly since: number;
}

/** A version that failed its trial and was rolled back; not offered again until a newer release exists. */
export interface FailedVersion {
  readonly version: string;
  readonly reason: 'crashed' | 'not-confirmed-in-time' | 'too-many-launches';
  /** Exit code or signal of the crash, when there was one. */
  readonly detail?: string;
  readonly at: number;
}

/** What happened at the last install or trial, for `client.lastUpdateResult()`. */
export type LastResult =
  | { readonly kind: 'installed'; readonly version: string; readonly previous: string | null; readonly at: number }
  | { readonly kind: 'confirmed'; readonly version: string; readonly at: number }
  | {
      readonly kind: 'rolled-back';
      readonly from: string;
      readonly to: string;
      readonly reason: FailedVersion['reason'];
      readonly detail?: string;
      readonly at: number;
    };

/** `<root>/install.json`. */
export interface InstallState {
  readonly format: typeof STATE_FORMAT;
  /** The version the entry point starts. */
  readonly current: string;
  /** The version kept for rollback, if any. */
  readonly previous: string | null;
  /** Relative path (posix) of the executable inside a version directory, e.g. `bin/my-app` or `app.js`. */
  readonly entry: string;
  readonly trial: Trial | null;
  readonly failed: readonly FailedVersion[];
  readonly lastResult: LastResult | null;
}

/** Trial limits: how long and how many launches a new version gets to call markHealthy. */
export interface TrialPolicy {
  /** Default 60 000 ms after the start of a launch. */
  readonly confirmWithinMs: number;
  /** Default 3 launches. */
  readonly maxLaunches: number;
}

export const DEFAULT_TRIAL_POLICY: TrialPolicy = { confirmWithinMs: 60_000, maxLaunches: 3 };

export function statePath(root: string): string {
  return join(root, STATE_FILE);
}

export function versionDir(root: string, version: string): string {
  return join(root, VERSIONS_DIR, version);
}

export function healthMarker(root: string, version: string): string {
  return join(root, HEALTH_DIR, `${version}.ok`);
}
