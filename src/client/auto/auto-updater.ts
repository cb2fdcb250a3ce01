/**
 * Background updates over a {@link Client}, as electron-updater users expect: periodic checks with jitter, a
 * retry with capped backoff while offline, download, and install for the next launch (or on quit). It never throws
 * out of its timer, never keeps the process alive, and never exits the process: failures are `error` events and
 * results, and `quitAndInstall()` leaves the exit to the app. When to check is decided by the pure functions of
 * `schedule.ts` from the state persisted in `state-file.ts`; how the update gets in place, by `pending-install.ts`.
 */
import { NotsotufError } from '../../core/errors.js';
import { wrapForeignError } from '../../core/foreign-error.js';
import type { InPlaceOptions } from '../../install/index.js';
import type { Client } from '../client.js';
import { type ClientEventMap, TypedEvents } from '../events.js';
import type { UpdateInfo } from '../update-info.js';
import type {
  AutoCheckResult,
  AutoUpdaterEventMap,
  QuitAndInstallOptions,
  QuitAndInstallResult,
  ReadyWhen,
  UpdateDownloadedEvent,
} from './events.js';
import {
  type PreparedUpdate,
  prepareUpdate,
  startOnExit,
  thisProcessCommand,
  withRestart,
} from './pending-install.js';
import {
  type AutoUpdateState,
  type CheckDelay,
  classifyFailure,
  isCheckDue,
  nextCheckDelay,
  recordCheckResult,
  recordCheckStart,
  type ScheduleOptions,
  scheduleOptions,
  startDelay,
} from './schedule.js';
import { autoUpdateStatePath, readAutoUpdateState, writeAutoUpdateState } from './state-file.js';

export interface AutoUpdaterOptions extends Partial<ScheduleOptions> {
  readonly client: Client;
  /** Download an update as soon as a check finds it. Default true. */
  readonly autoDownload?: boolean;
  /**
   * Get a downloaded update in place for the next launch, never changing the running app (default true): the
   * versioned layout installs it at once into its own directory (the entry point starts it next time: `ready`
   * is `next-launch`); the in-place layout prepares the hand-over, whose helper installs once this process has
   * exited (`ready` is `on-quit`). `false`: nothing until the app calls `quitAndInstall()`.
   */
  readonly autoInstall?: boolean;
  /** The in-place layout's install (purge, exclude, hand-over options). */
  readonly inPlace?: InPlaceOptions;
  /** Default `<cacheDir>/auto-update.json`. */
  readonly stateFile?: string;
}

export const DEFAULT_AUTO_UPDATER = { autoDownload: true, autoInstall: true } as const;

// setTimeout takes at most a signed 32-bit delay; a longer wait is taken in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** IO_ERROR for an errno error, ABORTED, else INTERNAL_ERROR (a bug): see `core/foreign-error.ts`. */
function asNotsotufError(err: unknown): NotsotufError {
  return wrapForeignError(err, 'The automatic update');
}

/**
 * @example
 * ```ts
 * const updater = new AutoUpdater({ client, interval: 4 * 3600_000 });
 * updater.on('update-downloaded', ({ info }) => console.log(`${info.version} is installed at the next start`));
 * updater.on('error', ({ error, transient }) => transient || log.warn(error));
 * updater.start();
 * ```
 * @throws NotsotufError INVALID_ARGUMENT for a bad timing option.
 */
export class AutoUpdater extends TypedEvents<AutoUpdaterEventMap> {
  readonly client: Client;
  readonly #schedule: ScheduleOptions;
  readonly #autoDownload: boolean;
  readonly #autoInstall: boolean;
  readonly #inPlace: InPlaceOptions;
  readonly #statePath: string;
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #nextCheckAt: number | undefined;
  #running: Promise<AutoCheckResult> | undefined;
  #abort: AbortController | undefined;
  #available: UpdateInfo | undefined;
  #downloaded: UpdateDownloadedEvent | undefined;
  #prepared: PreparedUpdate | undefined;
  #disarmExit: (() => void) | undefined;

