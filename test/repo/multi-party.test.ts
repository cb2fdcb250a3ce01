/**
 * Multi-party signing: keys split over two key directories (two people). A change one party cannot sign alone
 * fails without writing, or waits in the staging area until the other party adds signatures.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stagingDir } from '../../src/repo/staging.js';
import {
  copyPublicKeys,
  createTestRepo,
  expectCode,
  leftoverTempFiles,
  listDir,
  makeTempDir,
  readSigned,
  snapshotTree,
  type TestRepo,
  writeBundle,
} from '../helpers/repo-fixtures.js';
import { assertClientAccepts } from '../helpers/tuf-client.js';

/**
 * Splits the keys of `r` into `keys-a` (everything but `privateOfB`) and `keys-b` (the `privateOfB` keys and
 * the online keys, so either party can publish). Both directories get every `.pub` file.
 */
async function splitKeys(r: TestRepo, privateOfB: string[]): Promise<{ dirA: string; dirB: string }> {
  const dirA = join(r.cwd, 'keys-a');
  const dirB = join(r.cwd, 'keys-b');
  await cp(r.keysDir, dirA, { recursive: true });
  for (const name of privateOfB) {
    await cp(join(r.keysDir, name), join(dirB, name));
    await rm(join(dirA, name));
  }
  for (const name of ['snapshot', 'timestamp']) await cp(join(r.keysDir, name), join(dirB, name));
  await copyPublicKeys(dirA, dirB);
  await rm(r.keysDir, { recursive: true });
  // init writes no targets/ directory; a failed first release creating an empty one is tested in
  // bad-input-*.test.ts, so here the directory exists and the comparisons look only for archives and temp files.
  await mkdir(r.targetsDir, { recursive: true });
  return { dirA, dirB };
}

