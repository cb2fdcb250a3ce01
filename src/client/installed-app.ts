/**
 * The app as installed with the versioned layout (an install root with install.json): its health confirmation,
 * the result of the last install or trial, cleanup, quit-and-restart, and the versions that failed their trial
 * here. With any other layout these report "not versioned" (false / null / empty) and change nothing.
 */
import { NotsotufError } from '../core/errors.js';
import { tryParseVersion } from '../core/version.js';
import {
  type CleanupResult,
  cleanupInstallRoot,
  confirmTrial,
  type InstallState,
  type InstallStrategy,
  inPlaceStrategy,
  type LastResult,
  markHealthy,
  readInstallState,
  relaunch,
  versionedStrategy,
} from '../install/index.js';

export class InstalledApp {
  constructor(
    private readonly installDir: string,
    private readonly version: string,
  ) {}

  /** The root and version the entry point started this process as (its environment), else the client's options. */
  get launchedAs(): { root: string; version: string } {
    return {
      root: process.env['NOTSOTUF_INSTALL_ROOT'] ?? this.installDir,
      version: process.env['NOTSOTUF_VERSION'] ?? this.version,
    };
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

  async restart(options: { args?: readonly string[]; launcherPath?: string }): Promise<void> {
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
    relaunch(root, options.args ?? process.argv.slice(2), {
      ...(options.launcherPath ? { launcherPath: options.launcherPath } : {}),
    });
  }

  /**
   * The install strategy that fits the layout the installer made: the atomic versioned install when installDir is
   * a versioned install root (install.json names the entry), else tufup's in-place copy.
   */
  async defaultStrategy(): Promise<InstallStrategy> {
    const state = await this.state(this.installDir);
    return state ? versionedStrategy({ entry: state.entry }) : inPlaceStrategy();
  }

  /** Normalized versions that failed their trial in this install root. */
  async failedVersions(): Promise<Set<string>> {
    const failed = (await this.state(this.installDir))?.failed ?? [];
    return new Set(failed.flatMap((f) => tryParseVersion(f.version)?.normalized ?? []));
  }
}
