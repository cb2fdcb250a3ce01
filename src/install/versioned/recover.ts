/**
 * Recovery after an interrupted install (crash, power loss, SIGKILL). The layout needs no repair to be usable:
 * install.json is replaced atomically and always names complete version directories. What an interruption leaves
 * is garbage: `versions/.staging-*` directories, `.install.json.*.tmp` files and lock temp files. Recovery
 * removes them, and, as a safety net for a root damaged from outside, moves the state off version directories
 * that have disappeared.
 *
 * The decisions are pure (`findLeftovers`, `isDeadLockTemp`, `planStateRepair`); `recoverInstallRoot` executes
 * them under the locks.
 */
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NotsotufError } from '../../core/index.js';
import { hasErrno, removeTree } from '../../util/durable-fs.js';
import { processAlive } from '../../util/process-alive.js';
import {
  type InstallState,
  STAGING_PREFIX,
  STATE_FILE,
  STATE_LOCK_FILE,
  UPDATE_LOCK_FILE,
  VERSIONS_DIR,
} from './layout.js';
import { withStateLock, withUpdateLockOrBusy } from './locks.js';
import { readInstallState, writeInstallState } from './state-file.js';

const LOCK_TEMP_RE = new RegExp(
  `^(?:${[STATE_LOCK_FILE, UPDATE_LOCK_FILE].map((n) => n.replace('.', '\\.')).join('|')})\\.[0-9a-f]+\\.(?:tmp|break)$`,
);

/**
 * The leftovers among the names in `versions/` and in the root. Pure. `lockTemps` are candidates only: a lock
 * temp file is garbage once the process that wrote it is dead (see {@link isDeadLockTemp}).
 */
export function findLeftovers(
  versionNames: readonly string[],
  rootNames: readonly string[],
): { readonly staging: string[]; readonly stateTemps: string[]; readonly lockTemps: string[] } {
  return {
    staging: versionNames.filter((n) => n.startsWith(STAGING_PREFIX)).sort(),
    // util/durable-fs's tempPathFor spells them `.install.json.<hex>.tmp`.
    stateTemps: rootNames.filter((n) => n.startsWith(`.${STATE_FILE}.`) && n.endsWith('.tmp')).sort(),
    // util/lock-file writes `<lock>.<hex>.tmp` and hard-links it as the lock; a kill in between leaves it. A kill
    // during a release or takeover leaves a break marker, `<lock>.<token>.break`, with the same content.
    lockTemps: rootNames.filter((n) => LOCK_TEMP_RE.test(n)).sort(),
  };
}

/**
 * Whether a lock temp file's writer is gone: its content (pid and host, as util/lock-file writes it) names a dead
 * process of this host, or it has none (killed between creating and writing it). A live writer's temp is kept:
 * deleting it would fail that process's lock attempt. Pure.
 */
export function isDeadLockTemp(content: string, host: string, alive: (pid: number) => boolean): boolean {
  let info: unknown;
  try {
    info = JSON.parse(content);
  } catch {
    return true;
  }
  if (typeof info !== 'object' || info === null) return true;
  const { pid, host: owner } = info as { pid?: unknown; host?: unknown };
  if (typeof pid !== 'number' || typeof owner !== 'string') return true;
  return owner === host && !alive(pid);
}

/** What the state needs, given the version directories that exist. */
export type StateRepair =
  | { readonly kind: 'intact' }
  /** `state` is the repaired state to write. */
  | { readonly kind: 'repaired'; readonly state: InstallState }
  /** Neither the current version's directory nor a previous one exists: only a reinstall helps. */
  | { readonly kind: 'unrecoverable'; readonly missing: string };

/**
 * Points the state at version directories that exist. A missing current version falls back to `previous`
 * (recorded as a `version-missing` roll-back, not as a failed version: its files are gone, not bad); a missing
 * previous version is forgotten, so no rollback targets it. Pure.
 */
export function planStateRepair(
  state: InstallState | undefined,
  existing: readonly string[],
  now: number,
): StateRepair {
  if (state === undefined) return { kind: 'intact' };
  const has = (v: string | null): v is string => v !== null && existing.includes(v);
  if (has(state.current)) {
    return state.previous === null || has(state.previous)
      ? { kind: 'intact' }
      : { kind: 'repaired', state: { ...state, previous: null } };
  }
  if (!has(state.previous) || state.previous === state.current) {
    return { kind: 'unrecoverable', missing: state.current };
  }
  const to = state.previous;
  return {
    kind: 'repaired',
    state: {
      ...state,
      current: to,
      previous: null,
      trial: null,
      lastResult: { kind: 'rolled-back', from: state.current, to, reason: 'version-missing', at: now },
    },
  };
}

