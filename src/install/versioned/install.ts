/**
 * The versioned install strategy: each release goes into its own directory under `versions/`, and one atomic
 * rewrite of install.json switches the entry point to it. Nothing the running app uses is ever modified, so an
 * update can be installed while the app runs (on Windows too), and a crash at any instant leaves either the old
 * or the new version selected, each complete (see layout.ts; `recover.ts` removes what a crash leaves).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { checkAborted } from '../../core/aborted.js';
import { NotsotufError } from '../../core/index.js';
import { fsyncDir, hasErrno, removeTree, renameRetrying } from '../../util/durable-fs.js';
import { undoneInstallError } from '../install-errors.js';
import type { InstallContext, InstallOutcome, InstallStrategy } from '../strategy.js';
import { removeUnkept } from './cleanup.js';
import { copyTreeDurably } from './copy-tree.js';
import { afterInstall, versionsToKeep } from './decide.js';
import {
  DATA_DIR,
  HEALTH_DIR,
  healthMarker,
  type InstallState,
  isEntryPath,
  isVersionDirName,
  STAGING_PREFIX,
  VERSIONS_DIR,
  versionDir,
} from './layout.js';
import { acquireUpdateLock, withStateLock } from './locks.js';
import { recoverLocked } from './recover.js';
import { sameTree } from './same-tree.js';
import { readInstallState, writeInstallState } from './state-file.js';

/** Options for {@link versionedStrategy}. */
export interface VersionedOptions {
  /** Relative posix path of what the entry point starts inside a release, e.g. `bin/my-app` or `app.js`. */
  readonly entry: string;
  /** Keep the replaced version for a rollback (default true). Without it a failed trial has nothing to go back to. */
  readonly keepPrevious?: boolean;
}

export const DEFAULT_VERSIONED = { keepPrevious: true } as const;

const STEPS = [
  'Check the install root and clean up after interrupted installs',
  'Copy the release into a staging directory and check its entry point',
  'Move the release into versions/',
  'Switch install.json to the new version',
  'Remove versions that are no longer kept',
] as const;

/** Run by Node, so they need no executable bit (the entry point's rule, see launcher/entry-command.ts). */
const NODE_SCRIPT_RE = /\.(?:js|mjs|cjs)$/i;

/**
 * The versioned install strategy (name `versioned`). `context.installDir` is the install root; it must exist.
 *
 * @example
 * const client = new Client({ ..., installDir: root, installStrategy: versionedStrategy({ entry: 'bin/my-app' }) });
 * @throws NotsotufError INVALID_ARGUMENT at once for an unsafe `entry`. `install()` throws INSTALL_FAILED,
 *   INSTALL_LOCKED (another process installs into, recovers or cleans up the root) or ABORTED; install.json and
 *   the existing version directories are then as they were.
 */
export function versionedStrategy(options: VersionedOptions): InstallStrategy {
  if (!isEntryPath(options.entry)) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `The entry ${JSON.stringify(options.entry)} is not a safe path.`,
      {
        hint: 'Name the file to start relative to the release directory, with / separators and no "..", e.g. bin/my-app.',
      },
    );
  }
  const keepPrevious = options.keepPrevious ?? DEFAULT_VERSIONED.keepPrevious;
  return {
    name: 'versioned',
    install: (context) => new VersionedInstall(context, options.entry, keepPrevious).run(),
  };
}

function failed(message: string, path: string, hint: string): NotsotufError {
  return new NotsotufError('INSTALL_FAILED', message, { path, hint });
}

function junkName(what: string): string {
  return `${STAGING_PREFIX}${what}-${randomBytes(6).toString('hex')}`;
}

class VersionedInstall {
  private readonly root: string;
  private readonly versions: string;
  private readonly target: string;
  /** Our staging directory, until it is renamed into place. */
  private staging: string | undefined;
  /** A differing directory of the same version that was in the way, renamed aside. */
  private aside: string | undefined;
  /** The staging directory is now `target` (undone before the switch). */
  private placed = false;
  private currentPath: string | undefined;

  constructor(
    private readonly context: InstallContext,
    private readonly entry: string,
    private readonly keepPrevious: boolean,
  ) {
    this.root = resolve(context.installDir);
    this.versions = join(this.root, VERSIONS_DIR);
    this.target = versionDir(this.root, context.version);
  }

