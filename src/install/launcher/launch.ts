/**
 * The entry point's work: start the selected version, watch a version on trial, roll a broken one back.
 *
 * 1. Recover what an interrupted install left behind (best effort: a failure only logs, unless no complete
 *    version is left to start).
 * 2. Read `install.json` and decide (`decideLaunch`). A decision that changes the state (count a trial launch,
 *    end a confirmed trial, roll back after too many launches) is taken again under `install.lock` on the state
 *    as it is then, and written atomically before the app starts. A plain start takes no lock, so a read-only
 *    install root still launches.
 * 3. Start the app: `<root>/versions/<v>/<entry>` with the user's arguments, `NOTSOTUF_INSTALL_ROOT` and
 *    `NOTSOTUF_VERSION` in its environment (for markHealthy), stdio inherited, stop signals forwarded.
 * 4. A trial launch is watched until the app exits:
 *    - the health marker appears: the trial ends (confirmed) and the app runs on;
 *    - it exits with a non-zero code, a signal, or cannot be started, before the marker exists: the state is
 *      rolled back ('crashed') and the previous version is started once with the same arguments;
 *    - it runs `confirmWithinMs` without confirming: the state is rolled back ('not-confirmed-in-time') first,
 *      so the next launch is safe whatever happens next, then the app is stopped (SIGTERM, SIGKILL after
 *      `killGraceMs`) and the previous version is started. An unconfirmed app is presumed broken: a hung update
 *      left running would keep the user on it until they gave up, while the old version is known to work;
 *    - it exits cleanly (code 0) without confirming, or the user stopped it: the trial goes on; the launch count
 *      ends it after `maxLaunches`.
 *    Rollbacks happen once per launch: the previous version is never watched nor rolled back in turn.
 *    A state change made meanwhile by someone else (the app installed a newer version) is never overwritten.
 */
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isNotsotufError, NotsotufError } from '../../core/index.js';
import {
  afterConfirm,
  afterTrialFailure,
  DEFAULT_TRIAL_POLICY,
  type InstallState,
  isHealthy,
  readInstallState,
  recoverInstallRoot,
  type TrialPolicy,
  updateInstallState,
  VERSIONS_DIR,
} from '../versioned/index.js';
import { type AppExit, exitText, startApp } from './app-process.js';
import { countTrialLaunch, decideLaunch, decideTrialExit, type LaunchDecision } from './decide-launch.js';
import { entryCommand } from './entry-command.js';
import { DEFAULT_LAUNCH, type LaunchOptions, type LaunchResult, type RolledBack } from './launch-options.js';
import { SignalForwarder } from './signal-forwarder.js';
import { type Recorded, watchTrial } from './trial-watch.js';

export {
  DEFAULT_LAUNCH,
  type LaunchLogLevel,
  type LaunchOptions,
  type LaunchResult,
  type RolledBack,
} from './launch-options.js';

/**
 * Starts the app selected in `<root>/install.json` and waits for it to exit (see the steps above).
 *
 * @example
 * const { exitCode } = await launchApp({ root: '/opt/my-app', args: process.argv.slice(2) });
 * @throws NotsotufError INSTALL_FAILED when nothing can be started (no install.json, the selected version or
 *   its entry missing, an unsafe entry path); the hint says what to do. IO_ERROR when install.json cannot be read.
 */
export async function launchApp(options: LaunchOptions): Promise<LaunchResult> {
  const launch = new Launch(options);
  return launch.run();
}

class Launch {
  private readonly root: string;
  private readonly policy: TrialPolicy;
  private readonly now: () => number;
  private readonly signals: SignalForwarder;
  /**
   * Whether this launch is one the user should hear about: a trial or a rollback. The routine lines of a plain
   * start (starting, exited, a forwarded Ctrl+C) are `notice` then, and `info` for a confirmed version.
   */
  private eventful = false;

  constructor(private readonly options: LaunchOptions) {
    this.root = resolve(options.root);
    this.policy = { ...DEFAULT_TRIAL_POLICY, ...options.policy };
    this.now = options.now ?? Date.now;
    this.signals = new SignalForwarder(options.forwardSignals ?? DEFAULT_LAUNCH.forwardSignals, (line) =>
      this.routine(line),
    );
  }

