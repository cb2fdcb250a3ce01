/**
 * Quit-and-restart for the versioned layout: the running app starts the entry point (a new launcher) detached,
 * then exits. The new launcher starts whichever version install.json selects — the new one right after an update —
 * with the arguments given, and watches its trial.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launcherExeSync } from '../versioned/launcher-pointer.js';
import { LAUNCHER_FLAG } from './self-launch.js';

export interface RelaunchOptions {
  /** The launcher script (default: this package's `notsotuf-launch`). */
  readonly launcherPath?: string;
  /** Default: the Node running now. */
  readonly nodePath?: string;
}

/**
 * Starts the entry point of `root` detached with `args`; returns its pid. The caller should exit right after. A
 * self-launching root (see writeEntryPoint's `selfLaunch`) is started through the executable its launcher-exe names.
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
  // A self-launching root (launcher-exe) starts through the app's own executable, as its entry point does.
  const selfLauncher = launcherExeSync(root);
  const [command, commandArgs] = selfLauncher
    ? [selfLauncher, [LAUNCHER_FLAG, root, '--', ...args]]
    : [
        options.nodePath ?? process.execPath,
        // Only here: a bundled self-launching app has no module URL to find the Node launcher by.
        [options.launcherPath ?? fileURLToPath(new URL('./main.js', import.meta.url)), root, '--', ...args],
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
