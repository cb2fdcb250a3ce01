/**
 * Health markers: the app, started on trial, calls `markHealthy` once it works (window shown, self-test passed).
 * The entry point (or the app itself, through `confirmTrial`) then ends the trial; a version that never marks
 * itself healthy is rolled back. The install removes a version's marker before it switches to that version, so
 * a marker always speaks about the launch of the installed files.
 */
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NotsotufError } from '../../core/index.js';
import { fsyncDir, hasErrno } from '../../util/durable-fs.js';
import { afterConfirm } from './decide.js';
import { healthMarker, isVersionDirName } from './layout.js';
import { readInstallState, type StateWriteOptions, updateInstallState } from './state-file.js';

function checkVersion(version: string): void {
  if (!isVersionDirName(version)) {
    throw new NotsotufError('INVALID_ARGUMENT', `${JSON.stringify(version)} is not a version.`, {
      hint: 'Pass the version of the running app exactly as it was published (e.g. 1.2.0).',
    });
  }
}

/**
 * Marks `version` healthy: creates `health/<version>.ok`. Idempotent. Only the marker's existence counts, so it is
 * created with O_EXCL (atomic: it exists or not) rather than written beside and renamed; then fsynced, with its
 * directory, so the confirmation survives a crash right after.
 *
 * @throws NotsotufError INVALID_ARGUMENT (not a version), IO_ERROR.
 */
export async function markHealthy(root: string, version: string, now: number = Date.now()): Promise<void> {
  checkVersion(version);
  const path = healthMarker(root, version);
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'wx', 0o644).catch((err: unknown) => {
      if (hasErrno(err, 'EEXIST')) return undefined;
      throw err;
    });
    if (fh === undefined) return;
    try {
      await fh.writeFile(`${JSON.stringify({ version, at: now })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsyncDir(dirname(path));
  } catch (err) {
    throw new NotsotufError('IO_ERROR', `Could not mark version ${version} healthy (${path}).`, {
      path,
      cause: err,
      hint: `Check that ${dirname(path)} is writable by the user running the app and the disk is not full.`,
    });
  }
}

/**
 * Whether `health/<version>.ok` exists.
 *
 * @throws NotsotufError INVALID_ARGUMENT (not a version).
 */
export async function isHealthy(root: string, version: string): Promise<boolean> {
  checkVersion(version);
  return stat(healthMarker(root, version)).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** What {@link confirmTrial} found. */
export type ConfirmResult =
  | { readonly kind: 'confirmed'; readonly version: string }
  | { readonly kind: 'not-on-trial' }
  /** The version on trial has not marked itself healthy (yet). */
  | { readonly kind: 'not-healthy'; readonly version: string };

/**
 * Ends the trial when the version on trial has marked itself healthy.
 *
 * @throws NotsotufError INSTALL_FAILED (install.json damaged), INSTALL_LOCKED, IO_ERROR.
 */
export async function confirmTrial(
  root: string,
  options: StateWriteOptions & { readonly now?: number } = {},
): Promise<ConfirmResult> {
  const trial = (await readInstallState(root))?.trial ?? null;
  if (trial === null) return { kind: 'not-on-trial' };
  if (!(await isHealthy(root, trial.version))) return { kind: 'not-healthy', version: trial.version };
  const now = options.now ?? Date.now();
  // Read again under the lock: the entry point may have rolled the trial back since.
  const state = await updateInstallState(
    root,
    (s) => (s === undefined ? s : afterConfirm(s, trial.version, now)),
    options,
  );
  // Confirmed by this call or a concurrent one; anything else means the trial is over some other way.
  return state !== undefined && state.current === trial.version && state.trial === null
    ? { kind: 'confirmed', version: trial.version }
    : { kind: 'not-on-trial' };
}