  /** A line the user should see (trial, rollback, problem). */
  private readonly log = (line: string): void => this.options.onLog?.(line, 'notice');

  /** A routine line: shown only when this launch is eventful, else kept for launcher.log. */
  private routine(line: string): void {
    this.options.onLog?.(line, this.eventful ? 'notice' : 'info');
  }

  async run(): Promise<LaunchResult> {
    this.signals.install();
    try {
      // No install.json: nothing to recover, and the clearest message is that no version is selected.
      if ((await readInstallState(this.root)) === undefined)
        throw launchError(missingState(this.root), this.root);
      await this.recover();
      const { decision, entry } = await this.decide();
      if (decision.kind === 'rollback') {
        this.eventful = true;
        const rolledBack: RolledBack = { from: decision.from, to: decision.to, reason: decision.reason };
        this.log(
          `${decision.from} was started ${this.policy.maxLaunches} times without confirming it works; ` +
            `rolling back to ${decision.to}`,
        );
        return { ...(await this.runPlain(decision.to, entry)), rolledBack };
      }
      if (decision.kind !== 'start') throw launchError(decision.message, this.root);
      if (!decision.trial) {
        if (decision.endTrial) this.log(`${decision.version} confirmed it works; its trial is over`);
        return await this.runPlain(decision.version, entry);
      }
      this.eventful = true;
      return await this.runTrial(decision.version, decision.rollbackTo, entry, decision.launch);
    } finally {
      this.signals.uninstall();
    }
  }

  /** Step 1: best effort, except that a root with no complete version left (INSTALL_FAILED) cannot start. */
  private async recover(): Promise<void> {
    try {
      const report = await recoverInstallRoot(this.root, {
        now: this.now(),
        onWarning: (message) => this.log(`recovery: ${message}`),
      });
      if (report.kind === 'busy') return;
      // Housekeeping after an interrupted install: launcher.log only. A changed selection (below) is reported.
      for (const path of report.removed) {
        this.options.onLog?.(`recovery removed ${path}, left by an interrupted install`, 'info');
      }
      if (report.fellBack) {
        this.log(
          `recovery: version ${report.fellBack.from} is missing; selected ${report.fellBack.to} instead`,
        );
      }
    } catch (err) {
      if (isNotsotufError(err, 'INSTALL_FAILED')) throw err;
      // Best effort, and expected in a root the user cannot write (a system-wide install): the next install runs
      // recovery under its own lock and reports its failures. So launcher.log only.
      this.options.onLog?.(`recovery skipped: ${describe(err)}`, 'info');
    }
  }

  /**
   * Step 2: the launch decision. One that changes the state is taken again under the state lock, on install.json
   * as it is then (an update may have switched meanwhile), and written before the app starts.
   */
  private async decide(): Promise<{ decision: LaunchDecision; entry: string }> {
    const state = await readInstallState(this.root);
    const installed = await installedVersions(this.root);
    const healthy = new Map<string, boolean>();
    if (state?.trial) healthy.set(state.trial.version, await isHealthy(this.root, state.trial.version));
    // A trial that appeared meanwhile counts as unconfirmed here; if its marker exists, the first poll confirms it.
    const decideOn = (s: InstallState | undefined) =>
      decideLaunch({
        state: s ?? null,
        trialHealthy: (s?.trial && healthy.get(s.trial.version)) ?? false,
        installed,
        policy: this.policy,
        now: this.now(),
      });
    const first = decideOn(state);
    if (state === undefined || first.kind === 'error') return { decision: first, entry: '' };
    if (first.kind === 'start' && !first.trial && !first.endTrial)
      return { decision: first, entry: state.entry };
    let decision: LaunchDecision = first;
    try {
      const now = await updateInstallState(this.root, (current) => {
        decision = decideOn(current);
        return current === undefined ? undefined : nextState(current, decision, this.now());
      });
      return { decision, entry: now?.entry ?? '' };
    } catch (err) {
      if (isNotsotufError(err, 'INSTALL_FAILED')) throw err;
      // Starting the app matters more than the bookkeeping: go on with the unlocked decision (a rollback then
      // still starts the previous version; the next launch tries to record it again).
      this.log(`could not update install.json (continuing without recording this launch): ${describe(err)}`);
      return { decision: first, entry: state.entry };
    }
  }

