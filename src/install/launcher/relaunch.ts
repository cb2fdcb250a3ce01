/**
 * Quit-and-restart for the versioned layout: the running app starts the entry point (a new launcher) detached,
 * then exits. The new launcher starts whichever version install.json selects — the new one right after an update —
 * with the arguments given, and watches its trial. It is started exactly as the root's entry point starts it: the
 * same launcher flags (trial limits, `--quiet`) and, for a Node entry point, the same Node and launcher script,
 * read back from the entry point (see entry-point-read.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launcherExeSync } from '../versioned/launcher-pointer.js';
import { findEntryPointSync } from './entry-point-read.js';
import { LAUNCHER_FLAG } from './self-launch.js';

export interface RelaunchOptions {
  /** The launcher script (default: the entry point's, else this package's `notsotuf-launch`). */
  readonly launcherPath?: string;
  /** Default: the entry point's Node, else the Node running now. */
  readonly nodePath?: string;
  /**
   * The launcher flags (`--confirm-within`, `--max-launches`, `--quiet`). Default: those of the root's entry point
   * (found as findEntryPointSync finds it, through `entryPoint` and `appName`), or none when the root has none.
   */
  readonly flags?: readonly string[];
  /** The entry point users start, when the caller knows it (a file writeEntryPoint wrote). */
  readonly entryPoint?: string;
  /** The name the entry point was written with (`writeEntryPoint`'s appName): looked at first. */
  readonly appName?: string;
}

/**
 * Starts the entry point of `root` detached with `args`; returns its pid. The caller should exit right after. A
 * self-launching root (see writeEntryPoint's `selfLaunch`) is started through the executable its launcher-exe names.
 *
 * @throws NotsotufError INVALID_ARGUMENT when the root's entry point cannot be read back (see findEntryPointSync).
 */
export function relaunch(
  root: string,
  args: readonly string[],
  options: RelaunchOptions = {},
): number | undefined {
  const env = { ...process.env };
  // The new launcher sets these for the version it starts; stale values from this process must not leak.
  delete env['NOTSOTUF_INSTALL_ROOT'];
  delete env['NOTSOTUF_VERSION'];
  // Everything the caller does not say comes from the entry point, as the user's next start would use it.
  const entry =
    options.flags === undefined || options.nodePath === undefined || options.launcherPath === undefined
      ? findEntryPointSync(root, {
          ...(options.entryPoint === undefined ? {} : { entryPoint: options.entryPoint }),
          ...(options.appName === undefined ? {} : { appName: options.appName }),
        })?.command
      : undefined;
  const flags = options.flags ?? entry?.flags ?? [];
  // A self-launching root (launcher-exe) starts through the app's own executable, as its entry point does.
  const selfLauncher = launcherExeSync(root);
  const [command, commandArgs] = selfLauncher
    ? [selfLauncher, [LAUNCHER_FLAG, ...flags, root, '--', ...args]]
    : [
        options.nodePath ?? (entry?.kind === 'node' ? entry.nodePath : process.execPath),
        [
          options.launcherPath ??
            (entry?.kind === 'node'
              ? entry.launcherPath
              : // Only here: a bundled self-launching app has no module URL to find the Node launcher by.
                fileURLToPath(new URL('./main.js', import.meta.url))),
          ...flags,
          root,
          '--',
          ...args,
        ],
      ];
  const child = spawn(command, commandArgs, {
    detached: true,
    stdio: 'inherit',
    env,
    windowsHide: false,
  });
  child.unref();
  return child.pid;
}
