/** cleanupInstallRoot on real roots: what is no longer kept goes, everything kept (and data/) stays. */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  afterTrialFailure,
  cleanupInstallRoot,
  markHealthy,
  UPDATE_LOCK_FILE,
  updateInstallState,
  versionDir,
} from '../../../src/install/index.js';
import { acquireLock } from '../../../src/util/lock-file.js';
import { buildTree, snapshot, tempDir } from '../helpers.js';
import { installVersion, makeRelease, makeRoot, releaseSpec } from './fixtures.js';

describe('cleanupInstallRoot', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    ({ dir: base, cleanup } = await tempDir('notsotuf-cleanup-'));
  });
  after(() => cleanup());

  async function installed(versions: string[]) {
    const dir = join(base, `case-${++n}`);
    const root = await makeRoot(dir);
    for (const v of versions) await installVersion(root, (await makeRelease(dir, v)).dir, v);
    return root;
  }

  test('after a rollback: the failed version, its marker, stray versions and leftovers go; data/ stays', async () => {
    const root = await installed(['1.0.0', '1.1.0']);
    await markHealthy(root, '1.0.0');
    await markHealthy(root, '1.1.0');
    await updateInstallState(root, (s) => s && afterTrialFailure(s, 'crashed', '1', 5));
    await buildTree(versionDir(root, '0.9.0'), releaseSpec('0.9.0'));
    await buildTree(join(root, 'versions', '.staging-xyz'), { f: 'partial' });
    const kept = await snapshot(versionDir(root, '1.0.0'));

    const warnings: string[] = [];
    const result = await cleanupInstallRoot(root, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    assert.deepEqual(result, {
      kind: 'cleaned',
      removed: [
        join(root, 'versions', '.staging-xyz'),
        versionDir(root, '0.9.0'),
        versionDir(root, '1.1.0'),
        join(root, 'health', '1.1.0.ok'),
      ],
    });
    assert.deepEqual(await readdir(join(root, 'versions')), ['1.0.0']);
    assert.deepEqual(await readdir(join(root, 'health')), ['1.0.0.ok']);
    assert.deepEqual(await snapshot(versionDir(root, '1.0.0')), kept);
    assert.equal(await readFile(join(root, 'data', 'user.db'), 'utf8'), 'user data');
    assert.deepEqual(await cleanupInstallRoot(root), { kind: 'cleaned', removed: [] }, 'idempotent');
  });

  test('without install.json no version directory is removed', async () => {
    const root = await installed([]);
    await mkdir(join(root, 'versions', '1.0.0'), { recursive: true });
    assert.deepEqual(await cleanupInstallRoot(root), { kind: 'cleaned', removed: [] });
    assert.deepEqual(await readdir(join(root, 'versions')), ['1.0.0']);
  });

  test('when the current version is missing, nothing is removed (the root needs recovery, not fewer versions)', async () => {
    const root = await installed(['1.0.0', '1.1.0']);
    await buildTree(versionDir(root, '0.9.0'), releaseSpec('0.9.0'));
    await rm(versionDir(root, '1.1.0'), { recursive: true });
    await rm(versionDir(root, '1.0.0'), { recursive: true });
    assert.deepEqual(await cleanupInstallRoot(root), { kind: 'cleaned', removed: [] });
    assert.deepEqual(await readdir(join(root, 'versions')), ['0.9.0']);
  });

  test('busy while another process installs', async () => {
    const root = await installed(['1.0.0']);
    const release = await acquireLock(join(root, UPDATE_LOCK_FILE), 'test', undefined, 'INSTALL_LOCKED');
    try {
      assert.deepEqual(await cleanupInstallRoot(root), { kind: 'busy' });
    } finally {
      await release();
    }
  });
});
