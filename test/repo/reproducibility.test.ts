/**
 * Reproducible archives: two unrelated repositories (other directories, other keys) archive the same bundle,
 * copied to two places, into byte-identical files when given the same mtime (SOURCE_DATE_EPOCH-like).
 */
import assert from 'node:assert/strict';
import { chmod, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  copyTree,
  createTestRepo,
  makeTempDir,
  readSigned,
  sha256File,
  writeBundle,
} from '../helpers/repo-fixtures.js';

const MTIME = 1_700_000_000; // 2023-11-14T22:13:20Z

describe('reproducible archives across repositories', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('same bundle, same mtime → byte-identical archives and identical target entries', async () => {
    const original = await writeBundle(join(dir, 'bundle'), {
      'README.txt': 'reproducible\n',
      'lib/data.bin': Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 251)),
      'config/deep/settings.json': '{"a": 1}\n',
    });
    const copyA = join(dir, 'place-a', 'bundle');
    const copyB = join(dir, 'place-b', 'somewhere', 'else');
    await copyTree(original, copyA);
    await copyTree(original, copyB);
    // The second copy looks like another checkout: other file times and group-writable modes.
    await utimes(join(copyB, 'README.txt'), new Date('2030-01-01'), new Date('2030-01-01'));
    await chmod(join(copyB, 'README.txt'), 0o664);

    const a = await createTestRepo(join(dir, 'repo-a'), { appName: 'app' });
    const b = await createTestRepo(join(dir, 'repo-b'), { appName: 'app', consistentSnapshot: false });
    const addedA = await (await a.open()).addRelease({ bundleDir: copyA, version: '1.2.3', mtime: MTIME });
    const addedB = await (await b.open()).addRelease({ bundleDir: copyB, version: '1.2.3', mtime: MTIME });

    // Different keys: the metadata differs, the archives do not.
    assert.notEqual((await a.open()).keystore.dirs[0], (await b.open()).keystore.dirs[0]);
    const fileA = join(a.targetsDir, `${addedA.release.archive.sha256}.app-1.2.3.tar.gz`);
    const fileB = join(b.targetsDir, 'app-1.2.3.tar.gz');
    assert.equal(await sha256File(fileA), await sha256File(fileB));
    assert.equal(await sha256File(fileA), addedA.release.archive.sha256);
    assert.deepEqual(addedA.release.archive, addedB.release.archive);

    const entry = async (metadataDir: string) =>
      ((await readSigned(join(metadataDir, 'targets.json')))['targets'] as Record<string, unknown>)[
        'app-1.2.3.tar.gz'
      ];
    assert.deepEqual(await entry(a.metadataDir), await entry(b.metadataDir));
    const keyA = (await readSigned(join(a.metadataDir, 'root.json')))['keys'];
    const keyB = (await readSigned(join(b.metadataDir, 'root.json')))['keys'];
    assert.notDeepEqual(keyA, keyB);
  });

  test('a different mtime gives a different archive (the mtime really is in the bytes)', async () => {
    const bundle = await writeBundle(join(dir, 'bundle-2'));
    const a = await createTestRepo(join(dir, 'repo-c'));
    const repo = await a.open();
    const first = await repo.addRelease({ bundleDir: bundle, version: '1.0.0', mtime: MTIME });
    const second = await repo.addRelease({ bundleDir: bundle, version: '1.0.1', mtime: MTIME + 1 });
    assert.equal(first.release.archive.tarSize, second.release.archive.tarSize);
    assert.notEqual(first.release.archive.tarSha256, second.release.archive.tarSha256);
  });
});
