/**
 * The in-place install strategy: the new release is copied over the install directory (tufup's default), but
 * every change is reversible until the last one is made. Replaced and purged entries are renamed into a backup
 * directory inside the install directory (same file system, so renames are cheap and atomic); new files are
 * written beside their destination and renamed into place. Any failure, or an abort, undoes the journal in
 * reverse and leaves the install directory as it was.
 *
 * On Windows a running executable can be neither replaced nor renamed over, so the strategy writes a hand-over
 * script instead, and the app quits to let it finish (see `windows-handover.ts`). `afterExit` asks for the same
 * hand-over (its node helper) on every platform, for apps whose running files must not change under them.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, mkdtemp, rename, rm, rmdir, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { aborted, checkAborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { openForFlush } from '../util/durable-fs.js';
import { createExcludeMatcher } from './exclude-pattern.js';
import { type Entry, planInPlace } from './in-place-plan.js';
import { undoneInstallError } from './install-errors.js';
import type { InstallContext, InstallOutcome, InstallStrategy } from './strategy.js';
import { scanTree } from './tree-scan.js';
import { type WindowsHandoverOptions, writeWindowsHandover } from './windows-handover.js';

/** Options for {@link inPlaceStrategy}. */
export interface InPlaceOptions {
  /** Remove installed entries the new release does not have (tufup's `purge_dst_dir`). Default false. */
  readonly purge?: boolean;
  /** Entries purge must keep, e.g. `logs`, `data/cache`, `*.log` (see `exclude-pattern.ts`). */
  readonly exclude?: readonly string[];
  /** Which code path to take; default `process.platform`. `win32` hands over to a helper process. */
  readonly platform?: NodeJS.Platform;
  /**
   * Install after the app has exited, through the node hand-over helper, on every platform: `install()` only
   * checks and writes the hand-over, and returns it to be started before the app exits, so the running app's
   * files never change under it. Always the case on win32. Default false elsewhere.
   */
  readonly afterExit?: boolean;
  /** How the hand-over runs (win32, or `afterExit`). Outside win32 only the node helper exists. */
  readonly handover?: WindowsHandoverOptions;
}

export const DEFAULT_IN_PLACE = { purge: false, exclude: [] as readonly string[] } as const;

const POSIX_STEPS = [
  'Scan the new release and the install directory',
  'Back up entries whose type changes',
  'Copy the new files into place',
  'Remove purged entries',
  'Remove the backup',
] as const;

const HANDOVER_STEPS = [
  'Check the new release and the install directory',
  'Write the hand-over script',
] as const;

const INSTALL_DIR_MISSING =
  'The install directory must exist before an update is installed into it: check the path passed in.';
const RELEASE_MISSING = 'The extracted release is gone: download and extract the update again.';

/** The prefix of the backup directory; `ALWAYS_EXCLUDED` keeps it (and a crashed run's) out of every purge. */
export const BACKUP_PREFIX = '.notsotuf-backup-';

/** One undoable change. `dir-mode`: a new directory got its final mode (undone first, so its contents can go). */
type JournalItem =
  | { readonly kind: 'moved-aside'; readonly rel: string }
  | { readonly kind: 'placed'; readonly rel: string; readonly type: Entry['type'] }
  | { readonly kind: 'dir-mode'; readonly rel: string };

/**
 * The in-place install strategy (name `in-place`).
 *
 * @example
 * const client = new Client({ ..., installStrategy: inPlaceStrategy({ purge: true, exclude: ['logs', '*.log'] }) });
 * @throws NotsotufError INVALID_ARGUMENT at once for an invalid exclude pattern, or for a PowerShell or elevated
 *   hand-over outside win32. `install()` throws
 *   INSTALL_FAILED (the install directory is as before, unless the error says the rollback failed) or ABORTED.
 */
export function inPlaceStrategy(options: InPlaceOptions = {}): InstallStrategy {
  const purge = options.purge ?? DEFAULT_IN_PLACE.purge;
  const exclude = [...(options.exclude ?? DEFAULT_IN_PLACE.exclude)];
  createExcludeMatcher(exclude); // checks the patterns now, not after the app has downloaded an update
  const platform = options.platform ?? process.platform;
  const handover = options.handover ?? {};
  if (platform !== 'win32' && (handover.helper === 'powershell' || handover.elevate)) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      'The PowerShell and elevated hand-overs exist only on Windows.',
      {
        hint: 'Outside Windows, leave handover.helper and handover.elevate unset (the node helper is used).',
      },
    );
  }
  return {
    name: 'in-place',
    install: (context) =>
      platform === 'win32' || options.afterExit
        ? installByHandover(context, purge, exclude, handover)
        : installInPlaceNow(context, purge, exclude),
  };
}

function announce(context: InstallContext, steps: readonly string[], index: number): void {
  context.onStep?.({ index, total: steps.length, title: steps[index - 1] as string });
}

