/**
 * As a normal user (the usual per-user install): a release that ships a read-only directory (fixtures'
 * releaseSpec has `read-only/`, mode 0555, which the install keeps) is still removed completely: the staging copy
 * of a failed install, and an old version that is no longer kept. Root ignores directory permissions, so when the
 * tests run as root the installs run in a child process as uid/gid 65534 (nobody) over a tree it owns; otherwise
 * as the user running the tests. Uses the built strategy (dist/).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, tempDir } from '../helpers.js';
import { assertBuilt, type ChildResult, run, writeInstallChild } from './failures-support.js';
import { makeRelease, makeRoot } from './fixtures.js';

const NOBODY = { uid: 65534, gid: 65534 };

describe('as a normal user, versions with read-only directories are removed completely', {
  skip: process.platform === 'win32' && 'POSIX permissions',
}, () => {
  let base: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    assertBuilt();
    ({ dir: base, cleanup } = await tempDir('notsotuf-failures-non-root-'));
  });
  after(() => cleanup());

  test('a failed install leaves no staging copy; the install after next removes the old version, read-only dirs and all', async () => {
    const dir = join(base, 'case');
    const root = await makeRoot(dir);
    const releases = new Map<string, string>();
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) releases.set(v, (await makeRelease(dir, v)).dir);
    const child = await writeInstallChild(dir);
    if (isRoot) {
      await chmod(base, 0o755); // mkdtemp made it 0700
      execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
    }
    const install = async (version: string, entry = 'bin/app') => {
      const done = await run(
        process.execPath,
        [child, root, releases.get(version) as string, version, entry],
        isRoot ? NOBODY : undefined,
      );
      assert.ok(done.stdout !== '', done.stderr);
      return JSON.parse(done.stdout) as ChildResult;
    };
    const dotEntries = async () => (await readdir(join(root, 'versions'))).filter((n) => n.startsWith('.'));

    assert.deepEqual(await install('1.0.0'), { ok: true, warnings: [] });
    // Fails after the copy (the entry is missing): the staging copy, read-only dir included, must go.
    const failed = await install('1.1.0', 'bin/missing');
    assert.equal(failed.code, 'INSTALL_FAILED', failed.message);
    assert.deepEqual(failed.warnings, []);
    assert.deepEqual(await dotEntries(), [], 'no versions/.staging-* left');

    assert.deepEqual(await install('1.1.0'), { ok: true, warnings: [] });
    assert.deepEqual(await install('1.2.0'), { ok: true, warnings: [] }, '1.0.0 removed without a warning');
    assert.deepEqual((await readdir(join(root, 'versions'))).sort(), ['1.1.0', '1.2.0']);
  });
});
