/**
 * The stable entry points an OS shortcut (desktop file, Start menu entry, symlink in PATH) runs. They never
 * change across updates: each runs `notsotuf-launch <root> -- <args>`, which starts the selected version.
 *
 * How an app is packaged for the versioned layout: each release is one directory, unpacked as
 * `<root>/versions/<version>/`, holding everything the app needs. `install.json`'s `entry` names the file to start,
 * relative to that directory and written with `/`:
 * - a native app ships an executable, e.g. `bin/my-app` (executable bit set) or `my-app.exe`;
 * - a Node app ships its scripts and names a `.js`, `.mjs` or `.cjs` entry, e.g. `app/main.mjs`: the launcher runs it
 *   with its own Node, so the release needs no shebang, executable bit or Node of its own;
 * - a shell script with a shebang and its executable bit set works as a native entry on POSIX.
 * The app reads `NOTSOTUF_INSTALL_ROOT` and `NOTSOTUF_VERSION` from its environment and calls markHealthy once it
 * has started properly; until then a new version is on trial and is rolled back if it crashes or hangs. Keep user
 * data in `<root>/data/` (or elsewhere), never in the version directory: old versions are deleted.
 */
import { chmod } from 'node:fs/promises';
import { posix, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotsotufError, validateAppName } from '../../core/index.js';
import { writeFileAtomic } from '../../util/durable-fs.js';
import { writeLauncherPointer } from '../versioned/launcher-pointer.js';
import { LAUNCHER_POINTER_FILE } from '../versioned/layout.js';
import { readInstallState } from '../versioned/state-file.js';
import { LAUNCHER_FLAG } from './self-launch.js';

export interface EntryPointOptions {
  /** Names the entry point file: `<root>/<appName>` (POSIX) or `<root>/<appName>.cmd` (Windows). */
  readonly appName: string;
  /** The launcher's `main.js`; default the compiled one beside this module (`dist/install/launcher/main.js`). */
  readonly launcherPath?: string;
  /** The Node that runs the launcher; default `process.execPath`. */
  readonly nodePath?: string;
  /** Which kind to write; default the host's (`win32` → `.cmd`, anything else → shell script). */
  readonly platform?: NodeJS.Platform;
  /**
   * For an app with no Node beside it (a single-executable app, Electron, any binary embedding notsotuf): the
   * entry point runs the app's own executable — of the newest version known to work, named by
   * `<root>/launcher-exe` — as its launcher (`<exe> --notsotuf-launch <root> -- args`), and the app calls
   * launcherMode() first thing. launcherPath and nodePath are then unused. Write it after the first install
   * (it needs install.json).
   */
  readonly selfLaunch?: boolean;
  /**
   * The trial policy the launcher enforces on a new version (its `--confirm-within` and `--max-launches`);
   * each omitted value keeps the launcher's default.
   */
  readonly trial?: TrialPolicyOptions;
  /**
   * The launcher's `--quiet`: it prints only errors (a confirmed version starts silently anyway; this also
   * silences the messages about trials and rollbacks, which stay in launcher.log).
   */
  readonly quiet?: boolean;
}

export interface TrialPolicyOptions {
  /** Seconds a new version has to call markHealthy before it is rolled back (a whole number ≥ 1). */
  readonly confirmWithinSeconds?: number;
  /** Launches a new version gets without confirming before it is rolled back (a whole number ≥ 1). */
  readonly maxLaunches?: number;
}

/** The launcher flags for a trial policy, checked: a bad value would make every start of the app fail. */
export function trialFlags(trial: TrialPolicyOptions | undefined): string[] {
  const flags: string[] = [];
  const add = (flag: string, value: number | undefined, field: string) => {
    if (value === undefined) return;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new NotsotufError(
        'INVALID_ARGUMENT',
        `trial.${field} must be a whole number ≥ 1, not ${value}.`,
        {
          hint: `Pass e.g. { ${field}: ${field === 'maxLaunches' ? 3 : 60} }.`,
        },
      );
    }
    flags.push(flag, String(value));
  };
  add('--confirm-within', trial?.confirmWithinSeconds, 'confirmWithinSeconds');
  add('--max-launches', trial?.maxLaunches, 'maxLaunches');
  return flags;
}

