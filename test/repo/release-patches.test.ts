import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipToFile } from '../../src/archive/index.js';
import { parseTargetCustom } from '../../src/core/custom-metadata.js';
import { applyPatchFile } from '../../src/patch/registry.js';
import { hashFile } from '../../src/util/hash-file.js';
import {
  createTestRepo,
  expectCode,
  leftoverTempFiles,
  makeTempDir,
  readJson,
  snapshotTree,
  type TestRepo,
  writeBundle,
} from '../helpers/repo-fixtures.js';
import { assertClientAccepts } from '../helpers/tuf-client.js';

type TargetsJson = {
  signed: { targets: Record<string, { length: number; hashes: { sha256: string }; custom: unknown }> };
};

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
before(async () => {
  tmp = await makeTempDir('notsotuf-release-patch-');
});
after(async () => {
  await tmp.cleanup();
});

/** 200 KB of incompressible bytes; release 2 edits 100 of them and inserts 50 (a small change to a binary). */
const payload = (release: number) => {
  let x = 0x9e3779b9;
  const base = Buffer.from(
    Array.from({ length: 200_000 }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x & 0xff;
    }),
  );
  if (release === 1) return base;
  const edited = Buffer.from(base);
  for (let i = 1000; i < 1100; i++) edited[i] = edited[i]! ^ 0x5a;
  return Buffer.concat([edited.subarray(0, 150_000), Buffer.alloc(50, 7), edited.subarray(150_000)]);
};

async function twoReleases(name: string, consistentSnapshot: boolean): Promise<TestRepo> {
  const r = await createTestRepo(join(tmp.dir, name), { consistentSnapshot });
  const repo = await r.open();
  await repo.addRelease({
    bundleDir: await writeBundle(join(r.cwd, 'b1'), { 'lib/data.bin': payload(1) }),
    version: '1.0.0',
  });
  const second = await repo.addRelease({
    bundleDir: await writeBundle(join(r.cwd, 'b2'), {
      'lib/data.bin': payload(2),
      'NEW.txt': 'new in 1.1\n',
    }),
    version: '1.1.0',
  });
  assert.ok(second.release.patch, 'the second release has a patch');
  assert.equal(second.release.patch?.from, '1.0.0');
  return r;
}

/** The target file on disk for a name, in either layout. */
function targetPath(r: TestRepo, name: string, sha256: string, consistent: boolean): string {
  return join(r.targetsDir, consistent ? `${sha256}.${name}` : name);
}

for (const [layout, consistent, codec] of [
  ['consistent snapshots: notsotuf codec', true, 'notsotuf'],
  ['tufup layout: bsdiff4 codec', false, 'bsdiff4'],
] as const) {
  describe(`release add makes a patch (${layout})`, () => {
    test('the patch rebuilds the new tar exactly, with tufup custom metadata, and clients download it', async () => {
      const r = await twoReleases(`patch-${codec}`, consistent);
      const targets = await readJson<TargetsJson>(join(r.metadataDir, 'targets.json'));
      const patch = targets.signed.targets['app-1.1.0.patch'];
      const oldArchive = targets.signed.targets['app-1.0.0.tar.gz'];
      const newArchive = targets.signed.targets['app-1.1.0.tar.gz'];
      assert.ok(patch && oldArchive && newArchive);
      const custom = parseTargetCustom(patch.custom, 'app-1.1.0.patch');
      assert.equal(custom.patchCodec, codec);
      // Exactly tufup's keys at both levels (its client reads `custom` as flat legacy metadata otherwise), and
      // notsotuf's codec inside `tufup`, where tufup's client does not look.
      assert.deepEqual(Object.keys(patch.custom as object).sort(), ['tufup', 'user']);
      assert.deepEqual(Object.keys((patch.custom as { tufup: object }).tufup).sort(), [
        'notsotuf',
        'tar_hash',
        'tar_hash_algorithm',
        'tar_size',
      ]);
      // The new archive's own tar facts agree with the patch's promise.
      const newCustom = parseTargetCustom(newArchive.custom, 'app-1.1.0.tar.gz');
      assert.equal(custom.tarSize, newCustom.tarSize);
      assert.equal(custom.tarHash, newCustom.tarHash);

      // Apply as a client would: gunzip the old archive, patch, compare with the signed tar facts.
      const oldTar = join(r.cwd, 'old.tar');
      await gunzipToFile(targetPath(r, 'app-1.0.0.tar.gz', oldArchive.hashes.sha256, consistent), oldTar);
      const rebuilt = await applyPatchFile({
        oldPath: oldTar,
        patchPath: targetPath(r, 'app-1.1.0.patch', patch.hashes.sha256, consistent),
        outPath: join(r.cwd, 'rebuilt.tar'),
        expected: { size: custom.tarSize!, sha256: custom.tarHash! },
      });
      assert.equal(rebuilt.codec, codec);
      const newTar = join(r.cwd, 'new.tar');
      const unpacked = await gunzipToFile(
        targetPath(r, 'app-1.1.0.tar.gz', newArchive.hashes.sha256, consistent),
        newTar,
      );
      assert.deepEqual(await hashFile(join(r.cwd, 'rebuilt.tar')), unpacked);
      assert.ok(
        patch.length < newArchive.length / 4,
        `patch ${patch.length} vs archive ${newArchive.length}`,
      );

      await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [
        'app-1.1.0.patch',
        'app-1.1.0.tar.gz',
      ]);
      assert.deepEqual(await leftoverTempFiles(r.targetsDir), []);
      assert.deepEqual(await leftoverTempFiles(r.repoDir), []);
    });
  });
}

