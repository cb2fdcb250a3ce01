/**
 * `notsotuf publish` end to end on real stores: a directory; an rclone `local` remote through the real rclone
 * binary; a real S3-compatible server (OpenStack Swift with s3api, started by this file) through the S3 store and
 * through an rclone S3 remote. Each kind reports itself skipped, with the reason, when its parts are missing
 * (.ci/run installs them). After each publish the destination is downloaded and loaded as a client would load it
 * (verifyRepository: tuf-js from the first root, every target hashed).
 */
import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { publishRepository } from '../../src/storage/publish.js';
import { LOCK_KEY } from '../../src/storage/publish-lock.js';
import { PHASES, phaseOf } from '../../src/storage/publish-plan.js';
import { appFiles, publish } from '../helpers/client-fixtures.js';
import { createTestRepo, type TestRepo } from '../helpers/repo-fixtures.js';
import { type StoreEnv, startStoreEnv, storeKinds, verifyDestination } from '../helpers/store-kinds.js';

let env: StoreEnv;
let work: string;
before(async () => {
  env = await startStoreEnv('notsotuf-publish-');
  work = env.work;
});
after(() => env?.stop());

const kinds = storeKinds(() => env);

let n = 0;
async function newRepo(versions: string[]): Promise<TestRepo> {
  const repo = await createTestRepo(join(work, `repo-${n++}`));
  await publish(
    await repo.open(),
    repo.cwd,
    versions.map((version) => ({ version, files: appFiles(version) })),
  );
  return repo;
}

/** What a destination holds: keys, sizes and hashes (the stores' own listings). */
async function snapshot(store: ObjectStore): Promise<string> {
  const all = await store.list('');
  return JSON.stringify(all.sort((a, b) => (a.key < b.key ? -1 : 1)));
}

