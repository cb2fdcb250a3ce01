/**
 * The verified tar an update leaves in the cache (`<app>-<version>.tar`) is the base of the next patch update: it
 * is hashed in place, never trusted unchecked. Real publisher, real HTTP server on 127.0.0.1, real installs.
 */
import assert from 'node:assert/strict';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  appFiles,
  clientFor,
  installArchive,
  type PublishedRepo,
  publish,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { makeTempDir, snapshotTree, writeBundle } from '../helpers/repo-fixtures.js';

describe('client: the kept verified tar as the next base', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let served: PublishedRepo;

  before(async () => {
    ({ dir: work, cleanup } = await makeTempDir('notsotuf-kept-tar-'));
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new in 1.1.0\n' }) },
    ]);
  });
  after(async () => {
    await served.close();
    await cleanup();
  });

  /** An app installed at 1.0.0 by an installer (its .tar.gz in the cache), then updated to 1.1.0 by patch. */
  async function at110(name: string) {
    const installDir = join(work, name, 'app');
    const cacheDir = join(work, name, 'cache');
    await installArchive(
      await publishedArchive(served.repo, 'app-1.0.0.tar.gz'),
      'app-1.0.0.tar.gz',
      installDir,
      cacheDir,
    );
    const first = await clientFor(served, { currentVersion: '1.0.0', installDir, cacheDir }).update();
    assert.equal(first?.download.method, 'patch');
    assert.deepEqual(await readdir(join(cacheDir, 'targets')), ['app-1.1.0.tar']);
    return { installDir, cacheDir };
  }

  it('patches from the kept tar, and does not use one that was damaged', async () => {
    const good = await at110('good');
    const damaged = await at110('damaged');
    await publish(await served.repo.open(), work, [
      { version: '1.2.0', files: appFiles('1.2.0', { 'NEW.txt': 'changed in 1.2.0\n' }) },
    ]);
    const expected = await snapshotTree(
      await writeBundle(join(work, 'expected-1.2.0'), appFiles('1.2.0', { 'NEW.txt': 'changed in 1.2.0\n' })),
    );

    // The steady state: the base is the tar 1.1.0's update left, checked by hashing it (no decompression).
    const client = clientFor(served, { currentVersion: '1.1.0', ...good });
    const phases: string[] = [];
    client.on('timing', (t) => phases.push(t.phase));
    const next = await client.update();
    assert.equal(next?.version, '1.2.0');
    assert.equal(next?.download.method, 'patch');
    assert.ok(phases.includes('inspect-base'), phases.join(', '));
    assert.deepEqual(await snapshotTree(good.installDir), expected);
    assert.deepEqual(await readdir(join(good.cacheDir, 'targets')), ['app-1.2.0.tar']);

    // One byte of the kept tar changed (same size): it no longer matches the signed tar hash, so the plan takes
    // the full archive, says why, and the installed tree is still exactly 1.2.0.
    const tarPath = join(damaged.cacheDir, 'targets', 'app-1.1.0.tar');
    const fh = await open(tarPath, 'r+');
    try {
      const byte = Buffer.alloc(1);
      await fh.read(byte, 0, 1, 600);
      byte[0] = byte[0]! ^ 0xff;
      await fh.write(byte, 0, 1, 600);
    } finally {
      await fh.close();
    }
    const other = clientFor(served, { currentVersion: '1.1.0', ...damaged });
    const warnings: string[] = [];
    other.on('warning', (w) => warnings.push(w.message));
    const info = await other.checkForUpdates();
    assert.equal(info?.method.kind, 'full');
    assert.equal(info?.method.kind === 'full' ? info.method.reason : undefined, 'cached-archive-mismatch');
    assert.ok(
      warnings.some((m) => /does not match the metadata/.test(m)),
      warnings.join('\n'),
    );
    const result = await other.update();
    assert.equal(result?.download.method, 'full');
    assert.deepEqual(await snapshotTree(damaged.installDir), expected);
    assert.deepEqual(await readdir(join(damaged.cacheDir, 'targets')), ['app-1.2.0.tar']);
  });
});