  /** Starts a version and waits for it; its exit is passed through. */
  private async runPlain(version: string, entry: string): Promise<LaunchResult> {
    const stopped = this.stoppedResult(version);
    if (stopped) return stopped;
    this.routine(`starting ${version}`);
    const { exited } = this.start(version, entry, false);
    const exit = await exited;
    if (exit.spawnError) throw startError(version, exit.spawnError);
    this.routine(`${version} exited with ${exitText(exit)}`);
    return { exitCode: exit.code, signal: exit.signal, version };
  }

  private async runTrial(
    version: string,
    rollbackTo: string | null,
    entry: string,
    launch: number,
  ): Promise<LaunchResult> {
    const stopped = this.stoppedResult(version);
    if (stopped) return stopped;
    this.log(
      `starting ${version} on trial (launch ${launch} of ${this.policy.maxLaunches}): ` +
        `it must confirm it works within ${this.policy.confirmWithinMs} ms` +
        (rollbackTo === null ? ' (no version to roll back to)' : `, or ${rollbackTo} is restored`),
    );
    const { child, exited } = this.start(version, entry, true);
    const watched = await watchTrial({
      root: this.root,
      version,
      child,
      exited,
      confirmWithinMs: rollbackTo === null ? null : this.policy.confirmWithinMs,
      pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_LAUNCH.pollIntervalMs,
      killGraceMs: this.options.killGraceMs ?? DEFAULT_LAUNCH.killGraceMs,
      recordConfirmed: () => this.recordConfirmed(version),
      recordTimedOut: () =>
        this.record(version, (s) => afterTrialFailure(s, 'not-confirmed-in-time', undefined, this.now())),
      stopping: () => this.signals.stoppedBy !== null,
      log: this.log,
    });
    const { exit } = watched;
    if (watched.timedOut !== undefined && watched.timedOut !== 'state-changed' && rollbackTo !== null) {
      this.log(`${version} exited with ${exitText(exit)}`);
      return this.fallBack(exit, { from: version, to: rollbackTo, reason: 'not-confirmed-in-time' }, entry);
    }
    const outcome = decideTrialExit(
      {
        code: exit.code,
        signal: exit.signal,
        ...(exit.spawnError ? { spawnError: exit.spawnError.code ?? 'spawn-failed' } : {}),
        healthy: watched.confirmed || (await isHealthy(this.root, version)),
        stopRequested: this.signals.stoppedBy !== null,
      },
      rollbackTo,
    );
    if (outcome.kind === 'confirmed' && !watched.confirmed) {
      this.log(`${version} confirmed it works; its trial is over`);
      await this.recordConfirmed(version);
    } else if (outcome.kind === 'rollback') {
      this.log(
        `${version} failed before confirming it works (${exitText(exit)}); rolling back to ${outcome.to}`,
      );
      const { reason, detail } = outcome;
      const recorded = await this.record(version, (s) => afterTrialFailure(s, reason, detail, this.now()));
      if (recorded !== 'state-changed') {
        return this.fallBack(exit, { from: version, to: outcome.to, reason, detail }, entry);
      }
    }
    if (exit.spawnError) throw startError(version, exit.spawnError);
    const still = outcome.kind === 'unconfirmed' ? '; still on trial' : '';
    this.log(`${version} exited with ${exitText(exit)}${still}`);
    return { exitCode: exit.code, signal: exit.signal, version };
  }

  /** After a rollback: starts the version rolled back to, unless the user asked to stop meanwhile. */
  private async fallBack(trialExit: AppExit, rolledBack: RolledBack, entry: string): Promise<LaunchResult> {
    if (this.signals.stoppedBy === null)
      return { ...(await this.runPlain(rolledBack.to, entry)), rolledBack };
    this.log(`not starting ${rolledBack.to}: stopped by ${this.signals.stoppedBy}`);
    return { exitCode: trialExit.code, signal: trialExit.signal, version: rolledBack.from, rolledBack };
  }

  /**
   * Ends the trial of `version` in install.json. The app usually got there first: `client.markHealthy()` writes
   * the marker and ends the trial itself (confirmTrial), so finding `version` current with no trial is the normal
   * path, not a conflict; nothing is written then.
   */
  private recordConfirmed(version: string): Promise<Recorded> {
    return this.record(
      version,
      (s) => afterConfirm(s, version, this.now()),
      (s) => s.current === version && s.trial === null,
    );
  }