for (const kind of kinds) {
  describe(`publish to ${kind.name}`, { skip: kind.skip }, () => {
    test('targets first, versioned metadata in role order, timestamp.json last; the destination verifies', async () => {
      const repo = await newRepo(['1.0.0']);
      const id = `dest-${n++}`;
      const store = await kind.make(id);
      const order: string[] = [];
      const sent: number[] = [];
      let totalBytes = 0;
      const result = await publishRepository({
        repoDir: repo.repoDir,
        store,
        onProgress: (e) => {
          if (e.filesDone < e.files && order.at(-1) !== e.key) order.push(e.key);
          sent.push(e.bytesDone);
          totalBytes = e.bytes;
        },
      });
      assert.deepEqual(order, result.uploaded);
      assert.deepEqual(
        sent,
        [...sent].sort((a, b) => a - b),
        'bytes sent only grow',
      );
      assert.equal(sent.at(-1), totalBytes, 'the last event reports every byte sent');
      assert.equal(order.at(-1), 'metadata/timestamp.json');
      const phases = order.map((k) => PHASES.indexOf(phaseOf(k)!));
      assert.deepEqual(phases, [...phases].sort(), 'phases in order');
      assert.ok(order.indexOf('metadata/1.root.json') < order.indexOf('metadata/1.snapshot.json'));
      assert.equal(await verifyDestination(store, work), 1);
      if (kind.headers) {
        const ts = await kind.headers(id, 'metadata/timestamp.json');
        assert.equal(ts.cacheControl, 'no-cache');
        assert.equal(ts.contentType, 'application/json');
        const versioned = await kind.headers(id, 'metadata/1.root.json');
        assert.equal(versioned.cacheControl, 'public, max-age=31536000, immutable');
        const archive = order.find((k) => k.endsWith('.tar.gz'))!;
        const target = await kind.headers(id, archive);
        assert.equal(target.cacheControl, 'public, max-age=31536000, immutable');
        assert.equal(target.contentType, 'application/gzip');
      }
      store.close?.();
    });

    test('a second publish uploads nothing; a new release uploads only what changed, timestamp last', async () => {
      const repo = await newRepo(['1.0.0']);
      const store = await kind.make(`dest-${n++}`);
      await publishRepository({ repoDir: repo.repoDir, store });
      const again = await publishRepository({ repoDir: repo.repoDir, store });
      assert.deepEqual(again.uploaded, []);
      await publish(await repo.open(), repo.cwd, [{ version: '1.1.0', files: appFiles('1.1.0') }]);
      const next = await publishRepository({ repoDir: repo.repoDir, store });
      assert.equal(next.uploaded.at(-1), 'metadata/timestamp.json');
      assert.ok(next.uploaded.some((k) => k.includes('app-1.1.0.tar.gz')));
      assert.ok(next.uploaded.some((k) => k.includes('app-1.1.0.patch')));
      assert.ok(
        !next.uploaded.some((k) => k.includes('app-1.0.0.tar.gz')),
        'the old archive is not sent again',
      );
      assert.ok(next.unchanged > 0);
      assert.equal(await verifyDestination(store, work), 3);
      store.close?.();
    });

    test('refusals leave the destination exactly as it was: lock held, destination newer, a target changed', async () => {
      const repo = await newRepo(['1.0.0']);
      const older = join(work, `older-${n++}`);
      await cp(repo.repoDir, older, { recursive: true });
      await publish(await repo.open(), repo.cwd, [{ version: '1.1.0', files: appFiles('1.1.0') }]);
      const store = await kind.make(`dest-${n++}`);
      await publishRepository({ repoDir: repo.repoDir, store });
      const published = await snapshot(store);
      const lockOptions = { contentType: 'application/json', cacheControl: 'no-store' };

      // Another publish holds the lock.
      const lock = {
        owner: 'ci-42',
        token: 'x',
        created: new Date().toISOString(),
        expires: new Date(Date.now() + 60_000).toISOString(),
      };
      assert.ok(await store.createExclusive(LOCK_KEY, Buffer.from(JSON.stringify(lock)), lockOptions));
      const locked = await snapshot(store);
      await assert.rejects(
        publishRepository({ repoDir: repo.repoDir, store }),
        (e) => isNotsotufError(e, 'STORAGE_LOCKED') && e.message.includes('ci-42'),
      );
      assert.equal(await snapshot(store), locked);
      // An expired lock (a crashed publish) is taken over, and ours is removed at the end.
      await store.delete(LOCK_KEY);
      const expired = { ...lock, expires: new Date(Date.now() - 1000).toISOString() };
      await store.createExclusive(LOCK_KEY, Buffer.from(JSON.stringify(expired)), lockOptions);
      await publishRepository({ repoDir: repo.repoDir, store });
      assert.equal(await snapshot(store), published, 'nothing changed, and no lock is left');

      // The destination is ahead of this (older) copy of the repository.
      await assert.rejects(publishRepository({ repoDir: older, store }), (e) =>
        isNotsotufError(e, 'PUBLISH_CONFLICT'),
      );
      assert.equal(await snapshot(store), published);

      // A published target with other content: never overwritten.
      const archive = (await store.list('targets/')).find((o) => o.key.includes('app-1.0.0.tar.gz'))!.key;
      const other = join(work, `other-${n++}`);
      await writeFile(other, 'not the archive');
      await store.putFile(archive, other, {
        contentType: 'x',
        cacheControl: 'no-cache',
        sha256: '0'.repeat(64),
      });
      const tampered = await snapshot(store);
      await assert.rejects(publishRepository({ repoDir: repo.repoDir, store }), (e) =>
        isNotsotufError(e, 'PUBLISH_CONFLICT'),
      );
      assert.equal(await snapshot(store), tampered);
      store.close?.();
    });

    test('--dry-run lists the uploads and changes nothing', async () => {
      const repo = await newRepo(['1.0.0']);
      const store = await kind.make(`dest-${n++}`);
      const result = await publishRepository({ repoDir: repo.repoDir, store, dryRun: true });
      assert.equal(result.dryRun, true);
      assert.equal(result.uploaded.at(-1), 'metadata/timestamp.json');
      assert.deepEqual(await store.list(''), []);
      store.close?.();
    });
  });
}
