/**
 * What `notsotuf-launch` prints, as users run it: a real launcher process (main.ts through tsx) starting real apps.
 * A confirmed version starts silently; trials, rollbacks and errors are reported on stderr (and every decision in
 * launcher.log); `--quiet` leaves only errors; `--help` prints the usage and exits 0. The normal confirmation
 * path, an app calling `client.markHealthy()` (the built client, dist/), reports no conflict.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeUnwritable } from '../helpers.js';
import { APP, buildRoot, launch, readState, tempDir, trialState } from './helpers.js';

const PROJECT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(PROJECT, 'src', 'install', 'launcher', 'main.ts');
const DIST_CLIENT = join(PROJECT, 'dist', 'client', 'index.js');
const BUILT = existsSync(DIST_CLIENT) ? false : 'dist/ is missing: run `npm run build` first';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir('notsotuf-launch-output-'));
});
afterEach(() => cleanup());

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runLauncher(args: string[]): Promise<Finished> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: PROJECT, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  return new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const launcherLog = (dir: string) => readFile(join(dir, 'launcher.log'), 'utf8').catch(() => '');
const confirmed = () => trialState({ current: '1.0.0', previous: null, trial: null });

test('a confirmed version starts silently: nothing on stderr; its output and exit code pass through', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(5) }, confirmed());
  const done = await runLauncher([root, '--', 'x']);
  assert.equal(done.code, 5);
  assert.equal(done.stdout, 'app 1.0.0 [x]\n');
  assert.equal(done.stderr, '');
  // launcher.log still records the start, for support.
  assert.match(await launcherLog(root), /starting 1\.0\.0\n.*1\.0\.0 exited with code 5\n$/);
});

test('a confirmed version in a root the user cannot write starts silently too (no log-file warning)', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(0) }, confirmed());
  const undo = makeUnwritable(root);
  if (typeof undo === 'string') return; // cannot be made unwritable here
  try {
    const done = await runLauncher([root]);
    assert.equal(done.code, 0);
    assert.equal(done.stdout, 'app 1.0.0 \n');
    assert.equal(done.stderr, '');
  } finally {
    undo();
  }
});

/** What an app embedding the client does once it is up: markHealthy() writes the marker and ends the trial. */
function clientApp(thenWaitMs: number): string {
  return [
    `import { Client } from ${JSON.stringify(pathToFileURL(DIST_CLIENT).href)};`,
    'const client = new Client({',
    "  appName: 'app', currentVersion: process.env.NOTSOTUF_VERSION, installDir: process.env.NOTSOTUF_INSTALL_ROOT,",
    "  cacheDir: process.env.NOTSOTUF_INSTALL_ROOT + '/data/cache', metadataUrl: 'http://127.0.0.1:9/m/',",
    "  targetsUrl: 'http://127.0.0.1:9/t/', trustedRoot: new Uint8Array(),",
    '});',
    "console.log('healthy', await client.markHealthy());",
    `await new Promise((r) => setTimeout(r, ${thenWaitMs}));`,
  ].join('\n');
}

test('a trial confirmed through client.markHealthy() while the app runs: trial lines only, no "changed by another process"', {
  skip: BUILT,
}, async () => {
  // The app waits long enough for the launcher's poll to see the marker while it runs.
  const app = clientApp(400);
  await buildRoot(root, { '1.0.0': app, '1.1.0': app }, trialState({ entry: 'app.mjs' }));
  const done = await runLauncher([root]);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, 'healthy true\n');
  assert.match(done.stderr, /\[notsotuf-launch\] starting 1\.1\.0 on trial/);
  assert.match(done.stderr, /\[notsotuf-launch\] 1\.1\.0 confirmed it works; its trial is over/);
  assert.doesNotMatch(done.stderr, /changed by another process/);
  assert.doesNotMatch(await launcherLog(root), /changed by another process/);
  const state = await readState(root);
  assert.equal(state.trial, null);
  assert.deepEqual([state.lastResult?.kind, state.current], ['confirmed', '1.1.0']);
});

test('a trial confirmed through client.markHealthy(), found after the app exited: no conflict reported', {
  skip: BUILT,
}, async () => {
  // The marker is never polled (one poll an hour), so the launcher finds the confirmation only after the exit.
  const app = clientApp(0);
  await buildRoot(root, { '1.0.0': app, '1.1.0': app }, trialState({ entry: 'app.mjs' }));
  const { result, log } = await launch(root, [], { pollIntervalMs: 3_600_000 });
  assert.deepEqual(result, { exitCode: 0, signal: null, version: '1.1.0' });
  assert.ok(log.includes('1.1.0 confirmed it works; its trial is over'), log.join('\n'));
  assert.deepEqual(
    log.filter((line) => /changed by another process/.test(line)),
    [],
  );
  assert.equal((await readState(root)).trial, null);
});

test('--help and -h: the usage on stdout, exit 0, nothing started', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(5) }, confirmed());
  for (const args of [['--help'], ['-h'], ['--quiet', '--help'], ['--max-launches', '2', '--help']]) {
    const done = await runLauncher(args);
    assert.equal(done.code, 0, JSON.stringify(args));
    assert.match(done.stdout, /^usage: notsotuf-launch /, JSON.stringify(args));
    assert.match(done.stdout, /--quiet/);
    assert.match(done.stdout, /--confirm-within/);
    assert.equal(done.stderr, '');
  }
});

test('--quiet: a trial crash and its rollback print nothing (launcher.log has them); errors still print', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(4), '1.1.0': APP.exits(3) }, trialState());
  const done = await runLauncher(['--quiet', root, '--', 'x']);
  assert.equal(done.code, 4);
  assert.equal(done.stdout, 'app 1.1.0 [x]\napp 1.0.0 [x]\n');
  assert.equal(done.stderr, '');
  assert.match(await launcherLog(root), /1\.1\.0 failed before confirming it works \(code 3\); rolling back/);
  assert.equal((await readState(root)).current, '1.0.0');

  await rm(join(root, 'install.json'));
  const broken = await runLauncher(['--quiet', root]);
  assert.equal(broken.code, 70);
  assert.match(broken.stderr, /\[notsotuf-launch\] error INSTALL_FAILED: .*install\.json does not exist/);
  assert.match(broken.stderr, /\[notsotuf-launch\] hint: /);
});

test('without --quiet, a trial crash and its rollback are reported on stderr', async () => {
  await buildRoot(root, { '1.0.0': APP.exits(4), '1.1.0': APP.exits(3) }, trialState());
  const done = await runLauncher([root]);
  assert.equal(done.code, 4);
  assert.match(done.stderr, /\[notsotuf-launch\] starting 1\.1\.0 on trial/);
  assert.match(
    done.stderr,
    /\[notsotuf-launch\] 1\.1\.0 failed before confirming it works \(code 3\); rolling back/,
  );
  assert.match(done.stderr, /\[notsotuf-launch\] starting 1\.0\.0\n/);
});
