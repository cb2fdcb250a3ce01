/**
 * Runs the built CLI (dist/cli/main.js) as a real child process: stdin is never a TTY, the environment has no
 * NOTSOTUF_* variables except those a test passes, and a timer kills a process that hangs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

export interface RunOptions {
  /** Working directory of the CLI (where it looks for notsotuf.json). */
  readonly cwd: string;
  /** NOTSOTUF_* and other variables for this run; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * `ignore` (default): stdin is /dev/null. `open-pipe`: a pipe that stays open and never receives data, so a
   * CLI that waited for input would hang. A string is written to a pipe, which is then closed.
   */
  readonly stdin?: 'ignore' | 'open-pipe' | { readonly input: string };
  /** Kill the process after this many ms (default 60 s). */
  readonly timeoutMs?: number;
  /**
   * Start node through this command, which gets node's path and arguments after its own, e.g.
   * `['sh', '-c', 'ulimit -f 8; exec "$0" "$@"']` to run the CLI under a resource limit.
   */
  readonly wrapper?: readonly string[];
}

export interface CliResult {
  /** The exit code; null when the process was killed. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (fails the test with the whole output when it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

/** The environment of every run: ours, minus anything notsotuf reads, plus the test's own variables. */
export function cliEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('NOTSOTUF_') || k === 'SOURCE_DATE_EPOCH' || k.startsWith('NODE_TEST')) continue;
    if (v !== undefined) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(
      `${CLI_PATH} is missing: the CLI tests run the built CLI. Run "npm run build" first (npm test does).`,
    );
  }
}

/** Runs `node dist/cli/main.js ...args`. */
export function runCli(args: readonly string[], options: RunOptions): Promise<CliResult> {
  assertBuilt();
  return runNode([CLI_PATH, ...args], options);
}

/** Runs `node ...argv` (a script and its arguments) the same way as the CLI. */
export function runNode(argv: readonly string[], options: RunOptions): Promise<CliResult> {
  const args = argv.slice(1);
  const stdinMode = options.stdin ?? 'ignore';
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const [command, ...prefix] = options.wrapper ?? [];
    const child = spawn(
      command ?? process.execPath,
      [...prefix, ...(command ? [process.execPath] : []), ...argv],
      {
        cwd: options.cwd,
        env: cliEnv(options.env),
        stdio: [stdinMode === 'ignore' ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE when the CLI exits before reading
      if (typeof stdinMode === 'object') child.stdin.end(stdinMode.input);
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code,
        signal,
        timedOut,
        stdout,
        stderr,
        json<T>(): T {
          try {
            return JSON.parse(stdout) as T;
          } catch (e) {
            throw new Error(
              `stdout of "notsotuf ${args.join(' ')}" is not JSON (${String(e)}):\n${stdout}\nstderr:\n${stderr}`,
            );
          }
        },
      });
    });
  });
}

/** Asserts the exit code, showing the command's output when it differs. */
export function assertExit(result: CliResult, expected: number, what = 'the command'): void {
  assert.equal(
    result.code,
    expected,
    `${what}: exit ${result.code}${result.timedOut ? ' (killed after the timeout)' : ''}, expected ${expected}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
  );
}

/** Runs the CLI and asserts the exit code in one step. */
export async function cli(args: readonly string[], options: RunOptions, expected = 0): Promise<CliResult> {
  const r = await runCli(args, options);
  assertExit(r, expected, `notsotuf ${args.join(' ')}`);
  return r;
}

/** The version in package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}
