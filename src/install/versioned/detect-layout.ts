/**
 * Which layout an install directory has: a versioned install root (install.json selects a version under
 * `versions/`) or tufup's in-place layout (the release is the directory). Whatever installs into a directory it did
 * not create (the Client without an explicit strategy, `notsotuf client update`) asks this first: copying a
 * release over a versioned root would put release files beside install.json and leave the entry point starting
 * the old version, while reporting success.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NotsotufError } from '../../core/index.js';
import { hasErrno } from '../../util/durable-fs.js';
import {
  HEALTH_DIR,
  type InstallState,
  LAUNCHER_POINTER_FILE,
  STAGING_PREFIX,
  STATE_FILE,
  STATE_LOCK_FILE,
  statePath,
  UPDATE_LOCK_FILE,
  VERSIONS_DIR,
} from './layout.js';
import { readInstallState } from './state-file.js';

export type InstallLayout =
  | { readonly kind: 'versioned'; readonly state: InstallState }
  /** Not a versioned root (or the directory does not exist yet). */
  | { readonly kind: 'in-place' };

/**
 * Names only a versioned root has beside `versions/`: its locks, the launcher's log and pointer, an interrupted
 * switch's temp file, or the health markers. A release copied in place may well ship a `versions/` directory, but
 * not together with one of these.
 */
function versionedMarkers(names: readonly string[]): string[] {
  const fixed = new Set([
    STATE_LOCK_FILE,
    UPDATE_LOCK_FILE,
    LAUNCHER_POINTER_FILE,
    'launcher.log',
    HEALTH_DIR,
  ]);
  return names
    .filter((n) => fixed.has(n) || (n.startsWith(`.${STATE_FILE}.`) && n.endsWith('.tmp')))
    .map((n) => (n === HEALTH_DIR ? `${n}/` : n));
}

/**
 * The layout of `dir`. Versioned when it has install.json; in place when it has none and does not look like a
 * versioned root.
 *
 * @throws NotsotufError INSTALL_FAILED when install.json is damaged, or when `dir` is a versioned root whose
 *   install.json is missing (its `versions/` beside the root's locks, log or health markers): installing in place
 *   there would be wrong, and the hint says how to repair it. IO_ERROR when it cannot be read.
 */
export async function detectInstallLayout(dir: string): Promise<InstallLayout> {
  const state = await readInstallState(dir);
  if (state !== undefined) return { kind: 'versioned', state };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOENT') || hasErrno(err, 'ENOTDIR')) return { kind: 'in-place' };
    throw new NotsotufError('IO_ERROR', `Could not list ${dir}.`, {
      path: dir,
      cause: err,
      hint: `Check that ${dir} is readable by this user.`,
    });
  }
  if (!names.includes(VERSIONS_DIR)) return { kind: 'in-place' };
  const versions = await readdir(join(dir, VERSIONS_DIR)).catch(() => undefined);
  if (versions === undefined) return { kind: 'in-place' }; // a file named `versions`
  const markers = [
    ...versionedMarkers(names),
    ...versions.filter((n) => n.startsWith(STAGING_PREFIX)).map((n) => `${VERSIONS_DIR}/${n}`),
  ];
  if (markers.length === 0) return { kind: 'in-place' };
  throw new NotsotufError(
    'INSTALL_FAILED',
    `${dir} is a versioned install root (it has ${VERSIONS_DIR}/ beside ${markers.join(', ')}), but ${statePath(dir)} ` +
      'is missing, so no version is selected; an update cannot be installed into it.',
    {
      path: dir,
      details: { markers },
      hint:
        `Restore ${STATE_FILE} from a backup (it must name a directory in ${VERSIONS_DIR}/ as "current"), or ` +
        'reinstall the app with its installer.',
    },
  );
}
