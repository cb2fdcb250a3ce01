/**
 * Removing what the layout no longer needs: version directories that are neither current, previous nor on trial,
 * and their health markers. Run by the install strategy after its switch, and by `client.cleanup()`.
 *
 * Safe without the state lock: the entry point only ever shrinks the set of kept versions (a confirmation keeps
 * it, a rollback drops the failed version), and only an install grows it, which holds `update.lock` as we do.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hasErrno, removeTree, renameRetrying } from '../../util/durable-fs.js';
import { versionsToKeep, versionsToRemove } from './decide.js';
import { readPointerVersion } from './launcher-pointer.js';
import { HEALTH_DIR, HEALTH_SUFFIX, type InstallState, STAGING_PREFIX, VERSIONS_DIR } from './layout.js';
import { withUpdateLockOrBusy } from './locks.js';
import { recoverLocked } from './recover.js';
import { readInstallState } from './state-file.js';

type Warn = ((message: string, cause?: unknown) => void) | undefined;

async function names(dir: string, dirsOnly: boolean): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => (dirsOnly ? e.isDirectory() : e.isFile()))
      .map((e) => e.name);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/**
 * Removes the version directories and health markers `state` does not keep; failures are warnings (the next
 * cleanup tries again). A version directory is first renamed to a staging name, so it vanishes at once and a
 * crash mid-delete leaves a leftover for recovery, never a half-deleted directory under a version's name.
 * Nothing is removed without a state, or when its current version is missing (that root needs recovery, not
 * fewer versions). Returns the paths removed. The caller holds `update.lock`.
 */
export async function removeUnkept(
  root: string,
  state: InstallState | undefined,
  onWarning: Warn,
): Promise<string[]> {
  const versions = join(root, VERSIONS_DIR);
  const removed: string[] = [];
  let existing: string[];
  let markers: string[];
  try {
    existing = await names(versions, true);
    markers = (await names(join(root, HEALTH_DIR), false)).filter((n) => n.endsWith(HEALTH_SUFFIX));
  } catch (err) {
    onWarning?.(`Could not list ${versions} to remove old versions.`, err);
    return removed;
  }
  if (state === undefined || !existing.includes(state.current)) return removed;
  // A self-launching root's entry point runs the version its pointer names: never remove that one, even when
  // the pointer lags behind the state (its rewrite failed).
  const launcher = await readPointerVersion(root);
  for (const version of versionsToRemove(existing, state).filter((v) => v !== launcher)) {
    const dir = join(versions, version);
    const aside = join(versions, `${STAGING_PREFIX}removed-${randomBytes(6).toString('hex')}`);
    try {
      await renameRetrying(dir, aside);
      removed.push(dir);
    } catch (err) {
      onWarning?.(
        `Could not remove version ${version} (${dir}); is it still running? The next cleanup retries.`,
        err,
      );
      continue;
    }
    await removeTree(aside).catch((err: unknown) =>
      onWarning?.(`Could not delete ${aside}; the next recovery retries.`, err),
    );
  }
  const keep = versionsToKeep(state);
  for (const marker of markers.filter((n) => !keep.has(n.slice(0, -HEALTH_SUFFIX.length)))) {
    const path = join(root, HEALTH_DIR, marker);
    try {
      await rm(path, { force: true });
      removed.push(path);
    } catch (err) {
      onWarning?.(`Could not remove the old health marker ${path}.`, err);
    }
  }
  return removed;
}

/**
 * What `cleanupInstallRoot` (and `Client.cleanup()`) did. `busy`: another process installs or cleans up; nothing
 * was touched.
 */
export type CleanupResult =
  | { readonly kind: 'busy' }
  | { readonly kind: 'cleaned'; readonly removed: readonly string[] };

export interface CleanupOptions {
  /** Entries that could not be removed. */
  readonly onWarning?: (message: string, cause?: unknown) => void;
}

/**
 * Removes leftovers of interrupted installs, versions no longer kept and their health markers (`client.cleanup()`).
 *
 * @throws NotsotufError INSTALL_FAILED (install.json damaged), INSTALL_LOCKED (install.json locked for seconds),
 *   IO_ERROR.
 */
export async function cleanupInstallRoot(root: string, options: CleanupOptions = {}): Promise<CleanupResult> {
  return withUpdateLockOrBusy(root, async () => {
    const recovered = await recoverLocked(root, { ...options, failIfBroken: false });
    const removed = await removeUnkept(root, await readInstallState(root), options.onWarning);
    return { kind: 'cleaned' as const, removed: [...recovered.removed, ...removed] };
  });
}