  /**
   * Applies `change` to the trial of `version` under the lock. 'applied': written, or `done` says the state
   * already is what the change would make it (nothing written). 'state-changed': install.json no longer has that
   * trial (another process changed it: the app installed a newer version, another launcher rolled it back), so
   * nothing is written. 'failed': the lock or the write failed (logged).
   */
  private async record(
    version: string,
    change: (state: InstallState) => InstallState,
    done?: (state: InstallState) => boolean,
  ): Promise<Recorded> {
    let recorded: Recorded = 'state-changed';
    let found: InstallState | undefined;
    try {
      await updateInstallState(this.root, (state) => {
        found = state;
        if (state !== undefined && done?.(state)) {
          recorded = 'applied';
          return undefined;
        }
        if (state === undefined || state.current !== version || state.trial?.version !== version)
          return undefined;
        recorded = 'applied';
        return change(state);
      });
    } catch (err) {
      this.log(`could not update install.json: ${describe(err)}`);
      return 'failed';
    }
    if (recorded === 'state-changed') {
      const seen = found as InstallState | undefined;
      const what = seen === undefined ? 'install.json is gone' : `install.json now selects ${seen.current}`;
      this.log(
        `${version} is no longer on trial: install.json was changed by another process meanwhile (${what}); ` +
          'left as it is',
      );
    }
    return recorded;
  }

  /** Step 3: starts one app process; it receives the forwarded signals from now on. */
  private start(
    version: string,
    entry: string,
    trial: boolean,
  ): { child: ChildProcess; exited: Promise<AppExit> } {
    const nodePath = this.options.nodePath ?? process.execPath;
    const started = startApp({
      command: entryCommand(this.root, version, entry, this.options.args, nodePath),
      env: {
        ...(this.options.env ?? process.env),
        NOTSOTUF_INSTALL_ROOT: this.root,
        NOTSOTUF_VERSION: version,
      },
      stdio: this.options.stdio ?? DEFAULT_LAUNCH.stdio,
      onError: (err) => this.log(`signalling ${version} failed: ${err.message}`),
    });
    this.signals.attach(started.child);
    if (started.child.pid !== undefined) this.options.onSpawn?.(started.child, { version, trial });
    return started;
  }

  /** After the user asked to stop, nothing more is started. */
  private stoppedResult(version: string): LaunchResult | undefined {
    const signal = this.signals.stoppedBy;
    if (signal === null) return undefined;
    this.routine(`not starting ${version}: stopped by ${signal}`);
    return { exitCode: null, signal, version };
  }
}

/** The state to write for a launch decision (the state itself when there is nothing to record). */
function nextState(state: InstallState, decision: LaunchDecision, now: number): InstallState {
  if (decision.kind === 'rollback') return afterTrialFailure(state, decision.reason, undefined, decision.at);
  if (decision.kind !== 'start') return state;
  if (decision.trial) return countTrialLaunch(state);
  return decision.endTrial && state.trial !== null ? afterConfirm(state, state.trial.version, now) : state;
}

/** The version directories under `versions/` (staging directories, which start with a dot, excluded). */
async function installedVersions(root: string): Promise<string[]> {
  const dir = join(root, VERSIONS_DIR);
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new NotsotufError('IO_ERROR', `Could not list ${dir}.`, { path: dir, cause: err });
  }
}

function missingState(root: string): string {
  return `${join(root, 'install.json')} does not exist, so no version of the app is selected to start.`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function launchError(message: string, root: string): NotsotufError {
  return new NotsotufError('INSTALL_FAILED', message, {
    path: root,
    hint:
      `Check that ${root} is the app's install root (the directory holding install.json and versions/); ` +
      'if it is, reinstall the app (or run its installer again) to repair it.',
  });
}

function startError(version: string, err: NodeJS.ErrnoException): NotsotufError {
  return new NotsotufError(
    'INSTALL_FAILED',
    `Version ${version} could not be started (${err.code ?? err.message}).`,
    {
      cause: err,
      ...(err.path === undefined ? {} : { path: err.path }),
      details: { version },
      hint: 'Check that the entry named in install.json exists and is executable, or reinstall the app.',
    },
  );
}
