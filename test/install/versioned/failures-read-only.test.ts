/**
 * Install roots that cannot be written: `versions/` or the whole root made read-only (chmod 0555 for a normal
 * user; as root, which ignores permissions, the immutable attribute: `chattr +i`). The install fails with
 * INSTALL_FAILED and a hint, nothing changes, and the real entry point still starts the old version from the
 * read-only root. And an old version directory that cannot be removed (what Windows does to a running app's
 * files; here the immutable attribute) does not fail the install: a warning, and a later cleanup removes it.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanupInstallRoot, markHealthy, readInstallState, versionDir } from '../../../src/install/index.js';
import { makeUnwritable, tempDir } from '../helpers.js';
import {
  assertBuilt,
  assertNotsotufError,
  assertUnchanged,
  confirmedRoot,
  immutable,
  runEntryPoint,
  takeBefore,
} from './failures-support.js';
import { installVersion, makeRelease } from './fixtures.js';

const posixOnly = process.platform === 'win32' ? 'needs chmod/chattr and the POSIX entry script' : false;

describe('read-only install root', { skip: posixOnly }, () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    assertBuilt();
    ({ dir: base, cleanup } = await tempDir('notsotuf-failures-ro-'));
  });
  after(() => cleanup());

  async function setup() {
    const dir = join(base, `case-${++n}`);
    const root = await confirmedRoot(dir);
    const release = await makeRelease(dir, '1.1.0');
    return { dir, root, release, before: await takeBefore(root) };
  }

  const cases = [
    {
      what: 'versions/',
      target: (root: string) => join(root, 'versions'),
      hint: /cannot be changed by this user/,
      // The launcher can still append to launcher.log in the writable root.
    },
    {
      what: 'the whole root',
      target: (root: string) => root,
      hint: /writable/,
    },
  ];
  for (const c of cases) {
    test(`${c.what} read-only: INSTALL_FAILED with a hint, nothing changed, the old version starts`, async (t) => {
      const { root, release, before } = await setup();
      const undo = makeUnwritable(c.target(root));
      if (typeof undo === 'string') {
        t.skip(undo);
        return;
      }
      try {
        await assert.rejects(installVersion(root, release.dir, '1.1.0'), (err) => {
          const e = assertNotsotufError(err, 'INSTALL_FAILED', c.hint);
          assert.match(e.message, /installed versions were left as they were/);
          return true;
        });
        // Still read-only: a plain start of a confirmed version needs no write.
        const started = await runEntryPoint(root);
        assert.equal(started.code, 0, started.stderr);
        assert.equal(started.stdout, '1.0.0\n', 'the entry point starts the old version');
        // A confirmed version starts silently, also when launcher.log cannot be written (a system-wide install).
        assert.equal(started.stderr, '');
      } finally {
        undo();
      }
      await assertUnchanged(before, ['launcher.log']);
      // Writable again, the same install completes.
      await installVersion(root, release.dir, '1.1.0');
      assert.equal((await readInstallState(root))?.current, '1.1.0');
    });
  }

  test('an old version dir that cannot be removed (as Windows keeps a running app’s files; simulated with chattr +i): the install succeeds with a warning, a later cleanup removes it', async (t) => {
    const { dir, root, release } = await setup();
    await installVersion(root, release.dir, '1.1.0');
    await markHealthy(root, '1.1.0');
    const old = versionDir(root, '1.0.0');
    const undo = immutable(old);
    if (typeof undo === 'string') {
      t.skip(undo);
      return;
    }
    let warnings: string[];
    try {
      ({ warnings } = await installVersion(root, (await makeRelease(dir, '1.2.0')).dir, '1.2.0'));
      const state = await readInstallState(root);
      assert.deepEqual([state?.current, state?.previous], ['1.2.0', '1.1.0'], 'the switch happened');
      const started = await runEntryPoint(root);
      assert.equal(started.stdout, '1.2.0\n', started.stderr);
    } finally {
      undo();
    }
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0] as string,
      /Could not remove version 1\.0\.0 .*still running\? The next cleanup retries/,
    );
    assert.deepEqual((await readdir(join(root, 'versions'))).sort(), ['1.0.0', '1.1.0', '1.2.0']);
    assert.equal(
      await readFile(join(old, 'only-in-1.0.0.txt'), 'utf8'),
      '1.0.0',
      'left whole, not half-deleted',
    );

    const cleaned = await cleanupInstallRoot(root);
    assert.equal(cleaned.kind, 'cleaned');
    assert.deepEqual((await readdir(join(root, 'versions'))).sort(), ['1.1.0', '1.2.0']);
  });
});
