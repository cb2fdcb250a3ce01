/**
 * Passes the launcher's stop signals on to the app it runs. While installed, the launcher's own default action
 * (exit at once) is replaced: it waits for the app to exit and reports the app's exit instead.
 *
 * A signal also marks the launch as stopped by the user, so the app dying of it is not taken for a crash, and the
 * launcher starts nothing more. From a terminal, Ctrl+C reaches the app both from the terminal (same process
 * group: the app is not detached, or it could not read the terminal) and through the launcher; apps see SIGINT
 * twice, as under npm or any other wrapper that forwards signals.
 */
import type { ChildProcess } from 'node:child_process';

export const DEFAULT_FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class SignalForwarder {
  /** The last signal received, if any: the user asked to stop. */
  stoppedBy: NodeJS.Signals | null = null;
  private child: ChildProcess | undefined;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor(
    private readonly signals: readonly NodeJS.Signals[],
    private readonly log: (line: string) => void,
  ) {}

  install(): void {
    for (const signal of this.signals) {
      const handler = () => {
        this.stoppedBy = signal;
        const child = this.child;
        if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          this.log(`received ${signal}; passing it on to the app (pid ${child.pid})`);
          child.kill(signal);
        } else {
          this.log(`received ${signal}; starting nothing more`);
        }
      };
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  uninstall(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
    this.child = undefined;
  }

  /** The process that receives forwarded signals from now on. */
  attach(child: ChildProcess | undefined): void {
    this.child = child;
  }
}
