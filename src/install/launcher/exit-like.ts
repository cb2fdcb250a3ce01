import { constants } from 'node:os';

/**
 * Ends this process the way a launched app ended: with its exit code, or by the same signal, so a shell or service
 * manager sees what really happened. For a program's top level (notsotuf-launch, or an app in launcher mode),
 * never for library code.
 *
 * @example
 * const outcome = await launcherMode();
 * if (outcome !== undefined) exitLike(outcome);
 */
export function exitLike(outcome: number | NodeJS.Signals): void {
  if (typeof outcome === 'number') process.exit(outcome);
  // launchApp has removed its handlers, so the default action applies; exit 128+n if the signal is ignored here.
  process.kill(process.pid, outcome);
  setTimeout(() => process.exit(128 + (constants.signals[outcome] ?? 0)), 100);
}
