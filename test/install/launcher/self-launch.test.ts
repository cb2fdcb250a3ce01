/**
 * Self-launching apps (no Node beside them: single-executable apps, Electron, any binary embedding notsotuf): the
 * entry point runs the app's own executable, of a version known to work, with --notsotuf-launch. Here each
 * version's `bin/app` is a real executable (a shell script running node on a module that imports the built
 * library from dist/, as an app's bundled client would), so every process is real. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isNotsotufError } from '../../../src/core/errors.js';
import { cleanupInstallRoot, type InstallState } from '../../../src/install/index.js';
import {
  launcherMode,
  planEntryPoint,
  relaunch,
  writeEntryPoint,
} from '../../../src/install/launcher/index.js';
import { readState, tempDir, trialState } from './helpers.js';

const DIST_INSTALL = fileURLToPath(new URL('../../../dist/install/index.js', import.meta.url));
const BUILT = existsSync(DIST_INSTALL) ? false : 'dist/ is missing: run `npm run build` first';
const MOCK = 'windows-only (mocked: cannot run cmd.exe here)';

/** What each version's app does when it is not the launcher. */
type Behaviour = 'confirms' | 'crashes' | 'crashes-even-as-launcher';

/** The app's module: launcher mode first (as the docs tell apps to), then print, then behave. */
function appModule(behaviour: Behaviour): string {
  return [
    `import { exitLike, launcherMode, markHealthy } from ${JSON.stringify(pathToFileURL(DIST_INSTALL).href)};`,
    behaviour === 'crashes-even-as-launcher' ? 'process.exit(3);' : '',
    'const outcome = await launcherMode();',
    'if (outcome !== undefined) exitLike(outcome);',
    'else {',
    "  console.log('app', process.env.NOTSOTUF_VERSION, JSON.stringify(process.argv.slice(2)));",
    "  const { mkdirSync, renameSync, writeFileSync } = await import('node:fs');",
    "  const data = process.env.NOTSOTUF_INSTALL_ROOT + '/data';",
    '  mkdirSync(data, { recursive: true });',
    '  const run = { version: process.env.NOTSOTUF_VERSION, args: process.argv.slice(2) };',
    // Written beside and renamed: a reader never sees half of it.
    "  writeFileSync(data + '/last-run.tmp', JSON.stringify(run));",
    "  renameSync(data + '/last-run.tmp', data + '/last-run.json');",
    behaviour === 'confirms'
      ? '  await markHealthy(process.env.NOTSOTUF_INSTALL_ROOT, process.env.NOTSOTUF_VERSION);'
      : '  process.exit(3);',
    '}',
  ].join('\n');
}

async function addVersion(root: string, version: string, behaviour: Behaviour): Promise<void> {
  const dir = join(root, 'versions', version);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'app.mjs'), appModule(behaviour));
  // The "binary": runs its own version's module with this test's node.
  const exe = `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$(dirname "$0")/../app.mjs" "$@"\n`;
  await writeFile(join(dir, 'bin', 'app'), exe, { mode: 0o755 });
}

async function writeState(root: string, state: InstallState): Promise<void> {
  await writeFile(join(root, 'install.json'), `${JSON.stringify(state, null, 2)}\n`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const pointer = (root: string) => readFile(join(root, 'launcher-exe'), 'utf8');

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-self-'));
});
afterEach(() => cleanup());

