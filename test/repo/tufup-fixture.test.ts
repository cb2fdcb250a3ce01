/**
 * A repository made by the real tufup 0.10 (test/fixtures/tufup-repo-v0.10, copied to a temp dir first): read it,
 * verify it, publish a new release with its own keys, rotate a key — and tuf-js and tufup's config format still
 * accept the result.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Repository } from '../../src/repo/repository.js';
import {
  copyTree,
  copyTufupFixture,
  leftoverTempFiles,
  listDir,
  makeTempDir,
  readJson,
  readSigned,
  sha256File,
  snapshotTree,
  TUFUP_FIXTURE,
} from '../helpers/repo-fixtures.js';
import { assertClientAccepts } from '../helpers/tuf-client.js';

const KEYIDS = {
  root1: '11979dc6ae78d6cda3a6f12f7aed95b6802fac825949036cd6b5862ee1cbad26',
  root2: 'b1854414d5826c04d2b2878493f02204a163249e588578eadca6302321950ff7',
  root3: 'f98250c0f823c49c5235362a7a2fa1fd9218f47fb42c87cf5e7fa1f85899c8d2',
};
const TUFUP_CONFIG_FIELDS = [
  'app_name',
  'app_version_attr',
  'binary_diff',
  'encrypted_keys',
  'expiration_days',
  'key_map',
  'keys_dir',
  'repo_dir',
  'thresholds',
];

describe('tufup 0.10 fixture', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let fx: Awaited<ReturnType<typeof copyTufupFixture>>;
  let originalFixture: Record<string, string>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    originalFixture = await snapshotTree(TUFUP_FIXTURE);
    fx = await copyTufupFixture(join(dir, 'fixture'));
  });
  after(async () => {
    // The checked-in fixture itself is never touched.
    assert.deepEqual(await snapshotTree(TUFUP_FIXTURE), originalFixture);
    await cleanup();
  });

  test('status: root v3, targets v7, four releases (2.0 required, patches), every signature valid', async () => {
    const repo = await Repository.open({ configPath: fx.configPath });
    assert.equal(repo.loaded.flavor, 'tufup');
    const before = await snapshotTree(fx.dir);
    const status = await repo.status();
    assert.equal(status.appName, 'example_app');
    assert.equal(status.consistentSnapshot, false);
    const byRole = Object.fromEntries(status.roles.map((s) => [s.role, s]));
    assert.equal(byRole['root']!.version, 3);
    assert.equal(byRole['targets']!.version, 7);
    assert.equal(byRole['snapshot']!.version, 7);
    assert.equal(byRole['timestamp']!.version, 7);
    for (const role of status.roles) {
      assert.ok(
        role.validSignatures >= role.threshold,
        `${role.role}: ${role.validSignatures}/${role.threshold}`,
      );
      assert.equal(role.expiry, 'ok');
    }
    assert.equal(byRole['root']!.threshold, 2);
    assert.deepEqual(byRole['root']!.keys.map((k) => k.name).sort(), ['root1', 'root3']);
    assert.deepEqual(
      status.releases.map((r) => [r.version, r.required, r.patch?.name]),
      [
        ['1.0', false, undefined],
        ['2.0', true, 'example_app-2.0.patch'],
        ['3.0rc1', false, 'example_app-3.0rc1.patch'],
        ['3.0', false, 'example_app-3.0.patch'],
      ],
    );
    assert.equal(status.releases[0]!.archive?.name, 'example_app-1.0.tar.gz');
    assert.deepEqual(status.warnings, []);
    assert.deepEqual(await snapshotTree(fx.dir), before, 'status writes nothing');
  });

  test('verify: ok, seven targets, root 3', async () => {
    const report = await (await Repository.open({ configPath: fx.configPath })).verify();
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.equal(report.targetsChecked, 7);
    assert.equal(report.rootVersion, 3);
    assert.equal(report.targetsVersion, 7);
  });

  test('release 4.0 from bundles/3.0 with the fixture keys; tuf-js accepts; tufup layout kept', async () => {
    const bundle = join(dir, 'bundle-4.0');
    await copyTree(join(fx.dir, 'bundles', '3.0'), bundle);
    const configBefore = await readFile(fx.configPath);
    const rootFilesBefore = await snapshotTree(fx.metadataDir).then((t) =>
      Object.entries(t).filter(([n]) => n.endsWith('root.json')),
    );
    // Offline root keys are not needed for a release: take them away.
    const vault = join(dir, 'vault');
    await copyTree(fx.keysDir, vault);
    await rm(join(fx.keysDir, 'root1'));
    await rm(join(fx.keysDir, 'root3'));

    const repo = await Repository.open({ configPath: fx.configPath });
    const { release, result } = await repo.addRelease({ bundleDir: bundle, version: '4.0' });
    assert.equal(release.archive.name, 'example_app-4.0.tar.gz');
    assert.deepEqual(
      {
        targets: result.versions.targets,
        snapshot: result.versions.snapshot,
        timestamp: result.versions.timestamp,
      },
      { targets: 8, snapshot: 8, timestamp: 8 },
    );
    assert.equal(result.versions.root, undefined);

    // tufup's layout: plain target names, unversioned targets/snapshot, root files untouched.
    const targets = await listDir(fx.targetsDir);
    assert.ok(targets.includes('example_app-4.0.tar.gz'));
    assert.equal(await sha256File(join(fx.targetsDir, 'example_app-4.0.tar.gz')), release.archive.sha256);
    assert.deepEqual(await leftoverTempFiles(fx.targetsDir), []);
    const metadata = await listDir(fx.metadataDir);
    assert.ok(!metadata.some((n) => /^\d+\.(targets|snapshot)\.json$/.test(n)), metadata.join(' '));
    assert.ok(!metadata.includes('4.root.json'));
    assert.deepEqual(
      await snapshotTree(fx.metadataDir).then((t) =>
        Object.entries(t).filter(([n]) => n.endsWith('root.json')),
      ),
      rootFilesBefore,
    );
    assert.equal((await readSigned(join(fx.metadataDir, 'targets.json'))).version, 8);
    // A release changes no key: the config file is not rewritten at all.
    assert.deepEqual(await readFile(fx.configPath), configBefore);

    const client = await assertClientAccepts(fx.repoDir, join(fx.metadataDir, '1.root.json'), [
      'example_app-4.0.tar.gz',
      'example_app-2.0.tar.gz',
    ]);
    assert.equal(client.rootVersion, 3);
    assert.equal(client.targetsVersion, 8);
    // Exactly tufup's two keys; notsotuf's tar facts inside `tufup`, where tufup's client does not look.
    const custom = client.infos.get('example_app-4.0.tar.gz')!.custom as Record<string, unknown>;
    assert.deepEqual(Object.keys(custom).sort(), ['tufup', 'user']);
    assert.deepEqual(Object.keys(custom['tufup'] as object).sort(), ['notsotuf', 'required']);
    assert.equal((custom['tufup'] as { required: unknown }).required, false);
    // tufup's own entries are kept as tufup wrote them.
    const fixtureTargets = (await readSigned(join(TUFUP_FIXTURE, 'repository', 'metadata', 'targets.json')))[
      'targets'
    ] as Record<string, unknown>;
    const newTargets = (await readSigned(join(fx.metadataDir, 'targets.json')))['targets'] as Record<
      string,
      unknown
    >;
    for (const [name, entry] of Object.entries(fixtureTargets))
      assert.deepEqual(newTargets[name], entry, name);

    await copyTree(vault, fx.keysDir); // the root keys come back for the next test
  });

  test('replaceKey snapshot → snapshot2: root 4 by root1 + root3, config keeps tufup shape', async () => {
    const repo = await Repository.open({ configPath: fx.configPath });
    const result = await repo.replaceKey('snapshot', 'snapshot2');
    assert.equal(result.versions.root, 4);

    const config = await readJson(fx.configPath);
    assert.deepEqual(Object.keys(config).sort(), TUFUP_CONFIG_FIELDS);
    const original = await readJson(join(TUFUP_FIXTURE, '.tufup-repo-config'));
    for (const field of ['app_name', 'app_version_attr', 'binary_diff', 'encrypted_keys', 'expiration_days'])
      assert.deepEqual(config[field], original[field], field);
    assert.deepEqual(config['thresholds'], original['thresholds']);
    assert.equal(config['keys_dir'], 'keystore');
    assert.equal(config['repo_dir'], 'repository');
    assert.deepEqual(config['key_map'], {
      ...(original['key_map'] as object),
      snapshot: ['snapshot2'],
    });
    // The new key is plain (tufup's encrypted_keys is empty), in tufup's key directory.
    assert.ok((await listDir(fx.keysDir)).includes('snapshot2'));
    assert.equal((await repo.keystore.get('snapshot2')).encrypted, false);

    // 4.root.json: root threshold 2 met by root1 + root3 under both root 3 and root 4.
    const root4 = await readJson<{ signatures: { keyid: string }[]; signed: { version: number } }>(
      join(fx.metadataDir, '4.root.json'),
    );
    assert.equal(root4.signed.version, 4);
    const signers = root4.signatures.map((s) => s.keyid).sort();
    assert.ok(signers.includes(KEYIDS.root1) && signers.includes(KEYIDS.root3), signers.join(' '));
    assert.ok(!signers.includes(KEYIDS.root2));
    assert.deepEqual(
      await readFile(join(fx.metadataDir, 'root.json')),
      await readFile(join(fx.metadataDir, '4.root.json')),
    );

    const client = await assertClientAccepts(fx.repoDir, join(fx.metadataDir, '1.root.json'), [
      'example_app-4.0.tar.gz',
    ]);
    assert.equal(client.rootVersion, 4);
    assert.deepEqual(
      client.requests.filter((p) => p.endsWith('root.json')),
      ['/metadata/2.root.json', '/metadata/3.root.json', '/metadata/4.root.json', '/metadata/5.root.json'],
    );
    // Still readable as a tufup config, and the repository verifies.
    const reopened = await Repository.open({ configPath: fx.configPath });
    assert.equal(reopened.loaded.flavor, 'tufup');
    const report = await reopened.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.rootVersion, 4);
  });
});
