/**
 * `notsotuf-launch` as users run it: a real launcher process (main.ts through tsx) starting real apps. Checks exit
 * codes, signal forwarding, the stderr log and launcher.log.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { APP, buildRoot, NODE_APP, readState, tempDir, trialState } from './helpers.js';

const PROJECT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(PROJECT, 'src', 'install', 'launcher', 'main.ts');

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir('notsotuf-launch-main-'));
});
afterEach(() => cleanup());

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the launcher; `finished` resolves with its exit and everything it (and the app) printed. */
function startLauncher(args: string[]): {
  child: ChildProcess;
  output: () => string;
  finished: Promise<Finished>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: PROJECT, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const finished = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, output: () => stdout, finished };
}

/** Resolves once the launcher's stdout contains `text` (the app printed it). */
async function waitForOutput(run: ReturnType<typeof startLauncher>, text: string): Promise<void> {
  while (!run.output().includes(text)) {
    const done = await Promise.race([
      run.finished,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20)),
    ]);
    if (done) assert.fail(`launcher exited before printing ${text}: ${JSON.stringify(done)}`);
  }
}

test('non-trial: args reach the app, SIGTERM to the launcher is forwarded, the app’s exit code is passed through', async () => {
  await buildRoot(
    root,
    { '1.0.0': NODE_APP },
    trialState({ current: '1.0.0', previous: null, trial: null, entry: 'app.mjs' }),
  );
  const run = startLauncher([root, '--', 'a b', '--flag']);
  await waitForOutput(run, 'ready');
  run.child.kill('SIGTERM');
  const done = await run.finished;
  assert.equal(done.stdout, 'app 1.0.0 ready ["a b","--flag"]\napp got SIGTERM\n');
  assert.equal(done.code, 42);
  // A confirmed version is quiet: the forwarded signal is in launcher.log, not on stderr.
  assert.equal(done.stderr, '');
  assert.match(
    await readFile(join(root, 'launcher.log'), 'utf8'),
    /received SIGTERM; passing it on to the app/,
  );
});

test('trial stopped by the user (SIGTERM): no rollback, the launch counts, the trial goes on', async () => {
  await buildRoot(root, { '1.0.0': NODE_APP, '1.1.0': NODE_APP }, trialState({ entry: 'app.mjs' }));
  const run = startLauncher([root]);
  await waitForOutput(run, 'ready');
  run.child.kill('SIGTERM');
  const done = await run.finished;
  assert.equal(done.code, 42);
  assert.equal(done.stdout, 'app 1.1.0 ready []\napp got SIGTERM\n');
  const state = await readState(root);
  assert.equal(state.current, '1.1.0');
  assert.deepEqual(state.trial, { version: '1.1.0', launches: 1, since: trialState().trial?.since });
  assert.deepEqual(state.failed, []);
});

test('trial crash: the rollback is logged to stderr and launcher.log, and 1.0.0’s exit code is passed through', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(4), '1.1.0': APP.exits(3) }, trialState());
  const done = await startLauncher([root, '--', 'x']).finished;
  assert.equal(done.code, 4);
  assert.equal(done.stdout, 'app 1.1.0 [x]\napp 1.0.0 [x]\n');
  const line =
    /\[notsotuf-launch\] 1\.1\.0 failed before confirming it works \(code 3\); rolling back to 1\.0\.0/;
  assert.match(done.stderr, line);
  const log = await readFile(join(root, 'launcher.log'), 'utf8');
  assert.match(log, /^\S+Z \[pid \d+\] starting 1\.1\.0 on trial/);
  assert.match(log, /1\.1\.0 failed before confirming it works \(code 3\); rolling back to 1\.0\.0/);
  assert.match(log, /1\.0\.0 exited with code 4\n$/);
});

test('the app dies of a signal: the launcher dies of the same signal', async () => {
  await buildRoot(
    root,
    { '1.0.0': APP.killsItself },
    trialState({ current: '1.0.0', previous: null, trial: null }),
  );
  const done = await startLauncher([root]).finished;
  assert.equal(done.signal, 'SIGKILL');
});

test('no install.json: exit 70, and stderr says what is missing and what to do', async () => {
  const done = await startLauncher([root, '--', 'x']).finished;
  assert.equal(done.code, 70);
  assert.equal(done.stdout, '');
  assert.match(done.stderr, /\[notsotuf-launch\] error INSTALL_FAILED: .*install\.json does not exist/);
  assert.match(done.stderr, /\[notsotuf-launch\] hint: .*reinstall the app/);
});

test('bad usage: exit 64 with the usage line', async () => {
  for (const args of [
    [],
    [root, 'stray'],
    ['--max-launches', '0', root],
    ['--confirm-within', 'soon', root],
  ]) {
    const done = await startLauncher(args).finished;
    assert.equal(done.code, 64, JSON.stringify(args));
    assert.match(done.stderr, /usage: notsotuf-launch .*<install-root> \[-- app arguments\.\.\.\]/);
  }
});

test('--max-launches 1: a trial version that exits 0 without confirming is rolled back on the next launch', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.exits(0) }, trialState());
  const first = await startLauncher(['--max-launches', '1', root]).finished;
  assert.equal(first.code, 0);
  assert.equal((await readState(root)).current, '1.1.0');
  const second = await startLauncher(['--max-launches', '1', root]).finished;
  assert.equal(second.code, 0);
  const state = await readState(root);
  assert.equal(state.current, '1.0.0');
  assert.deepEqual(
    state.failed.map((f) => [f.version, f.reason]),
    [['1.1.0', 'too-many-launches']],
  );
});

test('--confirm-within 1: a trial version that hangs without confirming is stopped and rolled back', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.hangs }, trialState());
  const done = await startLauncher(['--confirm-within', '1', root]).finished;
  assert.equal(done.code, 0);
  const state = await readState(root);
  assert.equal(state.current, '1.0.0');
  assert.deepEqual(
    state.failed.map((f) => [f.version, f.reason]),
    [['1.1.0', 'not-confirmed-in-time']],
  );
});
