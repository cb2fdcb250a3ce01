/**
 * Key changes publish new root versions that real clients follow: a client trusting only 1.root.json walks every
 * N.root.json, and a client with cached metadata follows each change as it is published.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Repository } from '../../src/repo/repository.js';
import {
  createTestRepo,
  listDir,
  makeTempDir,
  readJson,
  readSigned,
  type TestRepo,
  writeBundle,
} from '../helpers/repo-fixtures.js';
import {
  assertClientAccepts,
  createTufClient,
  type RepoServer,
  startRepoServer,
  type TufClient,
} from '../helpers/tuf-client.js';

interface RootSigned {
  version: number;
  keys: Record<string, unknown>;
  roles: Record<string, { keyids: string[]; threshold: number }>;
}

async function keyid(repo: Repository, name: string): Promise<string> {
  return (await repo.keystore.get(name)).keyid;
}

/** key_map with each list sorted (a replaced key keeps its position, so order is not part of the contract). */
function sortedMap(map: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(map).map(([role, names]) => [role, [...names].sort()]));
}

async function signatureKeyids(path: string): Promise<string[]> {
  const md = await readJson<{ signatures: { keyid: string }[] }>(path);
  return md.signatures.map((s) => s.keyid).sort();
}

describe('key rotation', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let r: TestRepo;
  let server: RepoServer;
  let cached: TufClient;
  let late: TufClient;
  const archive = 'app-1.0.0.tar.gz';

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    r = await createTestRepo(join(dir, 'repo'));
    await (await r.open()).addRelease({ bundleDir: await writeBundle(join(dir, 'b')), version: '1.0.0' });
    server = await startRepoServer(r.repoDir);
    // A client that keeps its metadata cache across publishes.
    cached = await createTufClient(server, join(r.metadataDir, '1.root.json'));
    assert.equal((await cached.check([archive])).rootVersion, 1);
    // A client that cached root 1 and its metadata, then stays away until every rotation is done.
    late = await createTufClient(server, join(r.metadataDir, '1.root.json'));
    assert.equal((await late.check([archive])).rootVersion, 1);
  });
  after(async () => {
    await cached?.cleanup();
    await late?.cleanup();
    await server?.close();
    await cleanup();
  });

  test('timestamp key replaced, root key added, root threshold raised, root key rotated', async () => {
    // Each step opens the repository afresh, as separate CLI runs would.
    const steps: [string, (repo: Repository) => Promise<unknown>][] = [
      ['replace timestamp → timestamp2', (repo) => repo.replaceKey('timestamp', 'timestamp2')],
      [
        'add root2 to root',
        async (repo) => {
          await repo.createKey('root2');
          return repo.addKey('root', 'root2');
        },
      ],
      ['root threshold 2', (repo) => repo.setThreshold('root', 2)],
      ['replace root → root3', (repo) => repo.replaceKey('root', 'root3')],
    ];
    let expected = 1;
    for (const [what, step] of steps) {
      const result = (await step(await r.open())) as { versions: Record<string, number> };
      expected++;
      assert.equal(result.versions['root'], expected, `${what}: root version`);
      assert.equal(result.versions['targets'], undefined, `${what}: targets role unchanged, not re-signed`);
      const seen = await cached.check([archive]);
      assert.equal(seen.rootVersion, expected, `${what}: the caching client follows`);
      assert.ok(seen.requests.includes(`/metadata/${expected}.root.json`));
    }

    const repo = await r.open();
    const root = (await readSigned(join(r.metadataDir, 'root.json'))) as unknown as RootSigned;
    assert.equal(root.version, 5);
    assert.equal(root.roles['root']!.threshold, 2);
    assert.deepEqual(
      [...root.roles['root']!.keyids].sort(),
      [await keyid(repo, 'root2'), await keyid(repo, 'root3')].sort(),
    );
    assert.deepEqual(root.roles['timestamp']!.keyids, [await keyid(repo, 'timestamp2')]);
    // Keys no role uses any more leave root.json.
    assert.ok(!((await keyid(repo, 'root')) in root.keys));
    assert.ok(!((await keyid(repo, 'timestamp')) in root.keys));
    // 5.root.json carries a threshold of the previous root's keys (root, root2) and of its own (root2, root3).
    assert.deepEqual(
      await signatureKeyids(join(r.metadataDir, '5.root.json')),
      [await keyid(repo, 'root'), await keyid(repo, 'root2'), await keyid(repo, 'root3')].sort(),
    );

    // Every version is on disk and root.json is the latest.
    const files = await listDir(r.metadataDir);
    for (let v = 1; v <= 5; v++) assert.ok(files.includes(`${v}.root.json`), `${v}.root.json exists`);
    assert.ok(!files.includes('6.root.json'));
    assert.deepEqual(
      await readFile(join(r.metadataDir, 'root.json')),
      await readFile(join(r.metadataDir, '5.root.json')),
    );

    // A new client that only trusts 1.root.json walks the whole chain and stops at the 404 for 6.root.json.
    const fresh = await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [archive]);
    assert.equal(fresh.rootVersion, 5);
    assert.deepEqual(
      fresh.requests.filter((p) => p.endsWith('.root.json')),
      [2, 3, 4, 5, 6].map((v) => `/metadata/${v}.root.json`),
    );

    const lateSeen = await late.check([archive]);
    assert.equal(lateSeen.rootVersion, 5);
    assert.deepEqual(
      lateSeen.requests.filter((p) => p.endsWith('.root.json')),
      [2, 3, 4, 5, 6].map((v) => `/metadata/${v}.root.json`),
    );

    // The config names the keys and thresholds, as the next run reads them.
    const reopened = await r.open();
    assert.deepEqual(sortedMap(reopened.loaded.config.key_map), {
      root: ['root2', 'root3'],
      targets: ['targets'],
      snapshot: ['snapshot'],
      timestamp: ['timestamp2'],
    });
    assert.deepEqual(reopened.loaded.config.thresholds, { root: 2, targets: 1, snapshot: 1, timestamp: 1 });
    const status = await reopened.status();
    for (const role of status.roles) assert.ok(role.validSignatures >= role.threshold, `${role.role} signed`);
    const verify = await reopened.verify();
    assert.equal(verify.ok, true, JSON.stringify(verify.problems));
    assert.equal(verify.rootVersion, 5);
  });

  test('replacing the targets key re-signs targets with the new key', async () => {
    const repo = await r.open();
    const before = await readSigned(join(r.metadataDir, 'targets.json'));
    const result = await repo.replaceKey('targets', 'targets2');
    assert.equal(result.versions.root, 6);
    assert.equal(result.versions.targets, before.version + 1);
    const latest = await readSigned(join(r.metadataDir, 'targets.json'));
    assert.equal(latest.version, before.version + 1);
    assert.deepEqual(latest['targets'], before['targets'], 'same targets, new signature');
    assert.deepEqual(await signatureKeyids(join(r.metadataDir, 'targets.json')), [
      await keyid(repo, 'targets2'),
    ]);
    assert.deepEqual((await r.open()).loaded.config.key_map.targets, ['targets2']);

    const seen = await cached.check([archive]);
    assert.equal(seen.rootVersion, 6);
    assert.equal(seen.targetsVersion, latest.version);
    const fresh = await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [archive]);
    assert.equal(fresh.rootVersion, 6);

    // The old targets key no longer counts: a release signed only by it would not be accepted.
    const again = await r.open();
    const added = await again.addRelease({
      bundleDir: await writeBundle(join(dir, 'b2'), { 'v.txt': '2\n' }),
      version: '2.0.0',
    });
    assert.deepEqual(added.result.signing.find((s) => s.role === 'targets')?.missing, []);
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [archive, 'app-2.0.0.tar.gz']);
  });
});

