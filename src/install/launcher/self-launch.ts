import { HANDOVER_FLAG } from '../handover/node-handover.js';
import { runHandover } from '../handover/run-handover.js';
import { runLauncher } from './run-launcher.js';

/** The first argument that starts a self-launching app as its own launcher (what its entry point passes). */
export const LAUNCHER_FLAG = '--notsotuf-launch';

/**
 * For apps with no Node beside them (single-executable apps, Electron, any binary that embeds notsotuf): call this
 * first thing at startup. When the entry point started this process as the launcher (`<exe> --notsotuf-launch
 * [flags] <root> -- args`), it runs the launcher (start the selected version, watch its trial, roll back) and
 * resolves to how to end: the app's exit code or signal, for {@link exitLike}. Started as the Windows update
 * hand-over helper (`<copy of exe> --notsotuf-handover <plan>`), it finishes that install and resolves to the
 * helper's exit code. Otherwise it resolves to undefined at once, and the app starts as usual. The entry point runs the executable of a version known to work (see
 * writeEntryPoint's `selfLaunch`), never the one on trial.
 *
 * @example
 * const outcome = await launcherMode();
 * if (outcome !== undefined) exitLike(outcome); // this process was only the launcher
 * // … the app itself
 */
export async function launcherMode(
  argv: readonly string[] = process.argv.slice(2),
): Promise<number | NodeJS.Signals | undefined> {
  if (argv[0] === HANDOVER_FLAG) return runHandover(argv[1] ?? '');
  if (argv[0] !== LAUNCHER_FLAG) return undefined;
  return runLauncher(argv.slice(1));
}