  constructor(options: AutoUpdaterOptions) {
    super();
    this.client = options.client;
    this.#schedule = scheduleOptions(options);
    this.#autoDownload = options.autoDownload ?? DEFAULT_AUTO_UPDATER.autoDownload;
    this.#autoInstall = options.autoInstall ?? DEFAULT_AUTO_UPDATER.autoInstall;
    this.#inPlace = options.inPlace ?? {};
    this.#statePath = options.stateFile ?? autoUpdateStatePath(this.client.cacheDir);
    this.client.on('download-progress', (p) => this.emit('download-progress', p));
    this.client.on('warning', (w) => this.emit('warning', w));
  }

  /** When the next background check is due (ms since the epoch); undefined when none is planned. */
  get nextCheckAt(): number | undefined {
    return this.#nextCheckAt;
  }

  /** Starts the background checks (the first after `initialDelay`, or when the persisted state says). Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#loadState().then((state) => {
      if (this.#started && !this.#running && !this.#downloaded)
        this.#plan(startDelay(state, Date.now(), this.#schedule, Math.random()));
    });
  }

  /** Stops the checks and aborts a running check or download. A prepared install on quit stays armed. */
  stop(): void {
    this.#started = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextCheckAt = undefined;
    this.#abort?.abort();
  }

  /**
   * Checks now (and downloads, installs, as configured) unless a check was made less than an interval ago
   * (`force` bypasses that). A check already running is joined. Never rejects: failures are results, and events.
   */
  checkNow(options: { readonly force?: boolean } = {}): Promise<AutoCheckResult> {
    this.#running ??= this.#guard((signal) => this.#check(options.force === true, signal));
    return this.#running;
  }

