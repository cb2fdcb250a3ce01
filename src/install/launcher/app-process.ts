/** Starting one app process for the launcher, and how it ended. */
import { type ChildProcess, spawn } from 'node:child_process';
import type { EntryCommand } from './entry-command.js';

/** How an app process ended. */
export interface AppExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when it could not be started at all (ENOENT, EACCES…). */
  readonly spawnError?: NodeJS.ErrnoException;
}

export interface StartAppOptions {
  readonly command: EntryCommand;
  readonly env: NodeJS.ProcessEnv;
  readonly stdio: 'inherit' | 'pipe';
  /** Errors after a successful start (a failed kill). */
  readonly onError: (err: Error) => void;
}

/**
 * Spawns the app. `exited` resolves (never rejects) once it exited, or could not be started. Not detached: the app
 * stays in the terminal's process group, so it can read the terminal and gets the terminal's Ctrl+C itself.
 */
export function startApp(options: StartAppOptions): { child: ChildProcess; exited: Promise<AppExit> } {
  const child = spawn(options.command.command, options.command.args, {
    env: options.env,
    stdio: options.stdio,
  });
  const exited = new Promise<AppExit>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      // Without a pid the process never started, and no 'exit' follows.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: err });
      else options.onError(err);
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited };
}

/** `code 3`, `signal SIGTERM` or `start failure ENOENT`, for the log. */
export function exitText(exit: AppExit): string {
  if (exit.spawnError) return `start failure ${exit.spawnError.code ?? exit.spawnError.message}`;
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