/** What recovery did. `busy`: another process is installing or cleaning up, so nothing was touched. */
export type RecoveryReport =
  | { readonly kind: 'busy' }
  | {
      readonly kind: 'recovered';
      /** Absolute paths of the leftovers removed. */
      readonly removed: readonly string[];
      /** Set when the current version's directory was missing and the previous one was selected. */
      readonly fellBack: { readonly from: string; readonly to: string } | null;
      /** A previous version whose directory was missing, now forgotten. */
      readonly droppedPrevious: string | null;
    };

export interface RecoverOptions {
  readonly now?: number;
  /** Leftovers that could not be removed (they are harmless; the next recovery tries again). */
  readonly onWarning?: (message: string, cause?: unknown) => void;
}

async function listNames(dir: string, dirsOnly = false): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => !dirsOnly || e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return [];
    throw new NotsotufError('IO_ERROR', `Could not list ${dir}.`, { path: dir, cause: err });
  }
}

async function removeAll(paths: readonly string[], options: RecoverOptions): Promise<string[]> {
  const removed: string[] = [];
  for (const path of paths) {
    try {
      await removeTree(path);
      removed.push(path);
    } catch (err) {
      options.onWarning?.(
        `Could not remove ${path}, left by an interrupted install; delete it by hand.`,
        err,
      );
    }
  }
  return removed;
}

/**
 * Recovery for a caller that already holds `update.lock` (the install strategy, cleanup). With `failIfBroken`
 * false an unrecoverable state is left alone (an install is about to replace it).
 *
 * @throws NotsotufError INSTALL_FAILED (damaged or, with `failIfBroken`, unrecoverable state), INSTALL_LOCKED,
 *   IO_ERROR.
 */
export async function recoverLocked(
  root: string,
  options: RecoverOptions & { readonly failIfBroken: boolean },
): Promise<Extract<RecoveryReport, { kind: 'recovered' }>> {
  const versions = join(root, VERSIONS_DIR);
  const { staging } = findLeftovers(await listNames(versions), []);
  const removed = await removeAll(
    staging.map((n) => join(versions, n)),
    options,
  );
  // The state lock keeps the entry point's state writes (and their temp files) out of the way meanwhile.
  return withStateLock(root, async () => {
    const { stateTemps, lockTemps } = findLeftovers([], await listNames(root));
    const deadLockTemps: string[] = [];
    for (const name of lockTemps) {
      const content = await readFile(join(root, name), 'utf8').catch(() => undefined);
      if (content !== undefined && isDeadLockTemp(content, hostname(), processAlive))
        deadLockTemps.push(name);
    }
    const temps = [...stateTemps, ...deadLockTemps].map((n) => join(root, n));
    removed.push(...(await removeAll(temps, options)));
    const state = await readInstallState(root);
    const repair = planStateRepair(state, await listNames(versions, true), options.now ?? Date.now());
    if (repair.kind === 'unrecoverable' && options.failIfBroken) {
      throw new NotsotufError(
        'INSTALL_FAILED',
        `The selected version ${repair.missing} is missing from ${versions}.`,
        {
          path: join(versions, repair.missing),
          hint: 'No complete version is left to start: reinstall the app (or install an update into this root).',
        },
      );
    }
    if (repair.kind !== 'repaired' || state === undefined) {
      return { kind: 'recovered', removed, fellBack: null, droppedPrevious: null };
    }
    await writeInstallState(root, repair.state, options);
    const fellBack =
      repair.state.current !== state.current ? { from: state.current, to: repair.state.current } : null;
    return {
      kind: 'recovered',
      removed,
      fellBack,
      droppedPrevious: fellBack === null ? state.previous : null,
    };
  });
}

/**
 * Cleans up after an interrupted install and makes the state name existing versions. Safe to call at any time,
 * e.g. by the entry point at every start: it does nothing while another process installs (`busy`).
 *
 * @throws NotsotufError INSTALL_FAILED (install.json damaged, or no complete version left: reinstall),
 *   INSTALL_LOCKED (install.json locked for seconds), IO_ERROR.
 */
export async function recoverInstallRoot(
  root: string,
  options: RecoverOptions = {},
): Promise<RecoveryReport> {
  return withUpdateLockOrBusy(root, () => recoverLocked(root, { ...options, failIfBroken: true }));
}