/** The launcher flags an entry point passes: the trial policy (checked, see trialFlags), then `--quiet`. */
export function launcherFlags(options: Pick<EntryPointOptions, 'trial' | 'quiet'>): string[] {
  return [...trialFlags(options.trial), ...(options.quiet ? ['--quiet'] : [])];
}

/** A POSIX shell single-quoted word: nothing inside is special, and a quote is closed, escaped and reopened. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw unsafe(value, 'a NUL character');
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A double-quoted word in a .cmd file. Inside quotes cmd.exe takes `&|<>^` literally, but still expands `%`
 * (doubled to stay literal); a quote or a line break cannot be escaped, and cannot be part of a Windows path anyway.
 */
export function cmdQuote(value: string): string {
  if (/["\r\n\0]/.test(value)) throw unsafe(value, 'a quote, line break or NUL character');
  return `"${value.replaceAll('%', '%%')}"`;
}

/** The POSIX entry script: `exec` so the launcher replaces the shell and receives the signals itself. */
export function posixEntryScript(
  root: string,
  launcherPath: string,
  nodePath: string,
  flags: readonly string[] = [],
): string {
  const words = [nodePath, launcherPath, ...flags, root].map(shellQuote).join(' ');
  return [
    '#!/bin/sh',
    '# Stable entry point written by notsotuf: starts the selected version through notsotuf-launch.',
    `exec ${words} -- "$@"`,
    '',
  ].join('\n');
}

/** The Windows entry script (CRLF, as cmd.exe expects); `%*` passes the arguments on as typed. */
export function windowsEntryScript(
  root: string,
  launcherPath: string,
  nodePath: string,
  flags: readonly string[] = [],
): string {
  const words = [nodePath, launcherPath, ...flags, root].map(cmdQuote).join(' ');
  return [
    '@echo off',
    'rem Stable entry point written by notsotuf: starts the selected version through notsotuf-launch.',
    'setlocal DisableDelayedExpansion',
    `${words} -- %*`,
    'exit /b %ERRORLEVEL%',
    '',
  ].join('\r\n');
}

/** The POSIX entry script of a self-launching app: reads the pointer, then `exec`s that executable as launcher. */
export function posixSelfLaunchScript(root: string, flags: readonly string[] = []): string {
  const after = [LAUNCHER_FLAG, ...flags].map(shellQuote).join(' ');
  return [
    '#!/bin/sh',
    "# Stable entry point written by notsotuf: runs the app's own executable (of a version known to work) as",
    '# its launcher, which starts the selected version.',
    `root=${shellQuote(root)}`,
    `exe=$(cat "$root/${LAUNCHER_POINTER_FILE}") || exit 70`,
    'case "$exe" in versions/*) ;; *) echo "notsotuf: $root/launcher-exe is damaged; reinstall the app" >&2; exit 70 ;; esac',
    `exec "$root/$exe" ${after} "$root" -- "$@"`,
    '',
  ].join('\n');
}

/** The Windows entry script of a self-launching app (CRLF); `%exe:/=\%` turns the pointer's `/` into `\`. */
export function windowsSelfLaunchScript(root: string, flags: readonly string[] = []): string {
  const after = [LAUNCHER_FLAG, ...flags].map(cmdQuote).join(' ');
  return [
    '@echo off',
    "rem Stable entry point written by notsotuf: runs the app's own executable (of a version known to work) as",
    'rem its launcher, which starts the selected version.',
    'setlocal DisableDelayedExpansion',
    `set "root=${cmdQuote(root).slice(1, -1)}"`,
    'set "exe="',
    `set /p exe=<"%root%\\${LAUNCHER_POINTER_FILE}"`,
    'if not defined exe exit /b 70',
    `"%root%\\%exe:/=\\%" ${after} "%root%" -- %*`,
    'exit /b %ERRORLEVEL%',
    '',
  ].join('\r\n');
}

/** What {@link writeEntryPoint} writes: the file, its text and its mode. */
export interface EntryPoint {
  readonly kind: 'posix' | 'windows';
  readonly path: string;
  readonly text: string;
  readonly mode: number;
}

/**
 * The entry point of `root`, computed without I/O. Paths are made absolute (with the target platform's rules, so a
 * Windows entry point can be planned and checked anywhere), so the entry point works from any working directory.
 *
 * @throws NotsotufError APP_NAME_INVALID; INVALID_ARGUMENT for a path a script cannot hold.
 */
export function planEntryPoint(root: string, options: EntryPointOptions): EntryPoint {
  const appName = validateAppName(options.appName);
  const windows = (options.platform ?? process.platform) === 'win32';
  const { join, resolve } = windows ? win32 : posix;
  const absRoot = resolve(root);
  const flags = launcherFlags(options);
  // A self-launching app (often a bundle with no module URL of its own) never needs the Node launcher's path.
  if (options.selfLaunch) {
    return windows
      ? {
          kind: 'windows',
          path: join(absRoot, `${appName}.cmd`),
          text: windowsSelfLaunchScript(absRoot, flags),
          mode: 0o644,
        }
      : {
          kind: 'posix',
          path: join(absRoot, appName),
          text: posixSelfLaunchScript(absRoot, flags),
          mode: 0o755,
        };
  }
  const launcherPath = resolve(options.launcherPath ?? fileURLToPath(new URL('./main.js', import.meta.url)));
  const nodePath = resolve(options.nodePath ?? process.execPath);
  return windows
    ? {
        kind: 'windows',
        path: join(absRoot, `${appName}.cmd`),
        text: windowsEntryScript(absRoot, launcherPath, nodePath, flags),
        mode: 0o644,
      }
    : {
        kind: 'posix',
        path: join(absRoot, appName),
        text: posixEntryScript(absRoot, launcherPath, nodePath, flags),
        mode: 0o755,
      };
}

/**
 * Writes the entry point of `root` (as `planEntryPoint` plans it) atomically, a POSIX script with mode 0755,
 * and returns what it wrote.
 *
 * @example
 * await writeEntryPoint('/opt/my-app', { appName: 'my-app' }); // then link /usr/local/bin/my-app → /opt/my-app/my-app
 * // A stricter trial: a new version must confirm within 30 s, and gets one launch to do it.
 * await writeEntryPoint('/opt/my-app', { appName: 'my-app', trial: { confirmWithinSeconds: 30, maxLaunches: 1 } });
 * @throws NotsotufError APP_NAME_INVALID; INVALID_ARGUMENT for a path a script cannot hold; IO_ERROR.
 */
export async function writeEntryPoint(root: string, options: EntryPointOptions): Promise<EntryPoint> {
  const entry = planEntryPoint(root, options);
  if (options.selfLaunch) {
    const state = await readInstallState(root);
    if (!state) {
      throw new NotsotufError('INVALID_ARGUMENT', `${root} has no install.json yet.`, {
        hint: 'Install the first version (versionedStrategy) before writing a self-launching entry point.',
      });
    }
    await writeLauncherPointer(root, state);
  }
  await writeFileAtomic(entry.path, entry.text, entry.mode);
  // The temp file was created through the umask; the entry point must be executable whatever it is.
  await chmod(entry.path, entry.mode).catch((err: unknown) => {
    throw new NotsotufError('IO_ERROR', `Could not set the mode of ${entry.path}.`, {
      path: entry.path,
      cause: err,
    });
  });
  return entry;
}

function unsafe(value: string, what: string): NotsotufError {
  return new NotsotufError('INVALID_ARGUMENT', `The path ${JSON.stringify(value)} holds ${what}.`, {
    hint: 'Install the app under a path without such characters.',
  });
}
