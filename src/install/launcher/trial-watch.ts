/**
 * Watching one trial launch until the app exits: the health marker ends the trial; the time limit (per launch,
 * from the start of this process) has the rollback recorded first, then stops the app: SIGTERM, and SIGKILL after
 * a grace period. Recording is the caller's (it holds the state lock); this file only times and signals.
 */
import type { ChildProcess } from 'node:child_process';
import { isHealthy } from '../versioned/index.js';
import type { AppExit } from './app-process.js';

/** How recording a state change went. 'state-changed': install.json no longer has this trial, nothing written. */
export type Recorded = 'applied' | 'state-changed' | 'failed';

export interface TrialWatchOptions {
  readonly root: string;
  readonly version: string;
  readonly child: ChildProcess;
  readonly exited: Promise<AppExit>;
  /** The time limit of this launch; null for none (there is nothing to roll back to). */
  readonly confirmWithinMs: number | null;
  readonly pollIntervalMs: number;
  readonly killGraceMs: number;
  /** Ends the trial in install.json. */
  readonly recordConfirmed: () => Promise<Recorded>;
  /** Records the rollback for the time limit. The app is stopped afterwards unless the state changed. */
  readonly recordTimedOut: () => Promise<Recorded>;
  /** True once the user asked to stop: then the app is not stopped for the time limit (it is stopping anyway). */
  readonly stopping: () => boolean;
  readonly log: (line: string) => void;
}

export interface TrialWatchResult {
  readonly exit: AppExit;
  /** The marker was seen while the app ran, and the end of the trial recorded (or attempted). */
  readonly confirmed: boolean;
  /** Set when the time limit passed without confirmation: how recording the rollback went. */
  readonly timedOut?: Recorded;
}

/** Watches the trial launch of `options.child` until it exits (see the file comment). */
export async function watchTrial(options: TrialWatchOptions): Promise<TrialWatchResult> {
  const { root, version, child, log } = options;
  const healthy = () => isHealthy(root, version).catch(() => false);
  let confirmed: Promise<Recorded> | undefined;
  let timedOut: Promise<Recorded> | undefined;
  let exited = false;
  let polling = false;
  let killTimer: NodeJS.Timeout | undefined;

  const confirm = () => {
    if (confirmed || timedOut || exited) return;
    log(`${version} confirmed it works; its trial is over`);
    confirmed = options.recordConfirmed();
  };
  const stopForTimeLimit = async (): Promise<Recorded> => {
    log(`${version} did not confirm within ${options.confirmWithinMs} ms; rolling back`);
    // Recorded before the app is stopped: whatever happens next (the launcher is killed too), the next launch
    // starts the previous version.
    const recorded = await options.recordTimedOut();
    if (recorded === 'state-changed' || exited || options.stopping()) return recorded;
    log(`stopping ${version} (pid ${child.pid})`);
    child.kill('SIGTERM');
    killTimer = setTimeout(() => {
      log(`${version} is still running after SIGTERM; killing it`);
      child.kill('SIGKILL');
    }, options.killGraceMs);
    return recorded;
  };

  // Polling, not fs.watch: the health directory may not exist yet, and fs.watch misses events on some network
  // and container file systems. A marker written between the last poll and the exit is found by the caller.
  const poll = setInterval(() => {
    if (polling || confirmed || timedOut) return;
    polling = true;
    void healthy().then((ok) => {
      polling = false;
      if (ok) confirm();
    });
  }, options.pollIntervalMs);
  const limit =
    options.confirmWithinMs === null
      ? undefined
      : setTimeout(() => {
          // One last look, so a marker written just before the limit is not missed between two polls.
          void healthy().then((ok) => {
            if (confirmed || exited) return;
            if (ok) confirm();
            else timedOut = stopForTimeLimit();
          });
        }, options.confirmWithinMs);

  const exit = await options.exited;
  exited = true;
  clearInterval(poll);
  clearTimeout(limit);
  const recordedTimeout = await timedOut;
  clearTimeout(killTimer);
  await confirmed;
  return {
    exit,
    confirmed: confirmed !== undefined,
    ...(recordedTimeout === undefined ? {} : { timedOut: recordedTimeout }),
  };
}
