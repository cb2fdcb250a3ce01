/**
 * The app as installed with the versioned layout (an install root with install.json): its health confirmation,
 * the result of the last install or trial, cleanup, quit-and-restart, and the versions that failed their trial
 * here. With any other layout these report "not versioned" (false / null / empty) and change nothing.
 */
import { stat } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';
import { tryParseVersion } from '../core/version.js';
import {
  type CleanupResult,
  cleanupInstallRoot,
  confirmTrial,
  detectInstallLayout,
  type InstallState,
  type InstallStrategy,
  inPlaceStrategy,
  type LastResult,
  markHealthy,
  readInstallState,
  relaunch,
  versionedStrategy,
  versionsToKeep,
} from '../install/index.js';

/** What `client.restart()` takes. */
export interface RestartOptions {
  /** The app's arguments; default this process's (`process.argv.slice(2)`). */
  readonly args?: readonly string[];
  /** The launcher script; default the entry point's, else this package's `notsotuf-launch`. */
  readonly launcherPath?: string;
  /**
   * The entry point users start (a file writeEntryPoint wrote), when it is not `<root>/<appName>` (`.cmd` on
   * Windows) and not the only one in the root. Its launcher flags (trial limits, `--quiet`) are used.
   */
  readonly entryPoint?: string;
}

export class InstalledApp {
  constructor(
    private readonly installDir: string,
    private readonly version: string,
    private readonly appName?: string,
  ) {}

  /** The root and version the entry point started this process as (its environment), else the client's options. */
  get launchedAs(): { root: string; version: string } {
    return {
      root: process.env['NOTSOTUF_INSTALL_ROOT'] ?? this.installDir,
      version: process.env['NOTSOTUF_VERSION'] ?? this.version,
    };
  }

  /** Throws INSTALL_FAILED when the install directory (or versioned root) is missing or not a directory. */
  async checkInstallDir(): Promise<void> {
    const dir = this.installDir;
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) {
      throw new NotsotufError(
        'INSTALL_FAILED',
        `The install directory ${dir} does not exist; nothing was downloaded.`,
        {
          path: dir,
          hint: 'The install directory must exist before an update is installed into it: check the path passed in (installDir, --install-dir).',
        },
      );
    }
  }

  state(root = this.launchedAs.root): Promise<InstallState | undefined> {
    return readInstallState(root).catch(() => undefined);
  }

  async markHealthy(): Promise<boolean> {
    const { root, version } = this.launchedAs;
    if (!(await this.state(root))) return false;
    await markHealthy(root, version);
    await confirmTrial(root);
    return true;
  }

  async lastUpdateResult(): Promise<LastResult | null> {
    return (await this.state())?.lastResult ?? null;
  }

  async cleanup(): Promise<CleanupResult | null> {
    const { root } = this.launchedAs;
    return (await this.state(root)) ? cleanupInstallRoot(root) : null;
  }

  async restart(options: RestartOptions): Promise<void> {
    const { root } = this.launchedAs;
    if (!(await this.state(root))) {
      throw new NotsotufError(
        'INVALID_ARGUMENT',
        `${root} is not a versioned install root (no install.json).`,
        {
          hint: 'restart() needs the versioned install strategy; with in-place installs, restart the app yourself.',
        },
      );
    }
    // The launcher starts as the entry point starts it: the same flags (trial limits, --quiet), read back from it.
    relaunch(root, options.args ?? process.argv.slice(2), {
      ...(options.launcherPath ? { launcherPath: options.launcherPath } : {}),
      ...(options.entryPoint ? { entryPoint: options.entryPoint } : {}),
      ...(this.appName ? { appName: this.appName } : {}),
    });
  }

  /**
   * The install strategy that fits the layout the installer made: the atomic versioned install when installDir is
   * a versioned install root (install.json names the entry), else tufup's in-place copy. A damaged install.json, or
   * a versioned root that lost it, is an error (INSTALL_FAILED), never a reason to copy the release over the root.
   */
  async defaultStrategy(): Promise<InstallStrategy> {
    const layout = await detectInstallLayout(this.installDir);
    return layout.kind === 'versioned' ? versionedStrategy({ entry: layout.state.entry }) : inPlaceStrategy();
  }

  /**
   * The versions whose release the install root keeps (current, previous, on trial); empty outside the versioned
   * layout. The client keeps their archives: after a rollback, the next update patches from the previous one.
   */
  async keptVersions(): Promise<string[]> {
    const state = await this.state(this.installDir);
    return state ? [...versionsToKeep(state)] : [];
  }

  /** Normalized versions that failed their trial in this install root. */
  async failedVersions(): Promise<Set<string>> {
    const failed = (await this.state(this.installDir))?.failed ?? [];
    return new Set(failed.flatMap((f) => tryParseVersion(f.version)?.normalized ?? []));
  }
}
