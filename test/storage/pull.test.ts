/**
 * `pull` and `publish --prune` on real stores (a directory, and S3 on a real OpenStack Swift): the stateless CI
 * flow (pull into an empty directory, add a release patched from the pulled archive, publish), the refusals that
 * must write nothing, and pruning after the grace period.
 */
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { Repository } from '../../src/repo/repository.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { publishRepository } from '../../src/storage/publish.js';
import { pullRepository } from '../../src/storage/pull.js';
import { appFiles, publish } from '../helpers/client-fixtures.js';
import { createTestRepo, passphraseProvider, snapshotTree, type TestRepo } from '../helpers/repo-fixtures.js';
import { type StoreEnv, startStoreEnv, storeKinds, verifyDestination } from '../helpers/store-kinds.js';

let env: StoreEnv;
before(async () => {
  env = await startStoreEnv('notsotuf-pull-');
});
after(() => env?.stop());

// The directory and the S3 server; the rclone kinds use the same store interface and are covered by publish tests.
const kinds = storeKinds(() => env).filter((k) => k.name === 'dir:' || k.name.startsWith('s3://'));

let n = 0;
async function publishedRepo(store: ObjectStore, versions: string[]): Promise<TestRepo> {
  const repo = await createTestRepo(join(env.work, `repo-${n++}`));
  await publish(
    await repo.open(),
    repo.cwd,
    versions.map((version) => ({ version, files: appFiles(version) })),
  );
  await publishRepository({ repoDir: repo.repoDir, store });
  return repo;
}

/** A working directory for CI: the config and keys of `repo` (what a private location holds), no repository. */
async function ciWorkdir(repo: TestRepo): Promise<string> {
  const dir = join(env.work, `ci-${n++}`);
  await mkdir(dir);
  await copyFile(join(repo.cwd, 'notsotuf.json'), join(dir, 'notsotuf.json'));
  await cp(repo.keysDir, join(dir, 'keystore'), { recursive: true });
  return dir;
}

