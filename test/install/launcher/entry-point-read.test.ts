/**
 * Reading an entry point back (what restart() starts the launcher with): every kind writeEntryPoint writes, POSIX
 * and Windows, Node and self-launching, with hostile paths and every launcher flag, reads back to the words it was
 * written from. The Windows .cmd cannot run here: its cases check the text only and say so.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { isNotsotufError } from '../../../src/core/errors.js';
import {
  findEntryPointSync,
  parseEntryPoint,
  planEntryPoint,
  writeEntryPoint,
} from '../../../src/install/launcher/index.js';
import { tempDir } from './helpers.js';

const MOCK = 'windows-only (mocked: cannot run cmd.exe here)';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-entry-read-'));
});
afterEach(() => cleanup());

describe('parseEntryPoint reads back what planEntryPoint writes', () => {
  const cases = [
    { flags: [], options: {} },
    {
      flags: ['--confirm-within', '30', '--max-launches', '1', '--quiet'],
      options: { trial: { confirmWithinSeconds: 30, maxLaunches: 1 }, quiet: true },
    },
    { flags: ['--max-launches', '2'], options: { trial: { maxLaunches: 2 } } },
  ] as const;
  for (const { flags, options } of cases) {
    test(`POSIX, Node launcher, flags [${flags.join(' ')}], a hostile root`, () => {
      const root = "/opt/it's a $HOME `id` dir";
      const entry = planEntryPoint(root, {
        appName: 'my-app',
        platform: 'linux',
        launcherPath: "/usr/lib/it's/main.js",
        nodePath: '/usr/bin/node 20',
        ...options,
      });
      assert.deepEqual(parseEntryPoint(entry.text), {
        kind: 'node',
        nodePath: '/usr/bin/node 20',
        launcherPath: "/usr/lib/it's/main.js",
        flags,
      });
    });
    test(`POSIX, self-launching, flags [${flags.join(' ')}]`, () => {
      const entry = planEntryPoint('/opt/my app', {
        appName: 'my-app',
        platform: 'linux',
        selfLaunch: true,
        ...options,
      });
      assert.deepEqual(parseEntryPoint(entry.text), { kind: 'self', flags });
    });
    test(`${MOCK}: .cmd, Node launcher, flags [${flags.join(' ')}], % and & in the paths`, () => {
      const entry = planEntryPoint('C:\\100% & My App', {
        appName: 'my-app',
        platform: 'win32',
        launcherPath: 'C:\\100% & My App\\launcher\\main.js',
        nodePath: 'C:\\Program Files\\nodejs\\node.exe',
        ...options,
      });
      assert.deepEqual(parseEntryPoint(entry.text), {
        kind: 'node',
        nodePath: 'C:\\Program Files\\nodejs\\node.exe',
        launcherPath: 'C:\\100% & My App\\launcher\\main.js',
        flags,
      });
    });
    test(`${MOCK}: .cmd, self-launching, flags [${flags.join(' ')}]`, () => {
      const entry = planEntryPoint('C:\\My App', {
        appName: 'my-app',
        platform: 'win32',
        selfLaunch: true,
        ...options,
      });
      assert.deepEqual(parseEntryPoint(entry.text), { kind: 'self', flags });
    });
  }

  test('a command line whose flags the launcher does not take, or none at all: undefined', () => {
    const written = planEntryPoint('/opt/app', {
      appName: 'app',
      platform: 'linux',
      launcherPath: '/l.js',
      nodePath: '/n',
    });
    assert.equal(
      parseEntryPoint(written.text.replace("'/opt/app' --", "'--verbose' '/opt/app' --")),
      undefined,
    );
    assert.equal(parseEntryPoint('#!/bin/sh\nexec /opt/app/bin/app "$@"\n'), undefined);
    // Paths through variables cannot be read back (restart would start a word like "$LAUNCHER").
    assert.equal(parseEntryPoint('exec node "$LAUNCHER" "$ROOT" -- "$@"\n'), undefined);
    assert.equal(parseEntryPoint('"%NODE%" "C:\\l.js" "C:\\root" -- %*\r\n'), undefined);
  });
});

describe('findEntryPointSync', () => {
  test('finds <root>/<appName>, else the one entry point in the root; none: undefined', async () => {
    assert.equal(findEntryPointSync(dir, { appName: 'app' }), undefined);
    await writeEntryPoint(dir, { appName: 'other-name', launcherPath: '/l.js', trial: { maxLaunches: 1 } });
    for (const options of [{ appName: 'app' }, {}]) {
      const found = findEntryPointSync(dir, options);
      assert.equal(found?.path, join(dir, 'other-name'));
      assert.deepEqual(found?.command.flags, ['--max-launches', '1']);
    }
  });

  test('two entry points that start the app differently: INVALID_ARGUMENT, unless the app name picks one', async () => {
    await writeEntryPoint(dir, { appName: 'a', launcherPath: '/l.js', trial: { maxLaunches: 1 } });
    await writeEntryPoint(dir, { appName: 'b', launcherPath: '/l.js' });
    assert.throws(
      () => findEntryPointSync(dir),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT') && /entryPoint/.test(err.hint ?? ''),
    );
    assert.deepEqual(findEntryPointSync(dir, { appName: 'b' })?.command.flags, []);
  });

  test('an entry point edited so that its command cannot be read back: INVALID_ARGUMENT with a hint', async () => {
    const { path, text } = await writeEntryPoint(dir, { appName: 'app', launcherPath: '/l.js' });
    await writeFile(path, text.replace(/^exec .*$/m, 'exec node "$LAUNCHER" --fast "$ROOT" -- "$@"'));
    assert.throws(
      () => findEntryPointSync(dir, { appName: 'app' }),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT') && /writeEntryPoint/.test(err.hint ?? ''),
    );
    // A file that is not notsotuf's is not taken for an entry point, unless named; named, it must be readable.
    const own = join(dir, 'wrapper');
    await writeFile(own, '#!/bin/sh\nexec /opt/app "$@"\n');
    assert.throws(
      () => findEntryPointSync(dir, { entryPoint: own }),
      (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
    );
  });
});
