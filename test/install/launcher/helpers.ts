/**
 * Install roots built by hand for the launcher tests: `versions/<v>/bin/app` shell scripts (or `.mjs` entries) that
 * print their version and arguments, optionally write their health marker, then exit, crash or hang.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { InstallState } from '../../../src/install/index.js';
import { type LaunchOptions, type LaunchResult, launchApp } from '../../../src/install/launcher/index.js';

export { tempDir } from '../helpers.js';

export const T0 = 1_700_000_000_000;
export const T1 = T0 + 86_400_000;

/** Prints `app <version> [arg1][arg2]…`, one bracket per argument, so spaces and quotes show. */
const PRINT = `printf 'app %s ' "$NOTSOTUF_VERSION"; for a in "$@"; do printf '[%s]' "$a"; done; echo`;
/** What the app's markHealthy does: create health/<version>.ok under the install root it was given. */
const MARK =
  'mkdir -p "$NOTSOTUF_INSTALL_ROOT/health" && : > "$NOTSOTUF_INSTALL_ROOT/health/$NOTSOTUF_VERSION.ok"';

/** Shell bodies of `bin/app`. */
export const APP = {
  exits: (code: number) => `${PRINT}\nexit ${code}`,
  killsItself: `${PRINT}\nkill -KILL $$`,
  confirmsAndExits: (code: number) => `${PRINT}\n${MARK}\nexit ${code}`,
  /** Confirms, then waits (bounded) until the launcher has ended the trial in install.json, then exits. */
  confirmsAndWaitsForTrialEnd: (code: number) =>
    `${PRINT}\n${MARK}\ni=0\nwhile grep -q '"trial": {' "$NOTSOTUF_INSTALL_ROOT/install.json" && [ $i -lt 400 ]; do` +
    ` sleep 0.05; i=$((i+1)); done\ngrep -q '"trial": null' "$NOTSOTUF_INSTALL_ROOT/install.json" || exit 99\nexit ${code}`,
  /** Never confirms, never exits by itself; `exec` so SIGTERM reaches the sleeping process. */
  hangs: `${PRINT}\nexec sleep 60`,
  /** Like `hangs`, but ignores SIGTERM (the ignore survives exec): only SIGKILL ends it. */
  hangsIgnoringTerm: `${PRINT}\ntrap '' TERM\nexec sleep 60`,
} as const;

/** A Node entry (`app.mjs`): prints, then exits at SIGTERM with 42 (saying so), and otherwise runs forever. */
export const NODE_APP = [
  "process.on('SIGTERM', () => { console.log('app got SIGTERM'); process.exit(42); });",
  "console.log('app', process.env.NOTSOTUF_VERSION, 'ready', JSON.stringify(process.argv.slice(2)));",
  'setInterval(() => {}, 1000);',
].join('\n');

export function trialState(overrides: Partial<InstallState> = {}): InstallState {
  return {
    format: 1,
    current: '1.1.0',
    previous: '1.0.0',
    entry: 'bin/app',
    trial: { version: '1.1.0', launches: 0, since: T0 },
    failed: [],
    lastResult: { kind: 'installed', version: '1.1.0', previous: '1.0.0', at: T0 },
    ...overrides,
  };
}

/** Writes `versions/<v>/<entry>` for each version (shell bodies get a shebang and mode 0755) and install.json. */
export async function buildRoot(
  root: string,
  versions: Record<string, string>,
  state: InstallState | null,
): Promise<void> {
  const entry = state?.entry ?? 'bin/app';
  for (const [version, body] of Object.entries(versions)) {
    const file = join(root, 'versions', version, ...entry.split('/'));
    await mkdir(dirname(file), { recursive: true });
    const script = entry.endsWith('.mjs') ? body : `#!/bin/sh\n${body}\n`;
    await writeFile(file, script, { mode: 0o755 });
  }
  if (state) await writeFile(join(root, 'install.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export async function readState(root: string): Promise<InstallState> {
  return JSON.parse(await readFile(join(root, 'install.json'), 'utf8')) as InstallState;
}

export interface Run {
  readonly result: LaunchResult;
  /** Each app process started, in order, with what it printed. */
  readonly started: { version: string; trial: boolean; stdout: string }[];
  readonly log: string[];
}

/** launchApp with piped output, collected per app process (waiting for each stream to end). */
export async function launch(
  root: string,
  args: string[],
  options: Partial<LaunchOptions> = {},
): Promise<Run> {
  const started: Run['started'] = [];
  const closed: Promise<void>[] = [];
  const log: string[] = [];
  const onSpawn = (child: ChildProcess, info: { version: string; trial: boolean }) => {
    const entry = { ...info, stdout: '' };
    started.push(entry);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      entry.stdout += chunk;
    });
    child.stderr?.resume();
    closed.push(new Promise((resolve) => child.once('close', () => resolve())));
  };
  const result = await launchApp({
    root,
    args,
    stdio: 'pipe',
    now: () => T1,
    onLog: (line) => log.push(line),
    onSpawn,
    ...options,
  });
  await Promise.all(closed);
  return { result, started, log };
}
