/**
 * `notsotuf publish` end to end on real stores: a directory, and an rclone `local` remote run through the real
 * rclone binary (Debian's; the test reports itself skipped, with the reason, when rclone is missing). After each
 * publish the destination is loaded as a client would (verifyRepository: tuf-js, every target hashed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { verifyRepository } from '../../src/repo/verify.js';
import { DirStore } from '../../src/storage/dir-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { publishRepository } from '../../src/storage/publish.js';
import { LOCK_KEY } from '../../src/storage/publish-lock.js';
import { phaseOf } from '../../src/storage/publish-plan.js';
import { RcloneStore } from '../../src/storage/rclone-store.js';
import { appFiles, publish } from '../helpers/client-fixtures.js';
import { createTestRepo, makeTempDir, snapshotTree, type TestRepo } from '../helpers/repo-fixtures.js';

function hasRclone(): boolean {
  try {
    execFileSync('rclone', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let work: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: work, cleanup } = await makeTempDir('notsotuf-publish-'));
});
after(() => cleanup());

interface StoreKind {
  readonly name: string;
  readonly skip: string | false;
  /** A fresh store over a fresh local directory (what a client would be served from). */
  make(dir: string): Promise<ObjectStore>;
}

const kinds: StoreKind[] = [
  { name: 'dir:', skip: false, make: async (dir) => new DirStore(dir) },
  {
    name: 'rclone: (local remote, real rclone)',
    skip: hasRclone() ? false : 'rclone not installed (apt-get install -y rclone)',
    make: async (dir) => {
      const config = join(dir, '..', `${join(dir).split('/').pop()}.rclone.conf`);
      await writeFile(config, '[dest]\ntype = local\n');
      process.env['RCLONE_CONFIG'] = config;
      return new RcloneStore('dest', dir);
    },
  },
];

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

for (const kind of kinds) {
  describe(`publish to ${kind.name}`, { skip: kind.skip }, () => {
    test('targets first, versioned metadata in role order, timestamp.json last; the destination verifies', async () => {
      const repo = await newRepo(['1.0.0']);
      const dest = join(work, `dest-${n++}`);
      const store = await kind.make(dest);
      const order: string[] = [];
      const result = await publishRepository({
        repoDir: repo.repoDir,
        store,
        onProgress: (e) => {
          if (e.done < e.total) order.push(e.key);
        },
      });
      assert.deepEqual(order, result.uploaded);
      assert.equal(order.at(-1), 'metadata/timestamp.json');
      const phases = order.map((k) => phaseOf(k));
      assert.deepEqual(
        phases,
        [...phases].sort(
          (a, b) =>
            ['targets', 'versioned-metadata', 'metadata', 'timestamp'].indexOf(a!) -
            ['targets', 'versioned-metadata', 'metadata', 'timestamp'].indexOf(b!),
        ),
        'phases in order',
      );
      const versioned = order.filter((k) => phaseOf(k) === 'versioned-metadata');
      assert.ok(versioned.indexOf('metadata/1.root.json') < versioned.indexOf('metadata/1.snapshot.json'));
      const report = await verifyRepository(dest);
      assert.ok(report.ok, JSON.stringify(report.problems));
      assert.equal(report.targetsChecked, 1);
    });

    test('a second publish uploads nothing; a new release uploads only what changed, timestamp last', async () => {
      const repo = await newRepo(['1.0.0']);
      const dest = join(work, `dest-${n++}`);
      const store = await kind.make(dest);
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
      const report = await verifyRepository(dest);
      assert.ok(report.ok, JSON.stringify(report.problems));
      assert.equal(report.targetsChecked, 3);
    });

    test('refusals leave the destination exactly as it was: lock held, destination newer, a target changed', async () => {
      const repo = await newRepo(['1.0.0']);
      const older = join(work, `older-${n++}`);
      await cp(repo.repoDir, older, { recursive: true });
      await publish(await repo.open(), repo.cwd, [{ version: '1.1.0', files: appFiles('1.1.0') }]);
      const dest = join(work, `dest-${n++}`);
      const store = await kind.make(dest);
      await publishRepository({ repoDir: repo.repoDir, store });
      const before = await snapshotTree(dest);

      // Another publish holds the lock.
      await mkdir(dest, { recursive: true });
      const lock = {
        owner: 'ci-42',
        token: 'x',
        created: new Date().toISOString(),
        expires: new Date(Date.now() + 60_000).toISOString(),
      };
      await writeFile(join(dest, LOCK_KEY), JSON.stringify(lock));
      await assert.rejects(
        publishRepository({ repoDir: repo.repoDir, store }),
        (e) => isNotsotufError(e, 'STORAGE_LOCKED') && e.message.includes('ci-42'),
      );
      // An expired lock (a crashed publish) is taken over.
      await writeFile(
        join(dest, LOCK_KEY),
        JSON.stringify({ ...lock, expires: new Date(Date.now() - 1000).toISOString() }),
      );
      await publishRepository({ repoDir: repo.repoDir, store });
      assert.deepEqual(await snapshotTree(dest), before, 'nothing changed, and the lock is gone');

      // The destination is ahead of this (older) copy of the repository.
      await assert.rejects(publishRepository({ repoDir: older, store }), (e) =>
        isNotsotufError(e, 'PUBLISH_CONFLICT'),
      );
      assert.deepEqual(await snapshotTree(dest), before);

      // A published target with other content: never overwritten.
      const target = Object.keys(before).find((k) => k.includes('app-1.0.0.tar.gz'))!;
      const tampered = join(dest, target);
      const original = await readFile(tampered);
      await writeFile(tampered, Buffer.concat([original.subarray(1), Buffer.from('x')]));
      const tamperedTree = await snapshotTree(dest);
      await assert.rejects(publishRepository({ repoDir: repo.repoDir, store }), (e) =>
        isNotsotufError(e, 'PUBLISH_CONFLICT'),
      );
      assert.deepEqual(await snapshotTree(dest), tamperedTree);
      await writeFile(tampered, original);
    });

    test('--dry-run lists the uploads and changes nothing', async () => {
      const repo = await newRepo(['1.0.0']);
      const dest = join(work, `dest-${n++}`);
      const store = await kind.make(dest);
      const result = await publishRepository({ repoDir: repo.repoDir, store, dryRun: true });
      assert.equal(result.dryRun, true);
      assert.equal(result.uploaded.at(-1), 'metadata/timestamp.json');
      assert.deepEqual(await snapshotTree(dest).catch(() => ({})), {});
    });
  });
}
