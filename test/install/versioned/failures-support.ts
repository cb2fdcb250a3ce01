/**
 * Shared by the failures-*.test.ts files: install roots with a confirmed version and a real entry point (the
 * POSIX entry script running the BUILT launcher, dist/install/launcher/main.js: run `npm run build` first, as
 * `npm test` does), a process runner, and the check that a failed install changed nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isNotsotufError } from '../../../src/core/index.js';
import { confirmTrial, markHealthy, writeEntryPoint } from '../../../src/install/index.js';
import { type Snapshot, snapshot, type TreeSpec } from '../helpers.js';
import { installVersion, makeRelease, makeRoot } from './fixtures.js';

export const PROJECT = fileURLToPath(new URL('../../../', import.meta.url));
export const DIST_INSTALL = join(PROJECT, 'dist', 'install', 'index.js');
export const DIST_MAIN = join(PROJECT, 'dist', 'install', 'launcher', 'main.js');
export const APP_NAME = 'my-app';

/** These tests run the built code as users do: fail (not skip) when it is missing. */
export function assertBuilt(): void {
  for (const file of [DIST_INSTALL, DIST_MAIN]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first (npm test does).`);
  }
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a process to its end, collecting its output; `as` runs it as another user (the tests must run as root).
 * A process still running after 60 s is killed (a hang).
 */
export function run(
  command: string,
  args: readonly string[],
  as?: { readonly uid: number; readonly gid: number },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...as });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts the app the way a user does: through the stable entry script `<root>/my-app`. */
export function runEntryPoint(root: string, args: readonly string[] = []): Promise<Finished> {
  return run(join(root, APP_NAME), args);
}

/**
 * `<base>/root` with version 1.0.0 (by default fixtures' releaseSpec: `bin/app` prints its version) installed and
 * confirmed, so nothing is on trial and starting it writes nothing into install.json; plus the entry script.
 */
export async function confirmedRoot(base: string, spec?: TreeSpec): Promise<string> {
  const root = await makeRoot(base);
  await installVersion(root, (await makeRelease(base, '1.0.0', spec)).dir, '1.0.0');
  await markHealthy(root, '1.0.0');
  assert.equal((await confirmTrial(root)).kind, 'confirmed');
  await writeEntryPoint(root, { appName: APP_NAME, launcherPath: DIST_MAIN });
  return root;
}

/** What must not change when an install fails: the whole root (snapshot) and install.json byte for byte. */
export interface Before {
  readonly root: string;
  readonly tree: Snapshot;
  readonly stateBytes: Buffer;
}

export async function takeBefore(root: string): Promise<Before> {
  return { root, tree: await snapshot(root), stateBytes: await readFile(join(root, 'install.json')) };
}

/**
 * A child process script that installs one version with the BUILT versioned strategy:
 * `node <script> <root> <sourceDir> <version> [entry]` (entry default `bin/app`). It prints one JSON line, a
 * {@link ChildResult}, and exits 1 when the install failed.
 */
const CHILD = `
import { versionedStrategy } from ${JSON.stringify(pathToFileURL(DIST_INSTALL).href)};
const [root, sourceDir, version, entry = 'bin/app'] = process.argv.slice(2);
const warnings = [];
try {
  await versionedStrategy({ entry }).install({
    sourceDir, installDir: root, version, onWarning: (message) => warnings.push(message),
  });
  console.log(JSON.stringify({ ok: true, warnings }));
} catch (err) {
  const { name, code, message, hint, path } = err;
  console.log(JSON.stringify({ ok: false, name, code, message, hint, path, cause: err.cause?.code, warnings }));
  process.exitCode = 1;
}
`;

export interface ChildResult {
  readonly ok: boolean;
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly hint?: string;
  readonly path?: string;
  /** The `code` of the error's cause (an errno code such as EFBIG). */
  readonly cause?: string;
  readonly warnings: readonly string[];
}

/** Writes the install child script into `dir`; returns its path. */
export async function writeInstallChild(dir: string): Promise<string> {
  const path = join(dir, 'install-child.mjs');
  await writeFile(path, CHILD, { mode: 0o644 });
  return path;
}

/** `skip`: root-level names left out of the comparison (launcher.log, which starting the app appends to). */
export async function assertUnchanged(before: Before, skip: readonly string[] = []): Promise<void> {
  const { root } = before;
  assert.deepEqual(
    await readFile(join(root, 'install.json')),
    before.stateBytes,
    'install.json byte-identical',
  );
  assert.deepEqual(
    (await readdir(join(root, 'versions'))).filter((n) => n.startsWith('.')),
    [],
    'no versions/.staging-* left',
  );
  const tree = await snapshot(root, (name) => skip.includes(name));
  const expected = Object.fromEntries(
    Object.entries(before.tree).filter(([path]) => !skip.includes(path.split('/')[0] as string)),
  );
  assert.deepEqual(tree, expected, 'versions/, health/, data/ and the rest as before');
}

/** Asserts a NotsotufError with `code` and a hint matching `hint`; returns it. */
export function assertNotsotufError(err: unknown, code: string, hint: RegExp) {
  assert.ok(isNotsotufError(err), `expected a NotsotufError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, `${err.code}: ${err.message}`);
  assert.match(err.hint ?? '', hint, `hint of ${err.code}: ${err.message}`);
  return err;
}

/**
 * Sets the immutable attribute on `path` (refuses renames and deletes even for root). Returns the undo function,
 * or the reason it cannot be done here (chattr missing, not root, or a file system without the attribute).
 */
export function immutable(path: string): (() => void) | string {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
  } catch {
    return 'chattr +i is not available here (it needs root, the chattr tool and a file system with the attribute)';
  }
  return () => execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
}
