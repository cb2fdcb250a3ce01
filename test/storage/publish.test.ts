/**
 * `notsotuf publish` end to end on real stores: a directory; an rclone `local` remote through the real rclone
 * binary; a real S3-compatible server (OpenStack Swift with s3api, started by this file) through the S3 store and
 * through an rclone S3 remote. Each kind reports itself skipped, with the reason, when its parts are missing
 * (.ci/run installs them). After each publish the destination is downloaded and loaded as a client would load it
 * (verifyRepository: tuf-js from the first root, every target hashed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { verifyRepository } from '../../src/repo/verify.js';
import { DirStore } from '../../src/storage/dir-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { publishRepository } from '../../src/storage/publish.js';
import { LOCK_KEY } from '../../src/storage/publish-lock.js';
import { PHASES, phaseOf } from '../../src/storage/publish-plan.js';
import { RcloneStore } from '../../src/storage/rclone-store.js';
import { S3Store } from '../../src/storage/s3-store.js';
import { appFiles, publish } from '../helpers/client-fixtures.js';
import { createTestRepo, makeTempDir, type TestRepo } from '../helpers/repo-fixtures.js';
import { type SwiftServer, startSwift, swiftMissing } from '../helpers/swift-server.js';

function hasRclone(): string | false {
  try {
    execFileSync('rclone', ['version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'rclone not installed (apt-get install -y rclone)';
  }
}

const BUCKET = 'repos';
let work: string;
let cleanup: () => Promise<void>;
let swift: SwiftServer | undefined;
const noSwift = swiftMissing();

before(async () => {
  ({ dir: work, cleanup } = await makeTempDir('notsotuf-publish-'));
  await writeFile(join(work, 'rclone.conf'), '[loc]\ntype = local\n');
  process.env['RCLONE_CONFIG'] = join(work, 'rclone.conf');
  if (noSwift) return;
  swift = await startSwift();
  const s3 = await s3For();
  await s3.createBucket();
  await writeFile(
    join(work, 'rclone.conf'),
    `[loc]\ntype = local\n\n[swift]\ntype = s3\nprovider = Other\naccess_key_id = ${swift.accessKeyId}\n` +
      `secret_access_key = ${swift.secretAccessKey}\nendpoint = ${swift.endpoint}\nregion = us-east-1\n` +
      'force_path_style = true\nno_check_bucket = true\n',
  );
});
after(async () => {
  await swift?.stop();
  await cleanup();
});

async function s3For(prefix = ''): Promise<S3Store & { createBucket(): Promise<void> }> {
  const store = await S3Store.open(BUCKET, prefix, {
    endpoint: swift!.endpoint,
    credentials: { accessKeyId: swift!.accessKeyId, secretAccessKey: swift!.secretAccessKey },
  });
  return Object.assign(store, {
    createBucket: async () => {
      const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
      const client = new S3Client({
        endpoint: swift!.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: swift!.accessKeyId, secretAccessKey: swift!.secretAccessKey },
      });
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      client.destroy();
    },
  });
}

interface StoreKind {
  readonly name: string;
  readonly skip: string | false;
  make(id: string): Promise<ObjectStore>;
  /** For S3 kinds: Cache-Control and Content-Type as a CDN would get them. */
  readonly headers?: (id: string, key: string) => Promise<{ cacheControl?: string; contentType?: string }>;
}

async function s3Headers(id: string, key: string) {
  const { S3Client, HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: swift!.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: swift!.accessKeyId, secretAccessKey: swift!.secretAccessKey },
  });
  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${id}/${key}` }));
  client.destroy();
  return {
    ...(head.CacheControl ? { cacheControl: head.CacheControl } : {}),
    ...(head.ContentType ? { contentType: head.ContentType } : {}),
  };
}

const kinds: StoreKind[] = [
  { name: 'dir:', skip: false, make: async (id) => new DirStore(join(work, id)) },
  {
    name: 'rclone: local remote (real rclone)',
    skip: hasRclone(),
    make: async (id) => new RcloneStore('loc', join(work, id)),
  },
  {
    name: 's3:// on OpenStack Swift (s3api)',
    skip: noSwift,
    make: (id) => s3For(id),
    headers: s3Headers,
  },
  {
    name: 'rclone: S3 remote on OpenStack Swift',
    skip: noSwift || hasRclone(),
    make: async (id) => new RcloneStore('swift', `${BUCKET}/${id}`),
    headers: s3Headers,
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

/** Downloads everything clients read from `store` and loads it as a client would. */
async function verifyDestination(store: ObjectStore, targets: number): Promise<void> {
  const local = join(work, `check-${n++}`);
  for (const o of await store.list('')) {
    if (!o.key.startsWith('metadata/') && !o.key.startsWith('targets/')) continue;
    await mkdir(dirname(join(local, o.key)), { recursive: true });
    assert.ok(await store.getFile(o.key, join(local, o.key)));
  }
  const report = await verifyRepository(local);
  assert.ok(report.ok, JSON.stringify(report.problems));
  assert.equal(report.targetsChecked, targets);
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
      const result = await publishRepository({
        repoDir: repo.repoDir,
        store,
        onProgress: (e) => {
          if (e.done < e.total) order.push(e.key);
        },
      });
      assert.deepEqual(order, result.uploaded);
      assert.equal(order.at(-1), 'metadata/timestamp.json');
      const phases = order.map((k) => PHASES.indexOf(phaseOf(k)!));
      assert.deepEqual(phases, [...phases].sort(), 'phases in order');
      assert.ok(order.indexOf('metadata/1.root.json') < order.indexOf('metadata/1.snapshot.json'));
      await verifyDestination(store, 1);
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
      await verifyDestination(store, 3);
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
