/**
 * The repository lock: one change at a time. A held lock makes another change fail with REPO_LOCKED (and
 * write nothing); a lock left by a dead process, or an old one, is taken over.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { acquireLock, DEFAULT_LOCK_STALE_MS } from '../../src/util/lock-file.js';
import {
  createTestRepo,
  expectCode,
  listDir,
  makeTempDir,
  snapshotTree,
  type TestRepo,
  writeBundle,
} from '../helpers/repo-fixtures.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const pid = Number(child.stdout);
  assert.ok(Number.isInteger(pid) && pid > 0);
  return pid;
}

describe('repository lock', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let r: TestRepo;
  let lockPath: string;
  let bundle: string;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    r = await createTestRepo(join(dir, 'repo'));
    bundle = await writeBundle(join(dir, 'bundle'));
    await (await r.open()).addRelease({ bundleDir: bundle, version: '1.0.0' });
    lockPath = join(r.repoDir, '.notsotuf.lock');
  });
  after(() => cleanup());

  test('while a lock is held, addRelease fails with REPO_LOCKED and writes nothing', async () => {
    const release = await acquireLock(lockPath, 'test holder');
    try {
      const before = await snapshotTree(r.cwd);
      const err = await expectCode(
        (await r.open()).addRelease({ bundleDir: bundle, version: '2.0.0' }),
        'REPO_LOCKED',
      );
      assert.equal(err.details['pid'], process.pid);
      assert.deepEqual(await snapshotTree(r.cwd), before);
      await expectCode((await r.open()).refresh(30), 'REPO_LOCKED');
    } finally {
      await release();
    }
    assert.ok(!(await listDir(r.repoDir)).includes('.notsotuf.lock'), 'released');
    await (await r.open()).addRelease({ bundleDir: bundle, version: '2.0.0' });
    assert.ok(!(await listDir(r.repoDir)).includes('.notsotuf.lock'), 'addRelease releases its lock');
  });

  test('a stale lock of a dead process on this host is taken over', async () => {
    const pid = deadPid();
    await writeFile(lockPath, JSON.stringify({ pid, host: hostname(), created: Date.now() }));
    const { result } = await (await r.open()).addRelease({ bundleDir: bundle, version: '3.0.0' });
    assert.equal(result.staged, false);
    assert.ok(!(await listDir(r.repoDir)).includes('.notsotuf.lock'));
  });

  test('a live holder on this host keeps its lock however old it is (a long download)', async () => {
    const old = { pid: process.pid, host: hostname(), created: Date.now() - 10 * DEFAULT_LOCK_STALE_MS };
    await writeFile(lockPath, JSON.stringify(old));
    await expectCode((await r.open()).addRelease({ bundleDir: bundle, version: '3.5.0' }), 'REPO_LOCKED');
    await rm(lockPath, { force: true });
  });

  test('a lock from another host is respected while fresh, taken over once older than the stale limit', async () => {
    const other = { pid: process.pid, host: `not-${hostname()}` };
    await writeFile(lockPath, JSON.stringify({ ...other, created: Date.now() }));
    await expectCode((await r.open()).addRelease({ bundleDir: bundle, version: '4.0.0' }), 'REPO_LOCKED');
    assert.equal(JSON.parse(await readFile(lockPath, 'utf8')).host, other.host, 'the foreign lock stays');

    await writeFile(
      lockPath,
      JSON.stringify({ ...other, created: Date.now() - DEFAULT_LOCK_STALE_MS - 1000 }),
    );
    await (await r.open()).addRelease({ bundleDir: bundle, version: '4.0.0' });
    assert.ok(!(await listDir(r.repoDir)).includes('.notsotuf.lock'));
  });

  test('a lock file just created by a live holder (not yet written) is not taken over', async () => {
    // acquireLock creates the file (O_EXCL) and only then writes its JSON; in between, the file is empty.
    // A second process reading it in that window must not treat it as stale, or both hold the lock.
    await writeFile(lockPath, '');
    const outcome = await acquireLock(lockPath, 'second').then(
      async (release) => {
        await release();
        return 'taken over';
      },
      (err: { code?: string }) => err.code,
    );
    await rm(lockPath, { force: true });
    assert.equal(outcome, 'REPO_LOCKED');
  });
});