describe('self-launching entry point', { skip: BUILT }, () => {
  test('a new version that crashes even as a launcher is rolled back by the previous one’s launcher', async () => {
    const root = join(dir, 'root');
    await addVersion(root, '1.0.0', 'confirms');
    await addVersion(root, '1.1.0', 'crashes-even-as-launcher');
    await writeState(root, trialState());
    const { path } = await writeEntryPoint(root, { appName: 'my-app', selfLaunch: true });
    assert.equal(await pointer(root), 'versions/1.0.0/bin/app\n', 'the version on trial never launches');

    const run = spawnSync(path, ['a b'], { encoding: 'utf8' });
    assert.equal(run.stdout, 'app 1.0.0 ["a b"]\n', run.stderr);
    assert.match(run.stderr, /rolled back|rolling back/i);
    const state = await readState(root);
    assert.equal(state.current, '1.0.0');
    assert.deepEqual(
      state.failed.map((f) => f.version),
      ['1.1.0'],
    );
    assert.equal(await pointer(root), 'versions/1.0.0/bin/app\n');
  });

  test('a confirmed version becomes the launcher; cleanup never removes the version the pointer names', async () => {
    const root = join(dir, 'root');
    await addVersion(root, '1.0.0', 'confirms');
    await addVersion(root, '1.1.0', 'confirms');
    await writeState(root, trialState());
    const { path } = await writeEntryPoint(root, { appName: 'my-app', selfLaunch: true });

    const run = spawnSync(path, [], { encoding: 'utf8' });
    assert.equal(run.stdout, 'app 1.1.0 []\n', run.stderr);
    assert.equal((await readState(root)).trial, null, 'the trial ended with the confirmation');
    assert.equal(await pointer(root), 'versions/1.1.0/bin/app\n', 'rewritten with the state');

    // A pointer that lags behind the state (its rewrite failed) keeps its version alive.
    await addVersion(root, '1.2.0', 'confirms');
    await writeState(root, trialState({ current: '1.2.0', previous: '1.1.0', trial: null }));
    await writeFile(join(root, 'launcher-exe'), 'versions/1.0.0/bin/app\n');
    await cleanupInstallRoot(root);
    assert.ok(existsSync(join(root, 'versions', '1.0.0')), 'the pointer’s version is kept');
    const again = spawnSync(path, [], { encoding: 'utf8' });
    assert.equal(again.stdout, 'app 1.2.0 []\n', again.stderr);
  });

  test('relaunch (quit-and-install) of a self-launching root goes through launcher-exe, not node', async () => {
    const root = join(dir, 'root');
    await addVersion(root, '1.0.0', 'confirms');
    await addVersion(root, '1.1.0', 'confirms');
    await writeState(root, trialState());
    await writeEntryPoint(root, { appName: 'my-app', selfLaunch: true });
    // nodePath points nowhere: a relaunch that used it could not start anything.
    const pid = relaunch(root, ['--after-update'], { nodePath: join(dir, 'no-node-here') });
    assert.ok(pid !== undefined, 'the launcher started');
    let text = '';
    for (let i = 0; i < 400 && !text; i++) {
      text = await readFile(join(root, 'data', 'last-run.json'), 'utf8').catch(() => '');
      if (!text) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(JSON.parse(text), { version: '1.1.0', args: ['--after-update'] });
    // The detached launcher still ends the trial and writes its log: wait for it before the root is removed.
    for (let i = 0; i < 200 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(isRunning(pid), false, 'the launcher ended');
    assert.equal((await readState(root)).trial, null);
  });

  test('needs install.json: INVALID_ARGUMENT before anything is written', async () => {
    await assert.rejects(writeEntryPoint(dir, { appName: 'my-app', selfLaunch: true }), (err) =>
      isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
    assert.equal(existsSync(join(dir, 'my-app')), false);
    assert.equal(existsSync(join(dir, 'launcher-exe')), false);
  });
});

describe('launcherMode', () => {
  test('without --notsotuf-launch first it returns undefined at once: the app starts as usual', async () => {
    assert.equal(await launcherMode(['--verbose', '--notsotuf-launch']), undefined);
    assert.equal(await launcherMode([]), undefined);
  });

  test('with bad launcher arguments it reports usage (64) instead of starting anything', async () => {
    assert.equal(await launcherMode(['--notsotuf-launch', '--max-launches', '0', dir]), 64);
  });
});

describe('self-launching entry scripts (text)', () => {
  test('POSIX: reads launcher-exe under the quoted root and execs it with the launcher flag and policy', () => {
    const { text } = planEntryPoint("/opt/it's", {
      appName: 'my-app',
      selfLaunch: true,
      platform: 'linux',
      trial: { maxLaunches: 2 },
    });
    assert.match(text, /^root='\/opt\/it'\\''s'$/m);
    assert.match(text, /^exec "\$root\/\$exe" '--notsotuf-launch' '--max-launches' '2' "\$root" -- "\$@"$/m);
  });

  test(`${MOCK}: reads launcher-exe with set /p and runs it with backslashes`, () => {
    const { text, path } = planEntryPoint('C:\\My App', {
      appName: 'my-app',
      selfLaunch: true,
      platform: 'win32',
    });
    assert.equal(path, 'C:\\My App\\my-app.cmd');
    assert.ok(text.includes('set "root=C:\\My App"\r\n'));
    assert.ok(text.includes('set /p exe=<"%root%\\launcher-exe"\r\n'));
    assert.ok(text.includes('"%root%\\%exe:/=\\%" "--notsotuf-launch" "%root%" -- %*\r\n'));
  });
});
