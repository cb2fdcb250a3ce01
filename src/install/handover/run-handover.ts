/**
 * The hand-over helper: a separate process that finishes an in-place install once the app has quit (on Windows a
 * running executable or loaded DLL cannot be replaced). It runs notsotuf's own journaled in-place install — the
 * one every platform uses, where each change is a rename that is undone on failure — so the app is never left
 * half-replaced:
 * 1. waits for the app's process to exit (exit code 3, nothing changed, when it does not within the timeout);
 * 2. installs the release; a file another process still holds (an antivirus scan, an indexer, a straggling child
 *    of the app) fails the try, which is rolled back and tried again after a pause;
 * 3. restarts the app with `NOTSOTUF_HANDOVER_RESULT` = `installed` or `failed` and `NOTSOTUF_HANDOVER_LOG`, so it
 *    need not retry a failing update in a loop.
 * Every step is logged to the plan's log file. Exit codes: {@link HANDOVER_EXIT}.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotsotufError } from '../../core/errors.js';
import { processAlive } from '../../util/process-alive.js';
import { installInPlaceNow } from '../in-place.js';
import { checkHandoverPlan, HANDOVER_EXIT, type HandoverPlan } from './plan.js';

/** Errors that mean "someone else holds this file right now", worth another try once they let go. */
const LOCKED = new Set(['EBUSY', 'EPERM', 'EACCES', 'ENOTEMPTY']);

type Log = (message: string) => void;

function fileLog(path: string): Log {
  return (message) => {
    try {
      appendFileSync(path, `${new Date().toISOString()} ${message}\n`);
    } catch {
      // The log is for support; a failing log must not stop the install.
    }
  };
}

async function waitForExit(pid: number, timeoutSeconds: number, log: Log): Promise<boolean> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let nextLog = Date.now();
  while (processAlive(pid)) {
    if (Date.now() >= deadline) return false;
    if (Date.now() >= nextLog) {
      log(`waiting for process ${pid} to exit`);
      nextLog = Date.now() + 5000;
    }
    await sleep(100);
  }
  return true;
}

/** The errno code somewhere in the cause chain of an install failure. */
function errnoOf(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E') && !(e instanceof NotsotufError)) return code;
  }
  return undefined;
}

function rollbackFailed(err: unknown): boolean {
  const failures = err instanceof NotsotufError ? err.details['rollbackFailures'] : undefined;
  return Array.isArray(failures) && failures.length > 0;
}

/** Installs with retries; returns the exit code. */
async function install(plan: HandoverPlan, log: Log): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await installInPlaceNow(
        {
          sourceDir: plan.sourceDir,
          installDir: plan.installDir,
          version: plan.version,
          onStep: (s) => log(`step ${s.index}/${s.total}: ${s.title}`),
          onWarning: (message, cause) => log(`WARNING: ${message}${cause ? ` (${String(cause)})` : ''}`),
        },
        plan.purge,
        plan.exclude,
      );
      return HANDOVER_EXIT.installed;
    } catch (err) {
      const code = errnoOf(err);
      const message = err instanceof Error ? err.message : String(err);
      if (rollbackFailed(err)) {
        log(`ERROR: ${message}`);
        if (err instanceof NotsotufError && err.hint) log(`  ${err.hint}`);
        return HANDOVER_EXIT.rollbackFailed;
      }
      if (code !== undefined && LOCKED.has(code) && attempt < plan.retryCount) {
        log(
          `try ${attempt} failed and was undone (${code}: a file is in use); trying again in ${plan.retryWaitSeconds} s`,
        );
        await sleep(plan.retryWaitSeconds * 1000);
        continue;
      }
      log(`ERROR: ${message}`);
      log('the previous version is in place; install the update again later');
      return HANDOVER_EXIT.rolledBack;
    }
  }
}

/** Starts the app again, detached; resolves once it started or failed to. */
function restart(plan: HandoverPlan, result: 'installed' | 'failed', log: Log): Promise<void> {
  const command = plan.restart;
  if (!command) return Promise.resolve();
  return new Promise((resolve) => {
    const child = spawn(command.command, [...command.args], {
      ...(command.cwd ? { cwd: command.cwd } : {}),
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, NOTSOTUF_HANDOVER_RESULT: result, NOTSOTUF_HANDOVER_LOG: plan.logFile },
    });
    child.once('error', (err) => {
      log(`WARNING: could not restart the app (${err.message})`);
      resolve();
    });
    child.once('spawn', () => {
      child.unref();
      log(`restarted ${command.command}`);
      resolve();
    });
  });
}

/**
 * Runs the hand-over described by the plan file; resolves to the exit code. Never throws: a helper has nobody to
 * throw to, so every failure ends in the log (and, for an unreadable plan, on stderr).
 */
export async function runHandover(planPath: string): Promise<number> {
  let plan: HandoverPlan;
  try {
    plan = checkHandoverPlan(JSON.parse(await readFile(planPath, 'utf8')));
  } catch (err) {
    const message = `notsotuf hand-over: cannot read the plan ${planPath}: ${err instanceof Error ? err.message : String(err)}`;
    fileLog(`${planPath}.log`)(message);
    process.stderr.write(`${message}\n`);
    return HANDOVER_EXIT.badPlan;
  }
  const log = fileLog(plan.logFile);
  log(
    `notsotuf hand-over: version ${plan.version} from ${plan.sourceDir} into ${plan.installDir} (purge ${plan.purge})`,
  );
  if (!(await waitForExit(plan.pid, plan.waitTimeoutSeconds, log))) {
    log(
      `ERROR: process ${plan.pid} still runs after ${plan.waitTimeoutSeconds} s; nothing was changed. Quit the app, then install the update again.`,
    );
    return HANDOVER_EXIT.appStillRunning;
  }
  const code = await install(plan, log);
  if (code <= HANDOVER_EXIT.rolledBack) await restart(plan, code === 0 ? 'installed' : 'failed', log);
  log(`finished with exit code ${code}`);
  return code;
}
