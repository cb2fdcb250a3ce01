/**
 * The two locks of an install root (lock files, so they work across processes, see `util/lock-file.ts`):
 *
 * - `update.lock` is held for a whole install, recovery or cleanup: all three change `versions/`, and none may run
 *   beside another (recovery would delete a running install's staging directory; cleanup would delete a version
 *   that is renamed into place but not yet switched to).
 * - `install.lock` is held only around one read-modify-write of `install.json`, so the entry point (counting a
 *   launch, rolling back) waits milliseconds, never for a whole install's copy.
 *
 * Order: `update.lock` first, then `install.lock`. Neither call blocks on the other lock, so there is no deadlock.
 */
import { join } from 'node:path';
import { isNotsotufError } from '../../core/index.js';
import { acquireLock, withLock } from '../../util/lock-file.js';
import { STATE_LOCK_FILE, UPDATE_LOCK_FILE } from './layout.js';

/** How long a state update waits for `install.lock` (held by others for milliseconds only). */
export const STATE_LOCK_WAIT_MS = 5_000;

/**
 * Takes `<root>/update.lock`. A lock left by a dead process on this host is taken over.
 *
 * @throws NotsotufError INSTALL_LOCKED when another live process installs, recovers or cleans up; IO_ERROR.
 */
export function acquireUpdateLock(root: string): Promise<() => Promise<void>> {
  return acquireLock(join(root, UPDATE_LOCK_FILE), `The install root ${root}`, undefined, 'INSTALL_LOCKED');
}

/**
 * Runs `fn` holding `<root>/update.lock`, or returns `{ kind: 'busy' }` at once while another process installs,
 * recovers or cleans up (recovery and cleanup never wait for a whole install).
 *
 * @throws NotsotufError IO_ERROR; or what `fn` throws.
 */
export async function withUpdateLockOrBusy<T>(
  root: string,
  fn: () => Promise<T>,
): Promise<T | { kind: 'busy' }> {
  let release: () => Promise<void>;
  try {
    release = await acquireUpdateLock(root);
  } catch (err) {
    if (isNotsotufError(err, 'INSTALL_LOCKED')) return { kind: 'busy' };
    throw err;
  }
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * Runs `fn` while holding `<root>/install.lock`, waiting up to {@link STATE_LOCK_WAIT_MS} for it.
 *
 * @throws NotsotufError INSTALL_LOCKED when the lock stays taken, ABORTED, IO_ERROR; or what `fn` throws.
 */
export function withStateLock<T>(root: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const path = join(root, STATE_LOCK_FILE);
  const what = `The state of the install root ${root}`;
  return withLock(path, what, 'INSTALL_LOCKED', fn, {
    waitMs: STATE_LOCK_WAIT_MS,
    ...(signal ? { signal } : {}),
  });
}
