/**
 * The stable entry points. The POSIX script really runs (through the built launcher, dist/…/main.js: run
 * `npm run build` first, as `npm test` does); the Windows .cmd cannot run here, so its tests check the text only
 * and say so in their names.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNotsotufError } from '../../../src/core/errors.js';
import {
  cmdQuote,
  planEntryPoint,
  posixEntryScript,
  shellQuote,
  windowsEntryScript,
  writeEntryPoint,
} from '../../../src/install/launcher/index.js';
import { APP, buildRoot, readState, tempDir, trialState } from './helpers.js';

const MOCK = 'windows-only (mocked: cannot run cmd.exe here)';
const DIST_MAIN = fileURLToPath(new URL('../../../dist/install/launcher/main.js', import.meta.url));
const BUILT = existsSync(DIST_MAIN)
  ? false
  : 'dist/install/launcher/main.js is missing: run `npm run build` first';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-entry-'));
});
afterEach(() => cleanup());

describe('POSIX entry script', () => {
  test('really starts the selected version through the built launcher, from a hostile root path', {
    skip: BUILT,
  }, async () => {
    // Quotes, `$`, backticks and spaces in the root: the script must pass it on as one literal word.
    const root = join(dir, "it's a $HOME `id` dir");
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.confirmsAndExits(3) }, trialState());
    const { kind, path, text } = await writeEntryPoint(root, { appName: 'my-app', launcherPath: DIST_MAIN });
    assert.equal(kind, 'posix');
    assert.equal(await readFile(path, 'utf8'), text);
    assert.equal(path, join(root, 'my-app'));
    assert.equal((await stat(path)).mode & 0o777, 0o755);

    const run = spawnSync(path, ['a b', '$x', "'"], { encoding: 'utf8', cwd: dir });
    assert.equal(run.stdout, "app 1.1.0 [a b][$x][']\n");
    assert.equal(run.status, 3, run.stderr);
    assert.equal((await readState(root)).trial, null, 'the trial was confirmed through the entry point');
  });

  test('a trial policy in the entry point is what the launcher enforces (one launch to confirm)', {
    skip: BUILT,
  }, async () => {
    const root = join(dir, 'root');
    // 1.1.0 exits cleanly without confirming: with the default policy it would get more launches.
    await buildRoot(root, { '1.0.0': APP.exits(0), '1.1.0': APP.exits(0) }, trialState());
    const { path, text } = await writeEntryPoint(root, {
      appName: 'my-app',
      launcherPath: DIST_MAIN,
      trial: { confirmWithinSeconds: 30, maxLaunches: 1 },
    });
    assert.match(text, / '--confirm-within' '30' '--max-launches' '1' '[^']*root' -- "\$@"/);
    const first = spawnSync(path, [], { encoding: 'utf8' });
    assert.equal(first.stdout, 'app 1.1.0 \n', first.stderr);
    const second = spawnSync(path, [], { encoding: 'utf8' });
    assert.equal(second.stdout, 'app 1.0.0 \n', 'rolled back after its one launch');
    assert.equal((await readState(root)).current, '1.0.0');
  });

  test('a trial policy that is not a whole number ≥ 1 is refused before anything is written', async () => {
    for (const trial of [{ maxLaunches: 0 }, { confirmWithinSeconds: 1.5 }, { confirmWithinSeconds: -1 }]) {
      await assert.rejects(writeEntryPoint(dir, { appName: 'my-app', trial }), (err) =>
        isNotsotufError(err, 'INVALID_ARGUMENT'),
      );
    }
    assert.equal(existsSync(join(dir, 'my-app')), false);
  });

  test('the script text: exec of node, launcher and root as single-quoted words, then "$@"', () => {
    assert.equal(
      posixEntryScript('/opt/my app', '/usr/lib/notsotuf/main.js', '/usr/bin/node'),
      '#!/bin/sh\n' +
        '# Stable entry point written by notsotuf: starts the selected version through notsotuf-launch.\n' +
        `exec '/usr/bin/node' '/usr/lib/notsotuf/main.js' '/opt/my app' -- "$@"\n`,
    );
  });

  const hostile = ["it's", '$(id)', '`id`', 'a\nb', '"; rm -rf ~; "', '\\', "''", ' '];
  for (const value of hostile) {
    test(`shellQuote keeps ${JSON.stringify(value)} one literal word (checked by sh)`, () => {
      const out = execFileSync('sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
      assert.equal(out, value);
    });
  }

  test('defaults: node is this Node, the launcher is main.js beside the module', async () => {
    const { path } = await writeEntryPoint(dir, { appName: 'my-app' });
    const text = await readFile(path, 'utf8');
    assert.ok(text.includes(shellQuote(process.execPath)), text);
    assert.ok(
      text.includes(
        shellQuote(fileURLToPath(new URL('../../../src/install/launcher/main.js', import.meta.url))),
      ),
      text,
    );
  });

  test('an invalid app name is refused (APP_NAME_INVALID), so it cannot name a path outside the root', async () => {
    for (const appName of ['../evil', 'a/b', '', '.hidden']) {
      await assert.rejects(writeEntryPoint(dir, { appName }), (err) =>
        isNotsotufError(err, 'APP_NAME_INVALID'),
      );
    }
  });

  test('a NUL character in a path is refused (INVALID_ARGUMENT)', () => {
    assert.throws(
      () => shellQuote('a\0b'),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
  });
});

describe('Windows entry script', () => {
  test(`${MOCK}: plans <root>\\<app>.cmd with CRLF lines, quoted absolute paths and %* for the arguments`, () => {
    const entry = planEntryPoint('C:\\Program Files\\My App\\.', {
      appName: 'my-app',
      platform: 'win32',
      launcherPath: 'C:\\Program Files\\My App\\launcher\\main.js',
      nodePath: 'C:\\Program Files\\nodejs\\node.exe',
    });
    assert.deepEqual(entry, {
      kind: 'windows',
      path: 'C:\\Program Files\\My App\\my-app.cmd',
      mode: 0o644,
      text:
        '@echo off\r\n' +
        'rem Stable entry point written by notsotuf: starts the selected version through notsotuf-launch.\r\n' +
        'setlocal DisableDelayedExpansion\r\n' +
        '"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\My App\\launcher\\main.js" ' +
        '"C:\\Program Files\\My App" -- %*\r\n' +
        'exit /b %ERRORLEVEL%\r\n',
    });
    assert.equal(
      entry.text,
      windowsEntryScript(
        'C:\\Program Files\\My App',
        'C:\\Program Files\\My App\\launcher\\main.js',
        'C:\\Program Files\\nodejs\\node.exe',
      ),
    );
  });

  test(`${MOCK}: a trial policy goes before the root as quoted launcher flags`, () => {
    const entry = planEntryPoint('C:\\My App', {
      appName: 'my-app',
      launcherPath: 'C:\\My App\\launcher\\main.js',
      nodePath: 'C:\\node\\node.exe',
      platform: 'win32',
      trial: { maxLaunches: 2 },
    });
    assert.match(entry.text, /main\.js" "--max-launches" "2" "C:\\My App" -- %\*\r\n/);
  });

  test(`${MOCK}: % is doubled (cmd.exe expands it even inside quotes); & ^ | < > stay literal in quotes`, () => {
    assert.equal(cmdQuote('C:\\100% & a^b|c<d>'), '"C:\\100%% & a^b|c<d>"');
  });

  test(`${MOCK}: a quote or line break in a path is refused (INVALID_ARGUMENT)`, () => {
    for (const value of ['C:\\a"b', 'C:\\a\r\nb', 'C:\\a\0']) {
      assert.throws(
        () => cmdQuote(value),
        (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
      );
    }
  });
});
