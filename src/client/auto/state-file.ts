/**
 * The auto-updater's memory between runs: `<cacheDir>/auto-update.json`, holding when it last checked and how that
 * ended (see `schedule.ts`), so that restarts do not multiply checks. It is a convenience, never a reason to fail:
 * a missing file is a first run, a damaged one is ignored with a warning, and it is written atomically (temp file
 * beside it, then rename), so a crash leaves the old state or the new one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/durable-fs.js';
import { type AutoUpdateState, EMPTY_AUTO_UPDATE_STATE, type FailureClass } from './schedule.js';

export const AUTO_UPDATE_STATE_FILE = 'auto-update.json';
export const AUTO_UPDATE_STATE_FORMAT = 'notsotuf-auto-update/1';

const RESULTS = new Set(['no-update', 'update', 'error']);
const CLASSES = new Set(['transient', 'security', 'failure']);

export function autoUpdateStatePath(cacheDir: string): string {
  return join(cacheDir, AUTO_UPDATE_STATE_FILE);
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Checks the parsed file; undefined when it is not a state this version wrote. */
export function parseAutoUpdateState(value: unknown): AutoUpdateState | undefined {
  if (!isObject(value) || value['format'] !== AUTO_UPDATE_STATE_FORMAT) return undefined;
  const { lastCheckAt, lastResult, failures, lastError } = value;
  if (lastCheckAt !== undefined && !isTime(lastCheckAt)) return undefined;
  if (lastResult !== undefined && !(typeof lastResult === 'string' && RESULTS.has(lastResult)))
    return undefined;
  if (!isTime(failures)) return undefined;
  let error: AutoUpdateState['lastError'];
  if (lastError !== undefined) {
    if (!isObject(lastError) || typeof lastError['code'] !== 'string') return undefined;
    const cls = lastError['class'];
    if (typeof cls !== 'string' || !CLASSES.has(cls)) return undefined;
    error = { code: lastError['code'], class: cls as FailureClass };
  }
  return {
    failures,
    ...(lastCheckAt === undefined ? {} : { lastCheckAt }),
    ...(lastResult === undefined ? {} : { lastResult: lastResult as AutoUpdateState['lastResult'] & string }),
    ...(error ? { lastError: error } : {}),
  };
}

/**
 * Reads the state; never throws. `problem` says why a file that exists was not used (the caller warns): the state
 * is then the empty one, as on a first run.
 */
export async function readAutoUpdateState(
  path: string,
): Promise<{ readonly state: AutoUpdateState; readonly problem?: string; readonly cause?: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: EMPTY_AUTO_UPDATE_STATE };
    return { state: EMPTY_AUTO_UPDATE_STATE, problem: `Could not read ${path}; starting over.`, cause: err };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { state: EMPTY_AUTO_UPDATE_STATE, problem: `${path} is damaged; starting over.`, cause: err };
  }
  const state = parseAutoUpdateState(parsed);
  return state
    ? { state }
    : { state: EMPTY_AUTO_UPDATE_STATE, problem: `${path} is not an auto-update state; starting over.` };
}

/** Writes the state atomically (creating its directory). Throws IO_ERROR (the caller only warns). */
export async function writeAutoUpdateState(path: string, state: AutoUpdateState): Promise<void> {
  await mkdir(dirname(path), { recursive: true }).catch(() => undefined); // the write reports the error
  await writeFileAtomic(
    path,
    `${JSON.stringify({ format: AUTO_UPDATE_STATE_FORMAT, ...state }, null, 2)}\n`,
    0o600,
  );
}
