/**
 * The real stores publish tests run against, set up once per test file: a directory; an rclone `local` remote
 * through the real rclone binary; a real S3-compatible server (OpenStack Swift with s3api, started here) through
 * the S3 store and through an rclone S3 remote. A kind whose parts are missing carries its skip reason
 * (.ci/run installs them).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { verifyRepository } from '../../src/repo/verify.js';
import { DirStore } from '../../src/storage/dir-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { RcloneStore } from '../../src/storage/rclone-store.js';
import { S3Store } from '../../src/storage/s3-store.js';
import { makeTempDir } from './repo-fixtures.js';
import { type SwiftServer, startSwift, swiftMissing } from './swift-server.js';

export function rcloneMissing(): string | false {
  try {
    execFileSync('rclone', ['version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'rclone not installed (apt-get install -y rclone)';
  }
}

export const BUCKET = 'repos';

export interface StoreKind {
  readonly name: string;
  readonly skip: string | false;
  make(id: string): Promise<ObjectStore>;
  /** For S3 kinds: Cache-Control and Content-Type as a CDN would get them. */
  readonly headers?: (id: string, key: string) => Promise<{ cacheControl?: string; contentType?: string }>;
}

export interface StoreEnv {
  /** A temp dir for the test file (removed by stop()). */
  readonly work: string;
  readonly swift: SwiftServer | undefined;
  /** The S3 store for a prefix of the bucket (Swift must be running). */
  s3For(prefix?: string): Promise<S3Store>;
  /** Cache-Control and Content-Type of an object under the bucket, as a CDN would get them. */
  s3Headers(id: string, key: string): Promise<{ cacheControl?: string; contentType?: string }>;
  stop(): Promise<void>;
}

/**
 * The four kinds, with their skip reasons decided now (describe() needs them before `before` runs); `env` is
 * read when a store is made.
 */
export function storeKinds(env: () => StoreEnv): StoreKind[] {
  const noSwift = swiftMissing();
  const noRclone = rcloneMissing();
  return [
    { name: 'dir:', skip: false, make: async (id) => new DirStore(join(env().work, id)) },
    {
      name: 'rclone: local remote (real rclone)',
      skip: noRclone,
      make: async (id) => new RcloneStore('loc', join(env().work, id)),
    },
    {
      name: 's3:// on OpenStack Swift (s3api)',
      skip: noSwift,
      make: (id) => env().s3For(id),
      headers: (id, key) => env().s3Headers(id, key),
    },
    {
      name: 'rclone: S3 remote on OpenStack Swift',
      skip: noSwift || noRclone,
      make: async (id) => new RcloneStore('swift', `${BUCKET}/${id}`),
      headers: (id, key) => env().s3Headers(id, key),
    },
  ];
}

async function s3Client(swift: SwiftServer) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: swift.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
  });
}

/** Starts what the kinds need (Swift when installed, with the bucket created; an rclone config). */
export async function startStoreEnv(prefix: string): Promise<StoreEnv> {
  const { dir: work, cleanup } = await makeTempDir(prefix);
  const rcloneConf = join(work, 'rclone.conf');
  await writeFile(rcloneConf, '[loc]\ntype = local\n');
  process.env['RCLONE_CONFIG'] = rcloneConf;
  const noSwift = swiftMissing();
  let swift: SwiftServer | undefined;
  if (!noSwift) {
    swift = await startSwift();
    try {
      const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
      const client = await s3Client(swift);
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      client.destroy();
    } catch (err) {
      // Stop what this started, or the test process would never exit.
      await swift.stop();
      await cleanup();
      throw err;
    }
    await writeFile(
      rcloneConf,
      `[loc]\ntype = local\n\n[swift]\ntype = s3\nprovider = Other\naccess_key_id = ${swift.accessKeyId}\n` +
        `secret_access_key = ${swift.secretAccessKey}\nendpoint = ${swift.endpoint}\nregion = us-east-1\n` +
        'force_path_style = true\nno_check_bucket = true\n',
    );
  }
  const s3For = (prefix = '') =>
    S3Store.open(BUCKET, prefix, {
      endpoint: swift!.endpoint,
      credentials: { accessKeyId: swift!.accessKeyId, secretAccessKey: swift!.secretAccessKey },
    });
  const s3Headers = async (id: string, key: string) => {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const client = await s3Client(swift!);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${id}/${key}` }));
    client.destroy();
    return {
      ...(head.CacheControl ? { cacheControl: head.CacheControl } : {}),
      ...(head.ContentType ? { contentType: head.ContentType } : {}),
    };
  };
  return {
    work,
    swift,
    s3For,
    s3Headers,
    stop: async () => {
      await swift?.stop();
      await cleanup();
    },
  };
}

/**
 * Downloads what clients read from `store` (metadata/ and targets/) into a new directory under `work` and checks
 * it as a client would; returns how many targets were checked.
 */
export async function verifyDestination(store: ObjectStore, work: string): Promise<number> {
  const local = await mkdtemp(join(work, 'check-'));
  for (const o of await store.list('')) {
    if (!o.key.startsWith('metadata/') && !o.key.startsWith('targets/')) continue;
    await mkdir(dirname(join(local, o.key)), { recursive: true });
    assert.ok(await store.getFile(o.key, join(local, o.key)));
  }
  const report = await verifyRepository(local);
  assert.ok(report.ok, JSON.stringify(report.problems));
  return report.targetsChecked;
}
