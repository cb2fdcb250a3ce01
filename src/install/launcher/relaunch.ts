/**
 * Quit-and-restart for the versioned layout: the running app starts the entry point (a new launcher) detached,
 * then exits. The new launcher starts whichever version install.json selects — the new one right after an update —
 * with the arguments given, and watches its trial.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RelaunchOptions {
  /** The launcher script (default: this package's `notsotuf-launch`). */
  readonly launcherPath?: string;
  /** Default: the Node running now. */
  readonly nodePath?: string;
}

/** Starts the entry point of `root` detached with `args`; returns its pid. The caller should exit right after. */
export function relaunch(
  root: string,
  args: readonly string[],
  options: RelaunchOptions = {},
): number | undefined {
  const launcher = options.launcherPath ?? fileURLToPath(new URL('./main.js', import.meta.url));
  const env = { ...process.env };
  // The new launcher sets these for the version it starts; stale values from this process must not leak.
  delete env['NOTSOTUF_INSTALL_ROOT'];
  delete env['NOTSOTUF_VERSION'];
  const child = spawn(options.nodePath ?? process.execPath, [launcher, root, '--', ...args], {
    detached: true,
    stdio: 'inherit',
    env,
    windowsHide: false,
  });
  child.unref();
  return child.pid;
}
