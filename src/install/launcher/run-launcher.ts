/**
 * What `notsotuf-launch` does, as a function (see main.ts): the stable entry point of a versioned install. Starts
 * the selected version (see `launch.ts`), rolls back a version on trial that fails, and reports how the app ended.
 * Launcher decisions go to stderr, prefixed `[notsotuf-launch]`, and to `<root>/launcher.log` (best effort: a
 * read-only root only loses the log).
 */
import { appendFile, rename, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isNotsotufError } from '../../core/index.js';
import { launchApp } from './launch.js';

const USAGE =
  'usage: notsotuf-launch [--confirm-within <seconds>] [--max-launches <n>] <install-root> [-- app arguments...]';
const EXIT_USAGE = 64;
const EXIT_NOT_STARTED = 70;
const PREFIX = '[notsotuf-launch]';
/** launcher.log is moved to launcher.log.1 past this size, so a long-lived install keeps at most two. */
const LOG_MAX_BYTES = 1024 * 1024;

/** Trial limits given on the command line (default: DEFAULT_TRIAL_POLICY). */
type PolicyFlags = { confirmWithinMs?: number; maxLaunches?: number };

function parse(argv: readonly string[]): { root: string; args: string[]; policy: PolicyFlags } | string {
  const policy: PolicyFlags = {};
  let rest = [...argv];
  // Flags before the root: --confirm-within <seconds>, --max-launches <n>.
  while (rest[0] === '--confirm-within' || rest[0] === '--max-launches') {
    const [flag, value] = rest;
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || n < 1)
      return `${flag} needs a whole number ≥ 1\n${USAGE}`;
    if (flag === '--confirm-within') policy.confirmWithinMs = n * 1000;
    else policy.maxLaunches = n;
    rest = rest.slice(2);
  }
  const [root, ...after] = rest;
  if (root === undefined || root === '' || root === '-h' || root === '--help') return USAGE;
  if (after.length > 0 && after[0] !== '--')
    return `unexpected ${JSON.stringify(after[0])} before "--"\n${USAGE}`;
  return { root: resolve(root), args: after.slice(1), policy };
}

/** Appends lines to launcher.log in order; `flush` waits for the ones written so far. */
function fileLog(path: string): { write: (line: string) => void; flush: () => Promise<void> } {
  let chain: Promise<void> = stat(path)
    .then((s) => (s.size > LOG_MAX_BYTES ? rename(path, `${path}.1`) : undefined))
    .catch(() => undefined);
  let warned = false;
  return {
    write(line) {
      chain = chain
        .then(() => appendFile(path, `${new Date().toISOString()} [pid ${process.pid}] ${line}\n`))
        .catch((err: NodeJS.ErrnoException) => {
          // ENOENT: the root itself is missing, which the launcher's error already says.
          if (warned || err.code === 'ENOENT') return;
          warned = true;
          process.stderr.write(`${PREFIX} could not write ${path}: ${(err as Error).message}\n`);
        });
    },
    flush: () => chain,
  };
}

/**
 * The launcher as a library call: parses `argv` (`[--confirm-within s] [--max-launches n] <root> [-- args…]`),
 * starts the selected version and resolves to how the launcher should end: the app's exit code, the signal it
 * died of (end the same way), 64 for bad usage or 70 when no app could be started. Never exits the process:
 * `notsotuf-launch` and {@link launcherMode} do what the result says.
 */
export async function runLauncher(argv: readonly string[]): Promise<number | NodeJS.Signals> {
  const parsed = parse(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed}\n`);
    return EXIT_USAGE;
  }
  const file = fileLog(join(parsed.root, 'launcher.log'));
  const log = (line: string) => {
    process.stderr.write(`${PREFIX} ${line}\n`);
    file.write(line);
  };
  try {
    const result = await launchApp({
      root: parsed.root,
      args: parsed.args,
      policy: parsed.policy,
      onLog: log,
    });
    return result.signal ?? result.exitCode ?? 1;
  } catch (err) {
    if (isNotsotufError(err)) {
      log(`error ${err.code}: ${err.message}`);
      if (err.hint) log(`hint: ${err.hint}`);
    } else log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT_NOT_STARTED;
  } finally {
    await file.flush();
  }
}