  async run(): Promise<InstallOutcome> {
    const { signal, version } = this.context;
    const warn = (message: string, cause?: unknown) => this.context.onWarning?.(message, cause);
    let committed = false;
    let releaseLock: (() => Promise<void>) | undefined;
    try {
      // First, check the root. The lock keeps other installs, recovery and cleanup out until we are done.
      this.step(1);
      if (!isVersionDirName(version)) {
        throw failed(`${JSON.stringify(version)} cannot name a version directory.`, this.root, BAD_VERSION);
      }
      await this.checkRoot();
      releaseLock = await acquireUpdateLock(this.root);
      // Recovery runs under our lock, so the staging directories it removes are a dead install's, never a live one's.
      // It also reads install.json: a damaged one stops the install here, before anything is copied.
      await recoverLocked(this.root, { failIfBroken: false, onWarning: warn });
      for (const dir of [VERSIONS_DIR, HEALTH_DIR, DATA_DIR]) {
        await mkdir(join(this.root, dir), { recursive: true });
      }
      const before = await readInstallState(this.root);

      // Second, copy the release beside its final place, durably, and check that the entry point can start it.
      this.step(2);
      this.staging = await mkdtemp(join(this.versions, STAGING_PREFIX));
      this.currentPath = this.staging;
      await copyTreeDurably(resolve(this.context.sourceDir), this.staging, signal);
      await this.checkEntry(this.staging);

      // Third, move it into versions/<version>: one rename, so the directory appears complete or not at all.
      this.step(3);
      await this.moveIntoPlace(before);
      await fsyncDir(this.versions); // the rename is on disk before install.json may name the directory

      // Fourth, switch.
      this.step(4);
      // An old marker of this version (installed, removed, now installed again) must not confirm the new trial.
      await rm(healthMarker(this.root, version), { force: true });
      await fsyncDir(join(this.root, HEALTH_DIR));
      checkAborted(signal, 'The install was aborted.'); // the last moment an abort stops the install
      await withStateLock(this.root, async () => {
        let next = afterInstall(await readInstallState(this.root), version, this.entry, Date.now(), {
          keepPrevious: this.keepPrevious,
        });
        // Never offer the entry point a rollback to a directory that is gone.
        if (next.previous !== null && !(await isDirectory(versionDir(this.root, next.previous)))) {
          next = { ...next, previous: null };
        }
        // POINT OF NO RETURN: once this rename lands, the entry point starts the new version. Nothing below may
        // fail the install or undo it; an abort is ignored from here on.
        await writeInstallState(this.root, next, { onWarning: warn });
        committed = true;
      });
    } catch (err) {
      if (!committed) {
        await this.undo(warn);
        throw this.wrap(err);
      }
      warn('The install is complete, but releasing the lock of install.json failed.', err);
    } finally {
      if (committed) await this.cleanUp(warn);
      else if (this.staging !== undefined) await this.removeJunk(this.staging, warn);
      await releaseLock?.().catch((err: unknown) => warn('Could not release the install root lock.', err));
    }
    return { kind: 'installed' };
  }

  private step(index: number): void {
    checkAborted(this.context.signal, 'The install was aborted.');
    this.context.onStep?.({ index, total: STEPS.length, title: STEPS[index - 1] as string });
  }

  private async checkRoot(): Promise<void> {
    const info = await stat(this.root).catch(() => undefined);
    if (!info?.isDirectory())
      throw failed(`${this.root} is not an existing directory.`, this.root, ROOT_MISSING);
  }

  /** The entry point must be able to start the new version; a switch to one it cannot start would brick the app. */
  private async checkEntry(dir: string): Promise<void> {
    const path = join(dir, ...this.entry.split('/'));
    const shown = `${this.entry} (in version ${this.context.version})`;
    const info = await stat(path).catch((err: unknown) => {
      if (hasErrno(err, 'ENOENT', 'ENOTDIR', 'ELOOP')) return undefined;
      throw err;
    });
    if (!info?.isFile()) {
      throw failed(`The release has no file ${shown} for the entry point to start.`, path, ENTRY_MISSING);
    }
    // It may be a symlink, but to a file of this release: the entry point must not start something outside it.
    const [real, realDir] = await Promise.all([realpath(path), realpath(dir)]);
    if (!real.startsWith(realDir + sep)) {
      throw failed(`The entry ${shown} links outside the release.`, path, ENTRY_MISSING);
    }
    if (process.platform !== 'win32' && !NODE_SCRIPT_RE.test(this.entry) && (info.mode & 0o111) === 0) {
      throw failed(`The entry ${shown} is not executable.`, path, ENTRY_NOT_EXECUTABLE);
    }
  }