describe('release add and the previous archive', () => {
  test('skipPatch publishes without a patch; an explicit codec is honoured', async () => {
    const r = await createTestRepo(join(tmp.dir, 'skip'));
    const repo = await r.open();
    await repo.addRelease({
      bundleDir: await writeBundle(join(r.cwd, 'b1'), { 'a.bin': payload(1) }),
      version: '1.0.0',
    });
    const skipped = await repo.addRelease({
      bundleDir: await writeBundle(join(r.cwd, 'b2'), { 'a.bin': payload(2) }),
      version: '1.1.0',
      skipPatch: true,
    });
    assert.equal(skipped.release.patch, undefined);
    const bsdiff = await repo.addRelease({
      bundleDir: await writeBundle(join(r.cwd, 'b3'), { 'a.bin': payload(3) }),
      version: '1.2.0',
      patchCodec: 'bsdiff4',
    });
    assert.equal(bsdiff.release.patch?.codec, 'bsdiff4');
    assert.equal(bsdiff.release.patch?.from, '1.1.0');
    await expectCode(
      repo.addRelease({ bundleDir: join(r.cwd, 'b3'), version: '1.3.0', patchCodec: 'nope' }),
      'PATCH_CODEC_UNKNOWN',
    );
    assert.ok((await repo.verify()).ok);
  });

  test('a missing or damaged previous archive fails cleanly, nothing written', async () => {
    const r = await createTestRepo(join(tmp.dir, 'damaged'), { consistentSnapshot: false });
    const repo = await r.open();
    await repo.addRelease({ bundleDir: await writeBundle(join(r.cwd, 'b1')), version: '1.0.0' });
    const bundle = await writeBundle(join(r.cwd, 'b2'), { 'x.txt': 'two\n' });
    const previous = join(r.targetsDir, 'app-1.0.0.tar.gz');

    await writeFile(previous, 'not the signed archive');
    let before = await snapshotTree(r.cwd);
    await expectCode(repo.addRelease({ bundleDir: bundle, version: '1.1.0' }), 'TARGET_FILE_MISMATCH');
    assert.deepEqual(await snapshotTree(r.cwd), before);

    const { rm } = await import('node:fs/promises');
    await rm(previous);
    before = await snapshotTree(r.cwd);
    await expectCode(repo.addRelease({ bundleDir: bundle, version: '1.1.0' }), 'TARGET_FILE_MISSING');
    assert.deepEqual(await snapshotTree(r.cwd), before);

    // --skip-patch is the way out the error's hint names.
    const published = await repo.addRelease({ bundleDir: bundle, version: '1.1.0', skipPatch: true });
    assert.equal(published.release.patch, undefined);
  });
});
