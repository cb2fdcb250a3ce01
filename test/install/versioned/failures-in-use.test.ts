/**
 * A file in use (POSIX): a process of the OLD version runs, with one of its own files open, while the new version
 * is installed and switched to, and while a later install removes the old version's directory. Nothing the
 * running process uses is modified: it keeps running and completes normally, reading its open file to the end
 * after its directory is gone (POSIX keeps an open file's data until the last handle closes).
 *
 * Windows refuses to remove a running app's files; that case runs here simulated with the immutable attribute in
 * failures-read-only.test.ts (the install succeeds, the old directory stays until a later cleanup).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { cleanupInstallRoot, readInstallState, versionDir } from '../../../src/install/index.js';
import { tempDir } from '../helpers.js';
import { assertBuilt, confirmedRoot, runEntryPoint } from './failures-support.js';
import { installVersion, makeRelease, releaseSpec } from './fixtures.js';

const posixOnly = process.platform === 'win32' ? 'POSIX semantics (Windows locks running files)' : false;

/**
 * `bin/app serve <go-file>`: opens its own lib/core.so, says `running`, waits (bounded) for `<go-file>`, then
 * prints what it reads from the open file and exits 0. Without arguments it prints its version (releaseSpec's app).
 */
function serveSpec(version: string) {
  const app = [
    '#!/bin/sh',
    `[ "$1" = serve ] || { echo ${version}; exit 0; }`,
    'exec 3< "$(dirname "$0")/../lib/core.so"',
    `echo "running ${version}"`,
    'i=0',
    'while [ ! -e "$2" ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done',
    '[ -e "$2" ] || exit 9',
    'cat <&3',
    'echo',
    'echo "done"',
  ].join('\n');
  return { ...releaseSpec(version), 'bin/app': { file: `${app}\n`, mode: 0o755 } };
}

/** Resolves once `child` printed `text`; rejects if it exits first. */
function waitForOutput(child: ChildProcess, output: () => string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (output().includes(text)) {
        child.stdout?.off('data', check);
        child.off('exit', exited);
        resolve();
      }
    };
    const exited = () => reject(new Error(`exited before printing ${text}: ${output()}`));
    child.stdout?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

describe('a process of the old version runs during the install', { skip: posixOnly }, () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let child: ChildProcess | undefined;
  before(async () => {
    assertBuilt();
    ({ dir: base, cleanup } = await tempDir('notsotuf-failures-in-use-'));
  });
  afterEach(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  after(() => cleanup());

  test('install and switch succeed, the old process runs on unaffected, the entry point starts the new version; the cleanup after the next install removes the old dir (POSIX allows it) and the old process still completes', async () => {
    const root = await confirmedRoot(base, serveSpec('1.0.0'));
    const oldDir = versionDir(root, '1.0.0');
    const go = join(base, 'go');
    // Started as the app would be (cwd inside its own version directory), holding one of its files open.
    const old = spawn(join(oldDir, 'bin', 'app'), ['serve', go], {
      cwd: oldDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = old;
    let stdout = '';
    old.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      old.once('close', (code, signal) => resolve({ code, signal })),
    );
    await waitForOutput(old, () => stdout, 'running 1.0.0');

    const b = await installVersion(root, (await makeRelease(base, '1.1.0', serveSpec('1.1.0'))).dir, '1.1.0');
    assert.deepEqual(b.warnings, []);
    const state = await readInstallState(root);
    assert.deepEqual([state?.current, state?.previous], ['1.1.0', '1.0.0']);
    assert.equal(old.exitCode, null, 'the old process is still running');
    const started = await runEntryPoint(root);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, '1.1.0\n', 'the entry point starts the new version');

    // The next install's cleanup removes 1.0.0, which is neither current nor previous any more, while it runs.
    const c = await installVersion(root, (await makeRelease(base, '1.2.0', serveSpec('1.2.0'))).dir, '1.2.0');
    assert.deepEqual(c.warnings, [], 'removing the running version’s directory is allowed on POSIX');
    assert.deepEqual((await readdir(join(root, 'versions'))).sort(), ['1.1.0', '1.2.0']);
    assert.deepEqual(
      await cleanupInstallRoot(root),
      { kind: 'cleaned', removed: [] },
      'nothing left to remove',
    );
    assert.equal(old.exitCode, null, 'the old process is still running');

    await writeFile(go, '');
    assert.deepEqual(await exited, { code: 0, signal: null }, 'the old process completed normally');
    assert.equal(stdout, 'running 1.0.0\ncore library 1.0.0\ndone\n', 'it read its open file to the end');
    assert.equal((await runEntryPoint(root)).stdout, '1.2.0\n');
  });
});
