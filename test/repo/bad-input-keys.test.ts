/**
 * Key and signing failures: each fails with its error code and leaves the config, the key directory and the
 * repository byte-for-byte as they were, with no temp file in targets/.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createTestRepo,
  expectCode,
  leftoverTempFiles,
  makeTempDir,
  snapshotTree,
  type TestRepo,
  writeBundle,
} from '../helpers/repo-fixtures.js';

/** Runs `fail`, expecting `code`, and checks the whole tree under `r.cwd` did not change. */
async function failsWithoutTrace(r: TestRepo, fail: () => Promise<unknown>, code: string): Promise<void> {
  const before = await snapshotTree(r.cwd);
  await expectCode(fail(), code);
  assert.deepEqual(await snapshotTree(r.cwd), before, `${code}: tree unchanged`);
  assert.deepEqual(await leftoverTempFiles(r.targetsDir), [], `${code}: no temp file in targets/`);
  assert.deepEqual(await leftoverTempFiles(r.repoDir), [], `${code}: no lock or work file left`);
}

describe('bad input: encrypted keys', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let r: TestRepo;
  let bundle: string;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    r = await createTestRepo(join(dir, 'enc'), { encrypted: true });
    bundle = await writeBundle(join(dir, 'bundle'));
    // The right passphrase works (and gives targets/ its first file).
    await (await r.open()).addRelease({ bundleDir: bundle, version: '1.0.0' });
  });
  after(() => cleanup());

  test('wrong passphrase → KEY_DECRYPT_FAILED', async () => {
    const repo = await r.open({ passphrase: async () => 'wrong' });
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: bundle, version: '2.0.0' }),
      'KEY_DECRYPT_FAILED',
    );
    await failsWithoutTrace(
      r,
      () => repo.setThreshold('targets', 1).then(() => undefined),
      'INVALID_ARGUMENT',
    );
  });

  test('no passphrase → PASSPHRASE_REQUIRED', async () => {
    const repo = await r.open({ passphrase: async () => undefined });
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: bundle, version: '2.0.0' }),
      'PASSPHRASE_REQUIRED',
    );
    await failsWithoutTrace(r, () => repo.refresh(400), 'PASSPHRASE_REQUIRED');
    // A new key needs a passphrase too (it would be encrypted): nothing is created.
    await failsWithoutTrace(r, () => repo.createKey('extra', { scryptN: 16384 }), 'PASSPHRASE_REQUIRED');
  });

  test('replaceKey with the wrong passphrase leaves no new key behind, so a retry works', async () => {
    const repo = await r.open({ passphrase: async () => 'wrong' });
    const before = await snapshotTree(r.cwd);
    // The new key can be encrypted with any passphrase, but root cannot be signed: nothing may remain.
    await expectCode(repo.replaceKey('timestamp', 'timestamp2', { scryptN: 16384 }), 'KEY_DECRYPT_FAILED');
    const afterFailure = await snapshotTree(r.cwd);
    // A leftover timestamp2 (encrypted with the wrong passphrase) would be reused by the retry and fail it.
    const retry = await (await r.open()).replaceKey('timestamp', 'timestamp2', { scryptN: 16384 }).then(
      (res) => `root ${res.versions.root}`,
      (err: { code?: string }) => err.code,
    );
    assert.deepEqual(afterFailure, before, 'tree unchanged after the failure');
    assert.equal(retry, 'root 2', 'the retry with the right passphrase publishes root 2');
  });
});

describe('bad input: missing keys and thresholds', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let r: TestRepo;
  let bundle: string;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    r = await createTestRepo(join(dir, 'plain'));
    bundle = await writeBundle(join(dir, 'bundle'));
    await (await r.open()).addRelease({ bundleDir: bundle, version: '1.0.0' });
  });
  after(() => cleanup());

  test('unknown key name → KEY_NOT_FOUND', async () => {
    const repo = await r.open();
    await failsWithoutTrace(r, () => repo.addKey('root', 'nope'), 'KEY_NOT_FOUND');
    await failsWithoutTrace(r, () => repo.revokeKey('root', 'nope'), 'KEY_NOT_FOUND');
    await failsWithoutTrace(r, () => repo.replaceKey('nope', 'other'), 'KEY_NOT_FOUND');
  });

  test('revoking below the threshold → THRESHOLD_INVALID; impossible thresholds too', async () => {
    const repo = await r.open();
    await failsWithoutTrace(r, () => repo.revokeKey('root', 'root'), 'THRESHOLD_INVALID');
    await failsWithoutTrace(r, () => repo.revokeKey('timestamp', 'timestamp'), 'THRESHOLD_INVALID');
    await failsWithoutTrace(r, () => repo.setThreshold('root', 2), 'THRESHOLD_INVALID');
    await failsWithoutTrace(r, () => repo.setThreshold('targets', 0), 'THRESHOLD_INVALID');
    await failsWithoutTrace(r, () => repo.setThreshold('targets', 1.5), 'THRESHOLD_INVALID');
    await failsWithoutTrace(r, () => repo.revokeKey('root', 'targets'), 'KEY_NOT_IN_ROLE');
  });

  test('private targets key missing → THRESHOLD_NOT_MET on release add, nothing written', async () => {
    await rm(join(r.keysDir, 'targets'));
    const repo = await r.open();
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: bundle, version: '2.0.0' }),
      'THRESHOLD_NOT_MET',
    );
    await failsWithoutTrace(r, () => repo.removeRelease('1.0.0'), 'THRESHOLD_NOT_MET');
  });

  test('private snapshot key missing → THRESHOLD_NOT_MET (online roles), nothing written', async () => {
    await rm(join(r.keysDir, 'snapshot'));
    const repo = await r.open();
    await failsWithoutTrace(r, () => repo.refresh(30), 'THRESHOLD_NOT_MET');
  });
});

describe('bad input: the first release of a new repository', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('a failed first release leaves the fresh repository exactly as init wrote it', async () => {
    const r = await createTestRepo(join(dir, 'fresh'));
    const repo = await r.open();
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: join(dir, 'no-such-bundle'), version: '1.0.0' }),
      'BUNDLE_INVALID',
    );
  });
});