  /**
   * A complete version directory is never modified. When `versions/<version>` exists already (an install that
   * stopped before its switch, or one rolled back and not yet cleaned up), an identical one is reused; any other is
   * renamed aside and replaced, unless install.json names it (current, previous or on trial).
   */
  private async moveIntoPlace(before: InstallState | undefined): Promise<void> {
    const staging = this.staging as string;
    const { version, signal } = this.context;
    this.currentPath = this.target;
    const existing = await lstat(this.target).catch((err: unknown) => {
      if (hasErrno(err, 'ENOENT')) return undefined;
      throw err;
    });
    if (existing === undefined) {
      await renameRetrying(staging, this.target);
      this.staging = undefined;
      this.placed = true;
      return;
    }
    if (existing.isDirectory() && (await sameTree(staging, this.target, signal))) return; // staging goes in finally
    // One that install.json names is never moved: the entry point may start or roll back to it at any moment.
    if (before !== undefined && versionsToKeep(before).has(version)) {
      throw failed(`${this.target} is in use and differs from the release.`, this.target, IN_USE_DIFFERS);
    }
    this.aside = join(this.versions, junkName('replaced'));
    await renameRetrying(this.target, this.aside);
    await renameRetrying(staging, this.target);
    this.staging = undefined;
    this.placed = true;
  }

  /** Before the switch: puts versions/ back as it was. Failures only warn; install.json is unchanged anyway. */
  private async undo(warn: (message: string, cause?: unknown) => void): Promise<void> {
    try {
      if (this.placed) {
        const junk = join(this.versions, junkName('undone'));
        await renameRetrying(this.target, junk);
        this.placed = false;
        await this.removeJunk(junk, warn);
      }
      if (this.aside !== undefined) {
        await renameRetrying(this.aside, this.target);
        this.aside = undefined;
      }
    } catch (err) {
      warn(
        `Could not restore ${this.target}${this.aside ? ` from ${this.aside}; move it back by hand` : ''}.`,
        err,
      );
    }
  }

  /** Step five, best effort: every failure is a warning, and the next install or cleanup tries again. */
  private async cleanUp(warn: (message: string, cause?: unknown) => void): Promise<void> {
    try {
      this.context.onStep?.({ index: 5, total: STEPS.length, title: STEPS[4] });
    } catch (err) {
      warn('The onStep callback failed while announcing the cleanup.', err);
    }
    if (this.staging !== undefined) await this.removeJunk(this.staging, warn);
    if (this.aside !== undefined) await this.removeJunk(this.aside, warn);
    try {
      await removeUnkept(this.root, await readInstallState(this.root), warn);
    } catch (err) {
      warn('Could not remove the versions that are no longer kept; run the cleanup later.', err);
    }
  }

  private async removeJunk(path: string, warn: (message: string, cause?: unknown) => void): Promise<void> {
    await removeTree(path).catch((err: unknown) =>
      warn(`Could not remove ${path}; the next install or cleanup removes it.`, err),
    );
  }

  private wrap(err: unknown): NotsotufError {
    const { version } = this.context;
    const path = (err instanceof NotsotufError ? err.path : undefined) ?? this.currentPath ?? this.root;
    const details = { version, installDir: this.root };
    const errPath = (err as NodeJS.ErrnoException | undefined)?.path;
    return undoneInstallError(err, {
      version,
      target: this.root,
      leftAlone: 'the installed versions were left as they were',
      path,
      details,
      inRelease: hasErrno(err, 'ENOENT') && errPath?.startsWith(resolve(this.context.sourceDir)) === true,
    });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

const ROOT_MISSING =
  'The install root must exist before an update is installed into it: check the path passed in (the app ' +
  'installer creates it).';
const BAD_VERSION =
  'The version comes from the repository: publish the release with a valid version such as 1.2.0.';
const ENTRY_MISSING =
  'Check the entry option: it names the file to start, relative to the release directory. Publish a release that ' +
  'contains it, or fix the option.';
const ENTRY_NOT_EXECUTABLE =
  'Set its executable bit (chmod +x) before publishing the release, or use a .js/.mjs/.cjs entry, which runs ' +
  'with Node.';
const IN_USE_DIFFERS =
  'The installed copy of this version was changed after its install (or the disk is damaged), and it is in use. ' +
  'Install a newer release, or reinstall the app.';
