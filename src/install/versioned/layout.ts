/**
 * The versioned install layout (atomic install with rollback). One install root holds every kept release in its
 * own directory and one small state file; switching versions is one atomic rename of that file, so at every
 * instant the entry point finds a complete version to start: the old one before the switch, the new one after.
 *
 * ```
 * <root>/install.json               the state (InstallState), replaced atomically (temp file + fsync + rename)
 * <root>/install.lock               held for each read-modify-write of install.json (milliseconds)
 * <root>/update.lock                held for a whole install, recovery or cleanup (they change versions/)
 * <root>/versions/<version>/        a complete release, never modified once renamed into place
 * <root>/versions/.staging-<rand>/  an install in progress; leftovers are removed by recovery
 * <root>/health/<version>.ok        written by the app (markHealthy) once the version on trial started properly
 * <root>/data/                      the app's own data: never touched by installs, updates or rollbacks
 * <root>/launcher-exe               only for self-launching apps (see launcher-pointer.ts): the executable, relative
 *                                   to the root, that the entry point runs as the launcher
 * ```
 * Paths are joined with node:path; version directory names are the version as published (e.g. `1.1.0`).
 */
import { join } from 'node:path';
import { tryParseVersion } from '../../core/index.js';

export const STATE_FILE = 'install.json';
export const STATE_LOCK_FILE = 'install.lock';
export const UPDATE_LOCK_FILE = 'update.lock';
export const VERSIONS_DIR = 'versions';
export const HEALTH_DIR = 'health';
export const DATA_DIR = 'data';
export const LAUNCHER_POINTER_FILE = 'launcher-exe';
export const STAGING_PREFIX = '.staging-';
export const HEALTH_SUFFIX = '.ok';
export const STATE_FORMAT = 1;

/** A version on trial: installed and selected, but not yet confirmed healthy by the app. */
export interface Trial {
  readonly version: string;
  /** Launches of the trial version so far (the entry point counts them). */
  readonly launches: number;
  /** When the switch happened (ms since the epoch). */
  readonly since: number;
}

/** Why a trial failed; the state file's reader accepts exactly these. */
export const FAILURE_REASONS = ['crashed', 'not-confirmed-in-time', 'too-many-launches'] as const;

/** A version that failed its trial and was rolled back; not offered again until a newer release exists. */
export interface FailedVersion {
  readonly version: string;
  readonly reason: (typeof FAILURE_REASONS)[number];
  /** Exit code or signal of the crash, when there was one. */
  readonly detail?: string;
  readonly at: number;
}

/** What happened at the last install or trial, for `client.lastUpdateResult()`. */
export type LastResult =
  | {
      readonly kind: 'installed';
      readonly version: string;
      readonly previous: string | null;
      readonly at: number;
    }
  | { readonly kind: 'confirmed'; readonly version: string; readonly at: number }
  | {
      readonly kind: 'rolled-back';
      readonly from: string;
      readonly to: string;
      /** `version-missing`: recovery found the current version's directory gone and selected the previous one. */
      readonly reason: FailedVersion['reason'] | 'version-missing';
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
  return join(root, HEALTH_DIR, `${version}${HEALTH_SUFFIX}`);
}

/**
 * A version usable as a directory name: a valid version (PEP 440 or semver) spelled with version characters only,
 * so never empty, `.`, `..`, a separator or a leading dot (which would collide with `.staging-`). No I/O.
 */
export function isVersionDirName(version: string): boolean {
  return (
    tryParseVersion(version) !== undefined && /^[A-Za-z0-9._+!-]+$/.test(version) && !version.startsWith('.')
  );
}

/** `entry` is a relative posix path that stays inside its version directory (no `..`, `.`, empty or absolute part). */
export function isEntryPath(entry: string): boolean {
  if (entry.length === 0 || entry.includes('\0') || entry.includes('\\')) return false;
  if (entry.startsWith('/') || /^[A-Za-z]:/.test(entry)) return false;
  return entry.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
