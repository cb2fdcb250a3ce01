/**
 * Reading and writing `<root>/install.json`. The file is untrusted input (the user, another tool or a damaged
 * disk may have changed it), so it is checked field by field into an InstallState; unknown fields are kept on the
 * object, so every `{ ...state }` transition writes them back (a newer notsotuf's additions survive an older one).
 *
 * Writing it is THE atomic switch of the layout: temp file beside it, fsync the file, rename over install.json,
 * fsync the directory. A reader (the entry point) sees the old state or the new one, never a mix.
 */
import { readFile } from 'node:fs/promises';
import { NotsotufError } from '../../core/index.js';
import { hasErrno, writeFileAtomic } from '../../util/durable-fs.js';
import { refreshLauncherPointer } from './launcher-pointer.js';
import {
  FAILURE_REASONS,
  type FailedVersion,
  type InstallState,
  isEntryPath,
  isVersionDirName,
  type LastResult,
  STATE_FORMAT,
  statePath,
  type Trial,
} from './layout.js';
import { withStateLock } from './locks.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isVersion(value: unknown): value is string {
  return typeof value === 'string' && isVersionDirName(value);
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

function isTrial(value: unknown): value is Trial {
  return (
    isObject(value) &&
    isVersion(value['version']) &&
    Number.isSafeInteger(value['launches']) &&
    (value['launches'] as number) >= 0 &&
    isTime(value['since'])
  );
}

function isFailureReason(value: unknown): value is FailedVersion['reason'] {
  return (FAILURE_REASONS as readonly unknown[]).includes(value);
}

function isFailedVersion(value: unknown): value is FailedVersion {
  return (
    isObject(value) &&
    isVersion(value['version']) &&
    isFailureReason(value['reason']) &&
    isOptionalString(value['detail']) &&
    isTime(value['at'])
  );
}

function isLastResult(value: unknown): value is LastResult {
  if (!isObject(value) || !isTime(value['at'])) return false;
  switch (value['kind']) {
    case 'installed':
      return isVersion(value['version']) && (value['previous'] === null || isVersion(value['previous']));
    case 'confirmed':
      return isVersion(value['version']);
    case 'rolled-back':
      return (
        isVersion(value['from']) &&
        isVersion(value['to']) &&
        (isFailureReason(value['reason']) || value['reason'] === 'version-missing') &&
        isOptionalString(value['detail'])
      );
    default:
      return false;
  }
}

/** The first field of `value` that is not what InstallState needs, or undefined when it is a valid state. */
function invalidField(value: Json): string | undefined {
  const checks: [string, boolean][] = [
    ['current', isVersion(value['current'])],
    ['previous', value['previous'] === null || isVersion(value['previous'])],
    ['entry', typeof value['entry'] === 'string' && isEntryPath(value['entry'])],
    ['trial', value['trial'] === null || isTrial(value['trial'])],
    ['failed', Array.isArray(value['failed']) && value['failed'].every(isFailedVersion)],
    ['lastResult', value['lastResult'] === null || isLastResult(value['lastResult'])],
  ];
  return checks.find(([, ok]) => !ok)?.[0];
}

const DAMAGED_HINT =
  'install.json was changed outside notsotuf or the disk is damaged. Reinstall the app, or restore install.json ' +
  'from a backup (it must name a directory in versions/ as "current").';

/**
 * Checks the text of install.json into an InstallState (unknown fields kept). Pure.
 *
 * @throws NotsotufError INSTALL_FAILED (with a hint) when it is not a valid state of this format.
 */
export function parseInstallState(text: string, path = 'install.json'): InstallState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new NotsotufError('INSTALL_FAILED', `${path} is not valid JSON.`, {
      path,
      cause: err,
      hint: DAMAGED_HINT,
    });
  }
  if (!isObject(value)) {
    throw new NotsotufError('INSTALL_FAILED', `${path} is not a JSON object.`, { path, hint: DAMAGED_HINT });
  }
  if (value['format'] !== STATE_FORMAT) {
    const newer = typeof value['format'] === 'number' && value['format'] > STATE_FORMAT;
    throw new NotsotufError(
      'INSTALL_FAILED',
      `${path} has format ${String(value['format'])}, not ${STATE_FORMAT}.`,
      {
        path,
        details: { format: value['format'] },
        hint: newer
          ? 'A newer notsotuf manages this install root: update the app (or its installer) rather than downgrading.'
          : DAMAGED_HINT,
      },
    );
  }
  const field = invalidField(value);
  if (field !== undefined) {
    throw new NotsotufError('INSTALL_FAILED', `${path} has an invalid "${field}" field.`, {
      path,
      details: { field },
      hint: DAMAGED_HINT,
    });
  }
  return value as unknown as InstallState;
}

/**
 * Reads `<root>/install.json`; undefined when there is none (nothing installed in this layout yet).
 *
 * @throws NotsotufError INSTALL_FAILED when it is damaged, IO_ERROR when it cannot be read.
 */
export async function readInstallState(root: string): Promise<InstallState | undefined> {
  const path = statePath(root);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw new NotsotufError('IO_ERROR', `Could not read ${path}.`, {
      path,
      cause: err,
      hint: `Check that ${path} is readable by this user.`,
    });
  }
  return parseInstallState(text, path);
}

/** Options for {@link writeInstallState} and {@link updateInstallState}. */
export interface StateWriteOptions {
  /** Told when the switch happened but its directory could not be fsynced (it may not survive a power loss). */
  readonly onWarning?: (message: string, cause?: unknown) => void;
  readonly signal?: AbortSignal;
}

/**
 * Replaces `<root>/install.json` atomically. Callers that read before they write must hold the state lock (use
 * {@link updateInstallState}). When it resolves, the new state is what every reader sees; when it throws, the old
 * state is still in place and no temp file is left.
 *
 * @throws NotsotufError IO_ERROR (the state is unchanged).
 */
export async function writeInstallState(
  root: string,
  state: InstallState,
  options: StateWriteOptions = {},
): Promise<void> {
  const path = statePath(root);
  // The temp file is `.install.json.<hex>.tmp` (tempPathFor), which recovery removes after a crash. Once the
  // rename is done the new state is in effect, so a failing directory fsync is only a warning.
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, 0o644, {
    onWarning: (message, cause) => options.onWarning?.(message, cause),
  });
  await refreshLauncherPointer(root, state, options.onWarning);
}

/**
 * Reads the state, applies `fn` and writes what it returns, all under `<root>/install.lock`. When `fn` returns
 * undefined or the very state it was given, nothing is written. Returns the state now in effect.
 *
 * @throws NotsotufError INSTALL_LOCKED (lock busy for seconds), INSTALL_FAILED (damaged state), IO_ERROR, ABORTED;
 *   or what `fn` throws.
 */
export function updateInstallState(
  root: string,
  fn: (state: InstallState | undefined) => InstallState | undefined,
  options: StateWriteOptions = {},
): Promise<InstallState | undefined> {
  return withStateLock(
    root,
    async () => {
      const state = await readInstallState(root);
      const next = fn(state);
      if (next === undefined || next === state) return state;
      await writeInstallState(root, next, options);
      return next;
    },
    options.signal,
  );
}