describe('key changes: config persistence and re-signing', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('several key changes through one Repository object all persist in the config', async () => {
    const r = await createTestRepo(join(dir, 'repo'));
    const repo = await r.open();
    await repo.replaceKey('timestamp', 'timestamp2');
    await repo.createKey('root2');
    await repo.addKey('root', 'root2');
    await repo.setThreshold('root', 2);

    const root = (await readSigned(join(r.metadataDir, 'root.json'))) as unknown as RootSigned;
    assert.equal(root.version, 4);
    assert.deepEqual(root.roles['timestamp']!.keyids, [await keyid(repo, 'timestamp2')]);
    const config = await readJson<{ key_map: Record<string, string[]>; thresholds: Record<string, number> }>(
      r.init.configPath,
    );
    // root.json and the config must agree: the config is what names the keys on the next run.
    assert.deepEqual(sortedMap(config.key_map), {
      root: ['root', 'root2'],
      targets: ['targets'],
      snapshot: ['snapshot'],
      timestamp: ['timestamp2'],
    });
    assert.deepEqual(config.thresholds, { root: 2, targets: 1, snapshot: 1, timestamp: 1 });
    // And the next run can open the repository at all.
    const reopened = await r.open();
    assert.deepEqual(reopened.loaded.config.key_map.root, ['root', 'root2']);
  });

  test('adding a key to the targets role re-signs targets (its keys changed), with the new key too', async () => {
    const r = await createTestRepo(join(dir, 'add-targets'));
    const repo = await r.open();
    await repo.createKey('targets2');
    const result = await (await r.open()).addKey('targets', 'targets2');
    assert.equal(result.versions.root, 2);
    // key-ops.ts: "When the targets role's keys or threshold change, targets is re-signed too".
    assert.equal(result.versions.targets, 2);
    assert.deepEqual(
      await signatureKeyids(join(r.metadataDir, 'targets.json')),
      [await keyid(repo, 'targets'), await keyid(repo, 'targets2')].sort(),
    );
  });
});