describe('multi-party signing', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('root threshold 2: party A stages a root change, party B completes it', async () => {
    const r = await createTestRepo(join(dir, 'root2'), { thresholds: { root: 2 } });
    assert.deepEqual(r.init.createdKeys.filter((k) => k.startsWith('root')).sort(), ['root1', 'root2']);
    const { dirA, dirB } = await splitKeys(r, ['root2']);
    const partyA = await r.open({ keysDirs: [dirA] });
    // A's new key, whose public half B receives too.
    await partyA.createKey('root3');
    await copyPublicKeys(dirA, dirB);

    // Without --stage: THRESHOLD_NOT_MET and nothing changes anywhere.
    const before = await snapshotTree(r.cwd);
    const err = await expectCode(partyA.addKey('root', 'root3'), 'THRESHOLD_NOT_MET');
    assert.match(err.message, /root2/, 'the message names the missing key');
    assert.deepEqual(await snapshotTree(r.cwd), before);

    // With --stage: the change waits beside the config; the repository is untouched.
    const repoBefore = await snapshotTree(r.repoDir);
    const configBefore = await snapshotTree(r.cwd).then((t) => t['notsotuf.json']);
    const staged = await (await r.open({ keysDirs: [dirA] })).addKey('root', 'root3', { stage: true });
    assert.equal(staged.staged, true);
    assert.deepEqual(staged.versions, {});
    const previousRule = staged.signing.find((s) => s.role === 'root' && s.rule === 'previous-root')!;
    assert.deepEqual([previousRule.valid, previousRule.threshold], [1, 2]);
    assert.ok(previousRule.missing.includes('root2'));
    assert.deepEqual(await snapshotTree(r.repoDir), repoBefore);
    assert.equal((await snapshotTree(r.cwd))['notsotuf.json'], configBefore);
    assert.ok((await listDir(r.cwd)).includes('notsotuf-staged'));

    // While staged, other changes are refused (by either party) and the repository still does not change.
    const partyB = await r.open({ keysDirs: [dirB] });
    assert.equal(await partyB.hasStagedChange(), true);
    assert.equal((await partyB.status()).stagedChange, true);
    await expectCode(
      partyB.addRelease({ bundleDir: await writeBundle(join(dir, 'bundle-x')), version: '1.0.0' }),
      'STAGED_CHANGE_PENDING',
    );
    await expectCode(partyA.setThreshold('targets', 1), 'STAGED_CHANGE_PENDING');
    assert.deepEqual(await snapshotTree(r.repoDir), repoBefore);
    assert.deepEqual(await leftoverTempFiles(r.targetsDir), []);

    // Party B signs: every threshold is met, root 2 is published and the staging area is gone.
    const done = await partyB.signStaged();
    assert.equal(done.staged, false);
    assert.equal(done.versions.root, 2);
    assert.equal(await partyB.hasStagedChange(), false);
    assert.ok(!(await listDir(r.cwd)).includes('notsotuf-staged'));
    const root = await readSigned(join(r.metadataDir, 'root.json'));
    const rootRole = (root['roles'] as Record<string, { keyids: string[]; threshold: number }>)['root']!;
    assert.equal(rootRole.keyids.length, 3);
    assert.equal(rootRole.threshold, 2);
    assert.deepEqual([...(await r.open({ keysDirs: [dirA] })).loaded.config.key_map.root].sort(), [
      'root1',
      'root2',
      'root3',
    ]);
    const client = await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), []);
    assert.equal(client.rootVersion, 2);

    // Later changes work again: A alone meets root's threshold now (root1 + root3 of three).
    const release = await (await r.open({ keysDirs: [dirA] })).addRelease({
      bundleDir: await writeBundle(join(dir, 'bundle-1')),
      version: '1.0.0',
    });
    assert.equal(release.result.staged, false);
  });

  test('the previous-root rule of a staged addKey names only keys of the previous root as missing', async () => {
    const r = await createTestRepo(join(dir, 'report'), { thresholds: { root: 2 } });
    const { dirA } = await splitKeys(r, ['root2']);
    const partyA = await r.open({ keysDirs: [dirA] });
    await partyA.createKey('root3');
    await expectCode(partyA.addKey('root', 'root3'), 'THRESHOLD_NOT_MET');
    // root3 is not in root 1, so it cannot be missing from root 1's rule (root 1 lists root1 and root2).
    const staged = await partyA.addKey('root', 'root3', { stage: true });
    const previousRule = staged.signing.find((s) => s.role === 'root' && s.rule === 'previous-root')!;
    assert.deepEqual(previousRule.missing, ['root2']);
    await partyA.discardStaged();
  });

  test('release add with targets threshold 2: staged, then completed by the second party', async () => {
    const r = await createTestRepo(join(dir, 'targets2'), { thresholds: { targets: 2 } });
    const { dirA, dirB } = await splitKeys(r, ['targets2']);
    const bundle = await writeBundle(join(dir, 'bundle-t'));
    const name = 'app-1.0.0.tar.gz';

    const partyA = await r.open({ keysDirs: [dirA] });
    const repoBefore = await snapshotTree(r.repoDir);
    await expectCode(partyA.addRelease({ bundleDir: bundle, version: '1.0.0' }), 'THRESHOLD_NOT_MET');
    assert.deepEqual(await snapshotTree(r.repoDir), repoBefore, 'no archive, no temp file');

    const staged = await partyA.addRelease({ bundleDir: bundle, version: '1.0.0', stage: true });
    assert.equal(staged.result.staged, true);
    const sha = staged.release.archive.sha256;
    // The archive waits in the staging area, never in the repository.
    assert.deepEqual(await snapshotTree(r.repoDir), repoBefore);
    assert.deepEqual(await listDir(join(stagingDir(partyA.loaded), 'files')), [`${sha}.${name}`]);

    const partyB = await r.open({ keysDirs: [dirB] });
    const done = await partyB.signStaged();
    assert.equal(done.staged, false);
    assert.equal(done.versions.targets, 2);
    assert.ok((await listDir(r.targetsDir)).includes(`${sha}.${name}`));
    assert.deepEqual(await leftoverTempFiles(r.targetsDir), []);
    const targets = await readSigned(join(r.metadataDir, 'targets.json'));
    assert.ok(name in (targets['targets'] as object));
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [name]);
    assert.equal((await partyB.verify()).ok, true);
  });

  test('discardStaged drops a staged change; signStaged with nothing staged → NOTHING_STAGED', async () => {
    const r = await createTestRepo(join(dir, 'discard'), { thresholds: { targets: 2 } });
    const { dirA } = await splitKeys(r, ['targets2']);
    const partyA = await r.open({ keysDirs: [dirA] });
    const before = await snapshotTree(r.cwd);

    await partyA.addRelease({
      bundleDir: await writeBundle(join(dir, 'bundle-d')),
      version: '1.0.0',
      stage: true,
    });
    assert.equal(await partyA.hasStagedChange(), true);
    await partyA.discardStaged();
    assert.equal(await partyA.hasStagedChange(), false);
    assert.deepEqual(await snapshotTree(r.cwd), before, 'staging area and its archive are gone');

    await expectCode(partyA.signStaged(), 'NOTHING_STAGED');
    await expectCode(partyA.discardStaged(), 'NOTHING_STAGED');
    assert.deepEqual(await snapshotTree(r.cwd), before);
  });
});
