/** What launchApp takes and gives back (launch.ts). */
import type { ChildProcess } from 'node:child_process';
import type { TrialPolicy } from '../versioned/index.js';
import { DEFAULT_FORWARDED_SIGNALS } from './signal-forwarder.js';

export interface LaunchOptions {
  /** The install root (holds install.json). */
  readonly root: string;
  /** Passed to the app unchanged. */
  readonly args: readonly string[];
  /** Trial limits; defaults in DEFAULT_TRIAL_POLICY. */
  readonly policy?: Partial<TrialPolicy>;
  /** The app's environment; default `process.env`. NOTSOTUF_INSTALL_ROOT and NOTSOTUF_VERSION are added. */
  readonly env?: NodeJS.ProcessEnv;
  /** `inherit` (default): the app uses the launcher's terminal. `pipe`: read its streams through `onSpawn`. */
  readonly stdio?: 'inherit' | 'pipe';
  /**
   * Each launcher decision as one line, with its level: `notice` for what the user should see (a trial, a
   * rollback, a recovery that changed the selected version, a problem), `info` for the routine start and exit of a
   * confirmed version. The executable writes every line to launcher.log and `notice` lines to stderr too.
   */
  readonly onLog?: (line: string, level: LaunchLogLevel) => void;
  /** Clock for the timestamps in install.json; default Date.now. The trial timer itself is a real timer. */
  readonly now?: () => number;
  /** Called with each app process right after it started (for `pipe`, to read its output). */
  readonly onSpawn?: (
    child: ChildProcess,
    info: { readonly version: string; readonly trial: boolean },
  ) => void;
  /** How often to look for the health marker; default 100 ms. */
  readonly pollIntervalMs?: number;
  /** After SIGTERM, how long an unconfirmed trial app gets before SIGKILL; default 5000 ms. */
  readonly killGraceMs?: number;
  /** Signals passed on to the app; default SIGINT, SIGTERM, SIGHUP. */
  readonly forwardSignals?: readonly NodeJS.Signals[];
  /** Node for `.js`/`.mjs`/`.cjs` entries; default `process.execPath`. */
  readonly nodePath?: string;
}

/** How much a launcher line matters: see {@link LaunchOptions.onLog}. */
export type LaunchLogLevel = 'info' | 'notice';

export const DEFAULT_LAUNCH = {
  stdio: 'inherit',
  pollIntervalMs: 100,
  killGraceMs: 5000,
  forwardSignals: DEFAULT_FORWARDED_SIGNALS,
} as const;

/** A rollback this launch made. */
export interface RolledBack {
  readonly from: string;
  readonly to: string;
  readonly reason: 'crashed' | 'not-confirmed-in-time' | 'too-many-launches';
  readonly detail?: string;
}

export interface LaunchResult {
  /** The exit code of the app that ran last (null when it died of a signal). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The version that ran last. */
  readonly version: string;
  readonly rolledBack?: RolledBack;
}
