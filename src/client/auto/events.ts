/** What the AutoUpdater reports, as events and as results. Like the Client, it never prints: apps listen and render. */
import type { NotsotufError } from '../../core/errors.js';
import type { RestartCommand } from '../../install/index.js';
import type { DownloadedUpdate } from '../client.js';
import type { ClientEventMap, DownloadProgressEvent } from '../events.js';
import type { UpdateInfo } from '../update-info.js';
import type { PreparedUpdate } from './pending-install.js';
import type { CheckDelay, FailureClass } from './schedule.js';

/** How a downloaded update gets in place: see `autoInstall`. `null`: not yet (autoInstall false). */
export type ReadyWhen = 'next-launch' | 'on-quit' | null;

export interface UpdateDownloadedEvent {
  readonly info: UpdateInfo;
  readonly download: DownloadedUpdate;
  /**
   * `next-launch`: installed (versioned layout), the next launch runs it; `on-quit`: the hand-over helper installs it
   * once this process has exited (in-place layout); `null`: call `quitAndInstall()`.
   */
  readonly ready: ReadyWhen;
  /** In-place layout: the hand-over helper's log. */
  readonly handoverLog?: string;
}

export interface AutoUpdateErrorEvent {
  readonly error: NotsotufError;
  /** Network or server trouble (DOWNLOAD_*, METADATA_NOT_FOUND, CACHE_LOCKED …): retried soon, with backoff. */
  readonly transient: boolean;
  /** `security`: the repository or a file did not verify; retried only after the full interval. */
  readonly class: FailureClass;
  /** When the next check is due (ms since the epoch), or null when the updater is stopped. */
  readonly nextCheckAt: number | null;
}

/** Event name → payload. */
export interface AutoUpdaterEventMap {
  /** The next check is planned (`reason`: first check, regular interval, or retry after a transient failure). */
  'check-scheduled': { readonly at: number; readonly delayMs: number; readonly reason: CheckDelay['reason'] };
  checking: { readonly currentVersion: string };
  'update-available': UpdateInfo;
  /** As the client's: the installed version, and the releases a rollout or halt holds back from this install. */
  'update-not-available': ClientEventMap['update-not-available'];
  /** Forwarded from the client. */
  'download-progress': DownloadProgressEvent;
  'update-downloaded': UpdateDownloadedEvent;
  /** A check, download or install failed; the updater carries on. */
  error: AutoUpdateErrorEvent;
  /** Something went wrong but was recovered from (forwarded from the client too; a damaged state file). */
  warning: { readonly message: string; readonly cause?: unknown };
}

/** What a check did. Failures are results too: `checkNow()` never rejects. */
export type AutoCheckResult =
  /** Not due yet (a recent check, possibly by an earlier run of the app). */
  | { readonly kind: 'throttled'; readonly nextCheckAt: number }
  | { readonly kind: 'no-update' }
  /** Found, not downloaded (`autoDownload: false`): call `downloadUpdate()`. */
  | { readonly kind: 'update-available'; readonly info: UpdateInfo }
  /** Downloaded (now, or by an earlier check: the updater then checks no more). */
  | ({ readonly kind: 'downloaded' } & UpdateDownloadedEvent)
  | {
      readonly kind: 'error';
      readonly error: NotsotufError;
      readonly transient: boolean;
      readonly class: FailureClass;
    }
  /** `stop()` cancelled it. */
  | { readonly kind: 'aborted' };

export interface QuitAndInstallOptions {
  /**
   * Start the app again afterwards: in place, with {@link restartCommand} (default this process's command line)
   * once the helper has installed; versioned, through the entry point (`client.restart()`). Default false.
   */
  readonly restart?: boolean;
  readonly restartCommand?: RestartCommand;
  /** Called last, with the result, e.g. `() => app.quit()`. The library never exits the process itself. */
  readonly exit?: (result: QuitAndInstallResult) => void;
}

export interface QuitAndInstallResult {
  readonly version: string;
  /** `next-launch`: installed, the next launch runs it; `after-exit`: the helper installs once the app exits. */
  readonly kind: PreparedUpdate['kind'];
  readonly handoverLog?: string;
}
