/**
 * What `notsotuf-launch` does, as a function (see main.ts): the stable entry point of a versioned install. Starts
 * the selected version (see `launch.ts`), rolls back a version on trial that fails, and reports how the app ended.
 * Launcher decisions go to `<root>/launcher.log` (best effort: a read-only root only loses the log), and those the
 * user should see (trials, rollbacks, errors; errors only with `--quiet`) to stderr, prefixed `[notsotuf-launch]`.
 */
import { appendFile, rename, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isNotsotufError } from '../../core/index.js';
import { type LaunchLogLevel, launchApp } from './launch.js';

const USAGE_LINE =
  'usage: notsotuf-launch [--confirm-within <seconds>] [--max-launches <n>] [--quiet] <install-root> ' +
  '[-- app arguments...]';
const HELP = `${USAGE_LINE}

Starts the version of the app that <install-root>/install.json selects, with the app arguments after "--".
A version on trial (just installed, not yet confirmed by the app) is watched: if it crashes or does not confirm in
time, the previous version is selected again and started with the same arguments.

options:
  --confirm-within <seconds>  how long each launch of a version on trial has to confirm it works (default 60)
  --max-launches <n>          launches a version on trial gets to confirm it works (default 3)
  --quiet, -q                 print only errors (trials and rollbacks are still written to launcher.log)
  --help, -h                  print this help and exit

A confirmed version starts silently. Trials, rollbacks and errors are printed on stderr, prefixed
[notsotuf-launch]; every decision is appended to <install-root>/launcher.log.
Exit status: the app's (or the launcher ends by the app's signal); 64 for bad usage; 70 when no app could be
started.
`;
const EXIT_USAGE = 64;
const EXIT_NOT_STARTED = 70;
const PREFIX = '[notsotuf-launch]';
/** launcher.log is moved to launcher.log.1 past this size, so a long-lived install keeps at most two. */
const LOG_MAX_BYTES = 1024 * 1024;

/** Trial limits given on the command line (default: DEFAULT_TRIAL_POLICY). */
type PolicyFlags = { confirmWithinMs?: number; maxLaunches?: number };

/** The launcher's command line, parsed. */
export type LauncherArgs =
  | {
      readonly kind: 'run';
      readonly root: string;
      readonly args: string[];
      readonly policy: PolicyFlags;
      /** `--quiet`: only errors on stderr. */
      readonly quiet: boolean;
    }
  | { readonly kind: 'help' }
  /** Bad usage: `message` says what is wrong, followed by the usage line. */
  | { readonly kind: 'usage'; readonly message: string };

/** The options `notsotuf-launch` takes before the install root (those that take a value, and those that do not). */
const VALUE_FLAGS = new Set(['--confirm-within', '--max-launches']);
const SWITCHES = new Set(['--quiet', '-q', '--help', '-h']);

/**
 * Parses the launcher's arguments: `[--confirm-within s] [--max-launches n] [--quiet] <root> [-- args…]`, or
 * `--help`. Pure (the root is made absolute against the working directory).
 */
export function parseLauncherArgs(argv: readonly string[]): LauncherArgs {
  const policy: PolicyFlags = {};
  let quiet = false;
  let help = false;
  let rest = [...argv];
  // Options before the root.
  while (rest[0] !== undefined && (VALUE_FLAGS.has(rest[0]) || SWITCHES.has(rest[0]))) {
    const flag = rest[0];
    if (flag === '--help' || flag === '-h') help = true;
    if (flag === '--quiet' || flag === '-q') quiet = true;
    if (!VALUE_FLAGS.has(flag)) {
      rest = rest.slice(1);
      continue;
    }
    const value = rest[1];
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || n < 1)
      return { kind: 'usage', message: `${flag} needs a whole number ≥ 1\n${USAGE_LINE}` };
    if (flag === '--confirm-within') policy.confirmWithinMs = n * 1000;
    else policy.maxLaunches = n;
    rest = rest.slice(2);
  }
  if (help) return { kind: 'help' };
  const [root, ...after] = rest;
  if (root === undefined || root === '') return { kind: 'usage', message: USAGE_LINE };
  if (root.startsWith('-')) {
    return { kind: 'usage', message: `unknown option ${JSON.stringify(root)}\n${USAGE_LINE}` };
  }
  if (after.length > 0 && after[0] !== '--')
    return { kind: 'usage', message: `unexpected ${JSON.stringify(after[0])} before "--"\n${USAGE_LINE}` };
  return { kind: 'run', root: resolve(root), args: after.slice(1), policy, quiet };
}

/**
 * Appends lines to launcher.log in order; `flush` waits for the ones written so far. A failed write is reported on
 * stderr (once) only for a line that was shown there too: a confirmed version in a root the user cannot write (a
 * system-wide install) starts without a word.
 */
function fileLog(path: string): {
  write: (line: string, shown: boolean) => void;
  flush: () => Promise<void>;
} {
  let chain: Promise<void> = stat(path)
    .then((s) => (s.size > LOG_MAX_BYTES ? rename(path, `${path}.1`) : undefined))
    .catch(() => undefined);
  let warned = false;
  return {
    write(line, shown) {
      chain = chain
        .then(() => appendFile(path, `${new Date().toISOString()} [pid ${process.pid}] ${line}\n`))
        .catch((err: NodeJS.ErrnoException) => {
          // ENOENT: the root itself is missing, which the launcher's error already says.
          if (!shown || warned || err.code === 'ENOENT') return;
          warned = true;
          process.stderr.write(`${PREFIX} could not write ${path}: ${(err as Error).message}\n`);
        });
    },
    flush: () => chain,
  };
}

/**
 * The launcher as a library call: parses `argv` (`[--confirm-within s] [--max-launches n] [--quiet] <root>
 * [-- args…]`, or `--help`), starts the selected version and resolves to how the launcher should end: the app's
 * exit code, the signal it died of (end the same way), 0 after `--help`, 64 for bad usage or 70 when no app could
 * be started. Never exits the process: `notsotuf-launch` and {@link launcherMode} do what the result says.
 *
 * Output: a confirmed version starts silently; trials, rollbacks and problems go to stderr, prefixed
 * `[notsotuf-launch]` (with `--quiet`, errors only); every line goes to `<root>/launcher.log`.
 */
export async function runLauncher(argv: readonly string[]): Promise<number | NodeJS.Signals> {
  const parsed = parseLauncherArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed.kind === 'usage') {
    process.stderr.write(`${parsed.message}\n`);
    return EXIT_USAGE;
  }
  const file = fileLog(join(parsed.root, 'launcher.log'));
  const log = (line: string, level: LaunchLogLevel | 'error') => {
    const shown = level === 'error' || (level === 'notice' && !parsed.quiet);
    if (shown) process.stderr.write(`${PREFIX} ${line}\n`);
    file.write(line, shown);
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
      log(`error ${err.code}: ${err.message}`, 'error');
      if (err.hint) log(`hint: ${err.hint}`, 'error');
    } else log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 'error');
    return EXIT_NOT_STARTED;
  } finally {
    await file.flush();
  }
}