  /** Downloads the update the last check found (with `autoDownload: false`). Never rejects. */
  downloadUpdate(): Promise<AutoCheckResult> {
    this.#running ??= this.#guard(async (signal) => {
      if (this.#downloaded) return { kind: 'downloaded', ...this.#downloaded };
      const info = this.#available;
      if (!info) {
        throw new NotsotufError('UPDATE_NOT_CHECKED', 'There is no update to download.', {
          hint: 'Wait for update-available (or call checkNow()) first.',
        });
      }
      return this.#download(info, signal);
    });
    return this.#running;
  }

  /**
   * Installs the downloaded update for the next launch (or prepares it, if `autoInstall` did not), starts the
   * hand-over helper (in-place layout) and calls `exit`; the app must then exit for the helper to proceed. Stops
   * the checks. Throws UPDATE_NOT_CHECKED (nothing downloaded), INSTALL_FAILED, INVALID_ARGUMENT (a versioned
   * restart outside the entry point), and what `client.installUpdate()` throws.
   */
  async quitAndInstall(options: QuitAndInstallOptions = {}): Promise<QuitAndInstallResult> {
    await this.#running;
    const downloaded = this.#downloaded;
    if (!downloaded) {
      throw new NotsotufError('UPDATE_NOT_CHECKED', 'There is no downloaded update to install.', {
        hint: 'Wait for update-downloaded (or call checkNow()) first.',
      });
    }
    this.stop();
    this.#prepared ??= await prepareUpdate(this.client, this.#inPlace);
    const prepared = this.#prepared;
    let handoverLog: string | undefined;
    if (prepared.kind === 'after-exit') {
      this.#disarmExit?.();
      this.#disarmExit = undefined;
      const handover = options.restart
        ? await withRestart(prepared, this.#inPlace, options.restartCommand ?? thisProcessCommand())
        : prepared.handover;
      handoverLog = handover.logFile;
      await handover.start();
    } else if (options.restart) {
      await this.client.restart();
    }
    const result: QuitAndInstallResult = {
      version: prepared.version,
      kind: prepared.kind,
      ...(handoverLog ? { handoverLog } : {}),
    };
    options.exit?.(result);
    return result;
  }

  async #check(force: boolean, signal: AbortSignal): Promise<AutoCheckResult> {
    if (this.#downloaded) return { kind: 'downloaded', ...this.#downloaded };
    const state = await this.#loadState();
    const now = Date.now();
    if (!force && !isCheckDue(state, now, this.#schedule)) {
      return { kind: 'throttled', nextCheckAt: now + nextCheckDelay(state, now, this.#schedule, 0).delayMs };
    }
    const started = recordCheckStart(state, now);
    await this.#saveState(started);
    const currentVersion = this.client.currentVersion.raw;
    this.emit('checking', { currentVersion });
    let checked = started;
    try {
      // The client's own event carries what a rollout holds back (withheld); passed on as it is.
      let none: ClientEventMap['update-not-available'] = { currentVersion, withheld: [] };
      const unsubscribe = this.client.on('update-not-available', (e) => {
        none = e;
      });
      const info = await this.client.checkForUpdates({ signal }).finally(unsubscribe);
      checked = recordCheckResult(started, { kind: info ? 'update' : 'no-update' });
      await this.#saveState(checked);
      if (!info) {
        this.emit('update-not-available', none);
        return { kind: 'no-update' };
      }
      this.emit('update-available', info);
      this.#available = info;
      if (!this.#autoDownload) return { kind: 'update-available', info };
      return await this.#download(info, signal);
    } catch (err) {
      return this.#failed(err, signal, checked);
    }
  }

  async #download(info: UpdateInfo, signal: AbortSignal): Promise<AutoCheckResult> {
    const download = await this.client.downloadUpdate({ signal });
    let ready: ReadyWhen = null;
    let handoverLog: string | undefined;
    if (this.#autoInstall) {
      const prepared = await prepareUpdate(this.client, this.#inPlace, signal);
      this.#prepared = prepared;
      ready = prepared.kind === 'next-launch' ? 'next-launch' : 'on-quit';
      if (prepared.kind === 'after-exit') {
        handoverLog = prepared.handover.logFile;
        this.#disarmExit = startOnExit(prepared.handover);
      }
    }
    const event: UpdateDownloadedEvent = { info, download, ready, ...(handoverLog ? { handoverLog } : {}) };
    this.#downloaded = event;
    this.#available = undefined;
    this.emit('update-downloaded', event);
    return { kind: 'downloaded', ...event };
  }

  /** A failure as a result; a failed check (`state`: as it was when it failed) is recorded for the backoff. */
  async #failed(err: unknown, signal: AbortSignal, state?: AutoUpdateState): Promise<AutoCheckResult> {
    if (signal.aborted) return { kind: 'aborted' };
    const error = asNotsotufError(err);
    if (state) await this.#saveState(recordCheckResult(state, { kind: 'error', code: error.code }));
    const cls = classifyFailure(error.code);
    return { kind: 'error', error, transient: cls === 'transient', class: cls };
  }

  /** Runs one operation: abortable by stop(), every failure turned into a result, the next check planned. */
  async #guard(body: (signal: AbortSignal) => Promise<AutoCheckResult>): Promise<AutoCheckResult> {
    const abort = new AbortController();
    this.#abort = abort;
    let result: AutoCheckResult;
    try {
      result = await body(abort.signal);
    } catch (err) {
      result = await this.#failed(err, abort.signal);
    } finally {
      this.#abort = undefined;
      this.#running = undefined;
    }
    if (this.#downloaded) {
      // Nothing more to look for until the app restarts: a check would only find the same update again.
      clearTimeout(this.#timer);
      this.#nextCheckAt = undefined;
    } else if (this.#started && result.kind !== 'aborted') {
      const state = await this.#loadState();
      this.#plan(nextCheckDelay(state, Date.now(), this.#schedule, Math.random()));
    }
    if (result.kind === 'error') {
      const { kind: _, ...failure } = result;
      this.emit('error', { ...failure, nextCheckAt: this.#nextCheckAt ?? null });
    }
    return result;
  }

  #plan(next: CheckDelay): void {
    clearTimeout(this.#timer);
    if (!this.#started) return;
    const at = Date.now() + next.delayMs;
    this.#nextCheckAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (Date.now() < at) this.#plan({ ...next, delayMs: at - Date.now() });
        else void this.checkNow();
      },
      Math.min(next.delayMs, MAX_TIMER_MS),
    );
    // A background check must never keep the app alive.
    this.#timer.unref();
    this.emit('check-scheduled', { at, delayMs: next.delayMs, reason: next.reason });
  }

  async #loadState(): Promise<AutoUpdateState> {
    const { state, problem, cause } = await readAutoUpdateState(this.#statePath);
    if (problem) this.emit('warning', { message: problem, cause });
    return state;
  }

  async #saveState(state: AutoUpdateState): Promise<void> {
    await writeAutoUpdateState(this.#statePath, state).catch((err: unknown) =>
      this.emit('warning', {
        message: `Could not save the auto-update state ${this.#statePath}.`,
        cause: err,
      }),
    );
  }
}
