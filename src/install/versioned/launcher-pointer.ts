/**
 * The launcher pointer of a self-launching app (one that embeds notsotuf and has no Node beside it: a Node
 * single-executable application, an Electron app, any binary). Its entry point cannot run `notsotuf-launch` with a
 * system Node, so it runs the app's own executable in launcher mode (`<exe> --notsotuf-launch <root> -- args`).
 * Which executable must not be the version on trial: a release that crashes at start would take the launcher down
 * with it and nothing would roll it back. So `<root>/launcher-exe` names the newest version known to work: the
 * current one, or while one is on trial the previous one. It is derived from install.json and rewritten after
 * every state change (only for roots that have it: writeEntryPoint({ selfLaunch }) creates it), and cleanup keeps
 * the version it names.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotsotufError } from '../../core/index.js';
import { writeFileAtomic } from '../../util/durable-fs.js';
import {
  type InstallState,
  isEntryPath,
  isVersionDirName,
  LAUNCHER_POINTER_FILE,
  VERSIONS_DIR,
} from './layout.js';

export function launcherPointerPath(root: string): string {
  return join(root, LAUNCHER_POINTER_FILE);
}

/** The version whose executable launches: the one on trial never, its predecessor instead. No I/O. */
export function launcherVersion(state: InstallState): string {
  return state.trial !== null && state.previous !== null ? state.previous : state.current;
}

/** The pointer file's text: `versions/<version>/<entry>` (posix separators) and a newline. No I/O. */
export function launcherPointerText(state: InstallState): string {
  return `${VERSIONS_DIR}/${launcherVersion(state)}/${state.entry}\n`;
}

/** The version a pointer file names, when it names one in the expected form (else undefined). No I/O. */
export function pointerVersion(text: string): string | undefined {
  const match = /^versions\/([^/\n]+)\/([^\n]+)\n?$/.exec(text);
  return match && isVersionDirName(match[1]!) && isEntryPath(match[2]!) ? match[1] : undefined;
}

/** Writes the pointer for `state` (atomically). */
export async function writeLauncherPointer(root: string, state: InstallState): Promise<void> {
  const path = launcherPointerPath(root);
  try {
    await writeFileAtomic(path, launcherPointerText(state));
  } catch (err) {
    throw new NotsotufError('IO_ERROR', `Could not write ${path}.`, {
      path,
      cause: err,
      hint: 'Check that the install root is writable and the disk is not full.',
    });
  }
}

/** The version the root's pointer names; undefined without a pointer (not a self-launching root) or a bad one. */
export async function readPointerVersion(root: string): Promise<string | undefined> {
  const text = await readFile(launcherPointerPath(root), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : pointerVersion(text);
}

/**
 * After a state change: rewrites the pointer of a self-launching root when it no longer matches. A root without
 * a pointer is left alone. Failing is a warning: the old pointer still names a working version that cleanup keeps.
 */
export async function refreshLauncherPointer(
  root: string,
  state: InstallState,
  onWarning?: (message: string, cause?: unknown) => void,
): Promise<void> {
  const current = await readFile(launcherPointerPath(root), 'utf8').catch(() => undefined);
  if (current === undefined || current === launcherPointerText(state)) return;
  await writeLauncherPointer(root, state).catch((err: unknown) =>
    onWarning?.(
      `Could not update ${launcherPointerPath(root)}; it still names an older working version.`,
      err,
    ),
  );
}

/**
 * The absolute path of the executable a self-launching root's pointer names, read synchronously (for a restart
 * right before the process exits); undefined for a root without a valid pointer.
 */
export function launcherExeSync(root: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(launcherPointerPath(root), 'utf8');
  } catch {
    return undefined;
  }
  return pointerVersion(text) === undefined ? undefined : join(root, ...text.trim().split('/'));
}
