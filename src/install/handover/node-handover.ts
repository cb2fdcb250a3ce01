/**
 * Writes a hand-over that runs on the app's own runtime: a plan file for {@link runHandover}, and the command that
 * starts the helper process. No PowerShell or robocopy is needed, so it works wherever Node runs (and can be
 * tested under Wine). Which runtime runs the helper:
 * - a Node app (`node app.js`): the same node executable, running notsotuf's `handover/main.js`;
 * - a single-executable app (or one that says `selfLaunch`): the app's own executable with `--notsotuf-handover`,
 *   which {@link launcherMode} (called first thing at startup, as self-launching apps already do) turns into the
 *   helper instead of the app.
 * An executable that lies inside the install directory is copied out first: the install must be free to replace
 * it while the helper runs.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotsotufError } from '../../core/errors.js';
import { writeFileAtomic } from '../../util/durable-fs.js';
import type { Handover } from '../strategy.js';
import { checkHandoverPlan, HANDOVER_PLAN_FORMAT, type HandoverPlan } from './plan.js';

/** The argument that makes a self-launching app run the hand-over helper (see {@link launcherMode}). */
export const HANDOVER_FLAG = '--notsotuf-handover';

/** The command that starts the helper, to which the plan's path is appended. */
export interface HelperCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export interface NodeHandoverOptions extends Omit<HandoverPlan, 'format'> {
  /** The directory for the plan (and, unless the plan says otherwise, the log); outside the install dir. */
  readonly dir: string;
  /** Start the app's own executable with `--notsotuf-handover`; default: true for a single-executable app. */
  readonly selfLaunch?: boolean;
  /** Overrides the helper command entirely (e.g. a custom runtime); the plan path is appended. */
  readonly helper?: HelperCommand;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function isSingleExecutable(): boolean {
  const sea = process.getBuiltinModule?.('node:sea') as { isSea?: () => boolean } | undefined;
  return sea?.isSea?.() === true;
}

/** `handover/main.js` beside this module (present in the built package). */
function helperMain(): string {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  if (!existsSync(main)) {
    throw new NotsotufError('INSTALL_FAILED', `The hand-over helper ${main} is missing.`, {
      path: main,
      hint: 'A bundled app that is not a single-executable app must pass handover.selfLaunch (and call launcherMode() at startup) or handover.helper.',
    });
  }
  return main;
}

/** The helper command for this process, copying its executable out of the install dir when it lies inside. */
async function helperCommand(options: NodeHandoverOptions): Promise<HelperCommand> {
  if (options.helper) return options.helper;
  let runtime = process.execPath;
  if (isInside(options.installDir, runtime)) {
    const copy = join(options.dir, basename(runtime));
    await copyFile(runtime, copy);
    runtime = copy;
  }
  if (options.selfLaunch ?? isSingleExecutable()) {
    // A single-executable app is its own script; any other self-launching app runs its entry script again.
    const script = isSingleExecutable() ? [] : process.argv.slice(1, 2);
    return { command: runtime, args: [...script, HANDOVER_FLAG] };
  }
  return { command: runtime, args: [helperMain()] };
}

/**
 * Writes the plan into `options.dir` and returns the {@link Handover}; `start()` launches the helper detached and
 * the app should exit right after.
 * @throws NotsotufError INVALID_ARGUMENT for a bad plan, INSTALL_FAILED when the helper cannot be prepared;
 *   `start()` throws INSTALL_FAILED when it cannot be started.
 */
export async function writeNodeHandover(options: NodeHandoverOptions): Promise<Handover> {
  const { dir, selfLaunch: _self, helper: _helper, ...fields } = options;
  const plan = checkHandoverPlan({ format: HANDOVER_PLAN_FORMAT, ...fields });
  const planPath = join(dir, 'notsotuf-handover.json');
  const helper = await helperCommand(options).catch((err: unknown) => {
    throw err instanceof NotsotufError
      ? err
      : new NotsotufError('INSTALL_FAILED', 'Could not prepare the hand-over helper.', {
          cause: err,
          path: dir,
          hint: 'Check that the temp directory is writable and the disk is not full, then install the update again.',
        });
  });
  await writeFileAtomic(planPath, `${JSON.stringify(plan, null, 2)}\n`, 0o600);
  return {
    scriptPath: planPath,
    logFile: plan.logFile,
    start: () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(helper.command, [...helper.args, planPath], {
          detached: true,
          windowsHide: true,
          stdio: 'ignore',
        });
        child.once('error', (err) =>
          reject(
            new NotsotufError('INSTALL_FAILED', `Could not start the hand-over helper ${helper.command}.`, {
              cause: err,
              path: helper.command,
              hint: 'Check that the app may start programs from the temp directory, then install the update again.',
            }),
          ),
        );
        child.once('spawn', () => {
          child.unref();
          resolve();
        });
      }),
  };
}