/** `.<name>.notsotuf-<random>.tmp`; long names are cut so the temp name stays under NAME_MAX (255 bytes). */
function tempNameFor(name: string): string {
  return `.${name.slice(0, 40)}.notsotuf-${randomBytes(6).toString('hex')}.tmp`;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/**
 * Runs the journaled install in this process, now, whatever the platform: what the POSIX path of
 * {@link inPlaceStrategy} does, and what the Windows hand-over helper does once the app has quit.
 */
export function installInPlaceNow(
  context: InstallContext,
  purge: boolean,
  exclude: readonly string[],
): Promise<InstallOutcome> {
  return new PosixInstall(context, purge, exclude).run();
}

class PosixInstall {
  private readonly installDir: string;
  private readonly sourceDir: string;
  private backupDir: string | undefined;
  private readonly journal: JournalItem[] = [];
  /** The path being worked on, for the error. */
  private current: string | undefined;

  constructor(
    private readonly context: InstallContext,
    private readonly purge: boolean,
    private readonly exclude: readonly string[],
  ) {
    this.installDir = resolve(context.installDir);
    this.sourceDir = resolve(context.sourceDir);
  }

  async run(): Promise<InstallOutcome> {
    const { signal } = this.context;
    let committed = false;
    let keepBackup = false;
    try {
      this.step(1);
      const source = await scanTree(this.sourceDir, {
        signal,
        special: 'reject',
        missingHint: RELEASE_MISSING,
      });
      const installed = await scanTree(this.installDir, {
        signal,
        special: 'as-file',
        missingHint: INSTALL_DIR_MISSING,
        skipRootNames: (name) => name.startsWith('.notsotuf-'),
      });
      const plan = planInPlace(source, installed, { purge: this.purge, exclude: this.exclude });

      this.step(2);
      // Inside the install dir: the same file system, so each backup is a rename, never a copy.
      this.backupDir = await mkdtemp(join(this.installDir, BACKUP_PREFIX));
      // Before any write: a file must go before a directory of the same name can be made, and vice versa.
      for (const { entry } of plan.remove.filter((r) => r.reason === 'type-change')) {
        await this.moveAside(entry.path);
      }

      this.step(3);
      for (const entry of plan.mkdirs) await this.makeDir(entry);
      for (const { entry } of plan.writeFiles) await this.placeFile(entry);
      for (const { entry } of plan.writeLinks) await this.placeLink(entry);
      // Last, deepest first: a release may ship a read-only directory, which must stay writable until filled.
      for (const entry of [...plan.mkdirs].reverse()) await this.setDirMode(entry);

      this.step(4);
      for (const { entry } of plan.remove.filter((r) => r.reason === 'purge')) {
        await this.moveAside(entry.path);
      }
      // An abort that arrives any time before the point of no return rolls back.
      checkAborted(signal, 'The install was aborted.');
      // POINT OF NO RETURN: the new release is in place. Nothing below may fail the install or undo it; an abort
      // is ignored from here on.
      committed = true;
      return { kind: 'installed' };
    } catch (err) {
      const failures = await this.rollback();
      keepBackup = failures.length > 0;
      throw this.wrap(err, failures);
    } finally {
      if (committed) this.announceCleanup();
      // Cleanup runs whatever the result, except when a failed rollback left files that only the backup still has.
      if (this.backupDir !== undefined && !keepBackup) await this.removeBackup(this.backupDir);
    }
  }

  private step(index: number): void {
    checkAborted(this.context.signal, 'The install was aborted.');
    announce(this.context, POSIX_STEPS, index);
  }

  /** After the point of no return even a throwing `onStep` callback must not fail the install. */
  private announceCleanup(): void {
    try {
      announce(this.context, POSIX_STEPS, 5);
    } catch (err) {
      this.context.onWarning?.('The onStep callback failed while announcing the cleanup.', err);
    }
  }

  private abs(rel: string): string {
    return join(this.installDir, ...rel.split('/'));
  }

  /** Renames an installed entry into the backup (mirroring its path); false when nothing is there. */
  private async moveAside(rel: string): Promise<boolean> {
    checkAborted(this.context.signal, 'The install was aborted.');
    const from = this.abs(rel);
    this.current = from;
    if (!(await exists(from))) return false;
    const to = join(this.backupDir as string, ...rel.split('/'));
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
    this.journal.push({ kind: 'moved-aside', rel });
    return true;
  }

  private async makeDir(entry: Entry): Promise<void> {
    checkAborted(this.context.signal, 'The install was aborted.');
    const path = this.abs(entry.path);
    this.current = path;
    await mkdir(path, { mode: 0o700 });
    this.journal.push({ kind: 'placed', rel: entry.path, type: 'dir' });
  }

  private async setDirMode(entry: Entry): Promise<void> {
    const path = this.abs(entry.path);
    this.current = path;
    this.journal.push({ kind: 'dir-mode', rel: entry.path });
    await chmod(path, entry.mode & 0o777); // the exact mode, whatever the umask
  }

  /**
   * Writes beside the destination, then renames into place. A rename swaps the directory entry, so it works even
   * when the old file is a running executable (writing into it would fail with ETXTBSY on Linux), and the window
   * without a file at `dest` is one rename long.
   */
  private async placeFile(entry: Entry): Promise<void> {
    checkAborted(this.context.signal, 'The install was aborted.');
    const dest = this.abs(entry.path);
    const from = join(this.sourceDir, ...entry.path.split('/'));
    const tmp = join(dirname(dest), tempNameFor(basename(dest)));
    this.current = from;
    try {
      await copyFile(from, tmp, constants.COPYFILE_EXCL);
      this.current = dest;
      const fh = await openForFlush(tmp);
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await chmod(tmp, entry.mode & 0o777);
      await this.moveAside(entry.path);
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    this.journal.push({ kind: 'placed', rel: entry.path, type: 'file' });
  }

  /** Same link text, made under a temp name and renamed into place like a file. */
  private async placeLink(entry: Entry): Promise<void> {
    checkAborted(this.context.signal, 'The install was aborted.');
    const dest = this.abs(entry.path);
    const tmp = join(dirname(dest), tempNameFor(basename(dest)));
    this.current = dest;
    try {
      await symlink(entry.linkTarget as string, tmp);
      await this.moveAside(entry.path);
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    this.journal.push({ kind: 'placed', rel: entry.path, type: 'symlink' });
  }

  /**
   * Undoes the journal in reverse: what was placed goes (unlink/rmdir, never a recursive delete of something we did
   * not make), then what was moved aside comes back. Keeps going past failures and returns them.
   */
  private async rollback(): Promise<{ path: string; error: unknown }[]> {
    const failures: { path: string; error: unknown }[] = [];
    for (const item of this.journal.reverse()) {
      const path = this.abs(item.rel);
      try {
        if (item.kind === 'dir-mode') await chmod(path, 0o700);
        else if (item.kind === 'placed') await (item.type === 'dir' ? rmdir(path) : unlink(path));
        else await rename(join(this.backupDir as string, ...item.rel.split('/')), path);
      } catch (error) {
        failures.push({ path, error });
      }
    }
    return failures;
  }

  private async removeBackup(backupDir: string): Promise<void> {
    try {
      await rm(backupDir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      this.context.onWarning?.(`Could not remove the backup directory ${backupDir}; delete it by hand.`, err);
    }
  }

  private wrap(err: unknown, failures: readonly { path: string; error: unknown }[]): NotsotufError {
    const cancelled = err instanceof NotsotufError && err.code === 'ABORTED';
    const path = (err instanceof NotsotufError ? err.path : undefined) ?? this.current ?? this.installDir;
    const { version } = this.context;
    const details = { version, installDir: this.installDir, rollbackFailures: failures.map((f) => f.path) };
    if (failures.length > 0) {
      const message = `Installing version ${version} into ${this.installDir} failed, and restoring the previous files failed too: the app may be broken.`;
      const options = {
        cause: err,
        path,
        details: { ...details, backupDir: this.backupDir },
        hint: `The previous files are kept in ${this.backupDir}: move them back to the same places in ${this.installDir}, or reinstall the app.`,
      };
      return cancelled ? aborted(message, options) : new NotsotufError('INSTALL_FAILED', message, options);
    }
    return undoneInstallError(err, {
      version,
      target: this.installDir,
      leftAlone: 'it was left as it was',
      path,
      details,
      inRelease: path.startsWith(this.sourceDir),
    });
  }
}

async function installByHandover(
  context: InstallContext,
  purge: boolean,
  exclude: readonly string[],
  handover: WindowsHandoverOptions,
): Promise<InstallOutcome> {
  announce(context, HANDOVER_STEPS, 1);
  checkAborted(context.signal, 'The install was aborted.');
  const installDir = resolve(context.installDir);
  const sourceDir = resolve(context.sourceDir);
  // Only the top level: the script walks the trees itself once the app has quit.
  await scanTree(installDir, {
    special: 'as-file',
    skipRootNames: () => true,
    missingHint: INSTALL_DIR_MISSING,
  });
  await scanTree(sourceDir, { special: 'reject', skipRootNames: () => true, missingHint: RELEASE_MISSING });
  announce(context, HANDOVER_STEPS, 2);
  checkAborted(context.signal, 'The install was aborted.');
  // Outside the install dir, so the script, its log and its backup survive a purge and a failed install.
  const dir = await mkdtemp(join(tmpdir(), 'notsotuf-handover-')).catch((err: unknown) => {
    throw new NotsotufError('INSTALL_FAILED', 'Could not create a directory for the hand-over script.', {
      cause: err,
      path: tmpdir(),
      hint: 'Check that the temp directory exists, is writable and that the disk is not full.',
    });
  });
  const written = await writeWindowsHandover({
    ...handover,
    dir,
    pid: handover.pid ?? process.pid,
    sourceDir,
    installDir,
    purge,
    exclude,
    version: context.version,
  });
  return { kind: 'handover', handover: written };
}