for (const kind of kinds) {
  describe(`pull from ${kind.name}`, { skip: kind.skip }, () => {
    test('stateless CI: pull into an empty directory, add a release patched from the pulled archive, publish', async () => {
      const store = await kind.make(`dest-${n++}`);
      const ci = await ciWorkdir(await publishedRepo(store, ['1.0.0', '1.1.0']));

      const repoDir = join(ci, 'repository');
      const pulled = await pullRepository({ repoDir, store });
      assert.equal(pulled.trust, 'first-use');
      assert.equal(pulled.targets.length, 1, 'only the latest archive');
      assert.match(pulled.targets[0]!, /app-1\.1\.0\.tar\.gz$/);
      assert.deepEqual((await readdir(join(repoDir, 'targets'))).length, 1);
      assert.equal(pulled.metadata.at(-1), 'metadata/timestamp.json', 'timestamp written last');

      const again = await pullRepository({ repoDir, store });
      assert.equal(again.trust, 'local-root');
      assert.deepEqual([again.metadata, again.targets], [[], []], 'nothing new the second time');

      const repo = await Repository.open({ cwd: ci, passphrase: passphraseProvider });
      await publish(repo, ci, [{ version: '1.2.0', files: appFiles('1.2.0') }]);
      const releases = (await repo.releases()).get('app') ?? [];
      assert.ok(
        releases.find((r) => r.version.normalized === '1.2.0')?.patch,
        'patched from the pulled 1.1.0',
      );

      const result = await publishRepository({ repoDir, store });
      assert.ok(result.uploaded.some((k) => k.endsWith('app-1.2.0.patch')));
      assert.ok(!result.uploaded.some((k) => k.includes('1.0.0')), 'old targets stay where they are');
      // 3 archives and 2 patches, all there and valid for a client.
      assert.equal(await verifyDestination(store, env.work), 5);
      store.close?.();
    });

    test('refusals write nothing: tampered metadata, a pinned root of another repository, a corrupt archive, local work ahead', async () => {
      const store = await kind.make(`dest-${n++}`);
      const repo = await publishedRepo(store, ['1.0.0']);
      const into = join(env.work, `into-${n++}`);
      await mkdir(into);
      const before = await snapshotTree(into);

      // Another repository's root pinned: the chain does not start there.
      const other = await createTestRepo(join(env.work, `other-${n++}`));
      await assert.rejects(
        pullRepository({ repoDir: into, store, trustedRoot: join(other.metadataDir, 'root.json') }),
        (e) => isNotsotufError(e, 'VERIFY_FAILED'),
      );
      assert.deepEqual(await snapshotTree(into), before);

      // The published archive replaced with other bytes of the same length.
      const archive = (await store.list('targets/')).find((o) => o.key.endsWith('.tar.gz'))!;
      const original = join(env.work, `orig-${n++}`);
      assert.ok(await store.getFile(archive.key, original));
      const forged = join(env.work, `forged-${n++}`);
      await writeFile(forged, Buffer.alloc(archive.size, 7));
      await store.putFile(archive.key, forged, {
        contentType: 'x',
        cacheControl: 'no-cache',
        sha256: '0'.repeat(64),
      });
      await assert.rejects(pullRepository({ repoDir: into, store }), (e) =>
        isNotsotufError(e, 'TARGET_FILE_MISMATCH'),
      );
      assert.deepEqual(await snapshotTree(into), before);
      await store.putFile(archive.key, original, {
        contentType: 'x',
        cacheControl: 'no-cache',
        sha256: '0'.repeat(64),
      });

      // targets metadata edited at the destination (a length changed): its signature no longer holds.
      const targetsKey = (await store.list('metadata/'))
        .map((o) => o.key)
        .filter((k) => /\/\d+\.targets\.json$/.test(k))
        .sort((a, b) => Number(/(\d+)\./.exec(a)![1]) - Number(/(\d+)\./.exec(b)![1]))
        .at(-1)!;
      const bytes = (await store.getBytes(targetsKey, 1 << 20))!.toString('utf8');
      const changed = bytes.replace(/"length":\s*(\d+)/, (m, d) => m.replace(d, String(Number(d) + 1)));
      assert.notEqual(changed, bytes);
      const edited = join(env.work, `edited-${n++}`);
      await writeFile(edited, changed);
      await store.putFile(targetsKey, edited, {
        contentType: 'x',
        cacheControl: 'no-cache',
        sha256: '0'.repeat(64),
      });
      await assert.rejects(pullRepository({ repoDir: into, store }), (e) =>
        isNotsotufError(e, 'VERIFY_FAILED'),
      );
      assert.deepEqual(await snapshotTree(into), before);

      // The publisher's own directory has a release the destination does not: pulling would lose it.
      await publish(await repo.open(), repo.cwd, [{ version: '1.1.0', files: appFiles('1.1.0') }]);
      const ahead = await snapshotTree(repo.repoDir);
      await assert.rejects(pullRepository({ repoDir: repo.repoDir, store }), (e) =>
        isNotsotufError(e, 'PULL_CONFLICT'),
      );
      assert.deepEqual(await snapshotTree(repo.repoDir), ahead);
      store.close?.();
    });

    test('publish --prune: nothing within the grace period; after it, only files no state in use references', async () => {
      const store = await kind.make(`dest-${n++}`);
      const repo = await publishedRepo(store, ['1.0.0', '1.1.0']);
      const old = (await store.list('targets/')).find((o) => o.key.endsWith('app-1.0.0.tar.gz'))!.key;
      await (await repo.open()).removeRelease('1.0.0');

      const now = await publishRepository({ repoDir: repo.repoDir, store, prune: {} });
      assert.deepEqual(now.pruned, []);
      assert.ok(now.remoteOnly.includes(old), 'reported as no longer referenced');
      assert.ok((await store.list('targets/')).some((o) => o.key === old));

      const later = { now: new Date(Date.now() + 8 * 86_400_000) };
      const dry = await publishRepository({ repoDir: repo.repoDir, store, prune: later, dryRun: true });
      assert.deepEqual(dry.pruned, [old]);
      assert.ok(
        (await store.list('targets/')).some((o) => o.key === old),
        'a dry run deletes nothing',
      );

      const pruned = await publishRepository({ repoDir: repo.repoDir, store, prune: later });
      assert.deepEqual(pruned.pruned, [old]);
      assert.ok(!(await store.list('targets/')).some((o) => o.key === old));
      // What clients read is complete: the 1.1.0 archive and its patch (whose base is gone; clients fall back).
      assert.equal(await verifyDestination(store, env.work), 2);
      store.close?.();
    });
  });
}
