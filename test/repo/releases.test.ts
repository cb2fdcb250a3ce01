/**
 * Releases: version rules, semver normalisation, platform chains, removing and pruning, and the grouping that
 * status and clients rely on. Every state is checked with a real tuf-js client.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Repository } from '../../src/repo/repository.js';
import {
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

async function targetNames(r: TestRepo): Promise<string[]> {
  return Object.keys((await readSigned(join(r.metadataDir, 'targets.json')))['targets'] as object).sort();
}

/** Archive names per app, in version order, from `repo.releases()`. */
async function grouped(repo: Repository): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [app, list] of await repo.releases()) out[app] = list.map((rel) => rel.version.normalized);
  return out;
}

describe('releases', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let r: TestRepo;
  let bundleN = 0;
  const bundle = () => writeBundle(join(dir, `bundle-${bundleN}`), { 'v.txt': `${bundleN++}\n` });

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    r = await createTestRepo(join(dir, 'repo'));
    await (await r.open()).addRelease({ bundleDir: await bundle(), version: '1.0.0' });
  });
  after(() => cleanup());

  test('version rules: invalid, lower, equal are refused without a trace', async () => {
    const repo = await r.open();
    const before = await snapshotTree(r.cwd);
    const b = await bundle();
    await expectCode(repo.addRelease({ bundleDir: b, version: '1.0.0.x' }), 'VERSION_INVALID');
    await expectCode(repo.addRelease({ bundleDir: b, version: '0.9.0' }), 'VERSION_NOT_NEWER');
    await expectCode(repo.addRelease({ bundleDir: b, version: '1.0.0' }), 'RELEASE_EXISTS');
    // Equal after normalisation is equal: 1.0 and v1.0.0 are the same PEP 440 version as 1.0.0.
    await expectCode(repo.addRelease({ bundleDir: b, version: 'v1.0.0' }), 'RELEASE_EXISTS');
    await expectCode(repo.addRelease({ bundleDir: b, version: '1.0' }), 'RELEASE_EXISTS');
    assert.deepEqual(await snapshotTree(r.cwd), before);
    assert.deepEqual(await leftoverTempFiles(r.targetsDir), []);
  });

  test('semver input is normalised to PEP 440 in the target name', async () => {
    const repo = await r.open();
    const { release } = await repo.addRelease({ bundleDir: await bundle(), version: '2.0.0-rc.1' });
    assert.equal(release.version, '2.0.0rc1');
    assert.equal(release.archive.name, 'app-2.0.0rc1.tar.gz');
    assert.ok((await targetNames(r)).includes('app-2.0.0rc1.tar.gz'));
    // The final release sorts above its candidate; the candidate is now below and refused again.
    await repo.addRelease({ bundleDir: await bundle(), version: '2.0.0' });
    await expectCode(repo.addRelease({ bundleDir: await bundle(), version: '2.0.0rc1' }), 'RELEASE_EXISTS');
    await expectCode(
      repo.addRelease({ bundleDir: await bundle(), version: '2.0.0-beta.1' }),
      'VERSION_NOT_NEWER',
    );
    assert.deepEqual(await grouped(repo), { app: ['1.0.0', '2.0.0rc1', '2.0.0'] });
  });

  test('platforms: a separate release chain per <app>-<os>-<arch>', async () => {
    const repo = await r.open();
    // app is at 2.0.0; the linux-x64 chain is empty, so 1.0.0 is new there.
    const { release } = await repo.addRelease({
      bundleDir: await bundle(),
      version: '1.0.0',
      platform: 'linux-x64',
    });
    assert.equal(release.app, 'app-linux-x64');
    assert.equal(release.archive.name, 'app-linux-x64-1.0.0.tar.gz');
    await expectCode(
      repo.addRelease({ bundleDir: await bundle(), version: '0.5.0', platform: 'linux-x64' }),
      'VERSION_NOT_NEWER',
    );
    await expectCode(
      repo.addRelease({ bundleDir: await bundle(), version: '1.0.0', platform: 'Linux_x64' }),
      'PLATFORM_INVALID',
    );
    await repo.addRelease({
      bundleDir: await bundle(),
      version: '1.1.0',
      platform: 'linux-x64',
      required: true,
    });

    const releases = await repo.releases();
    assert.deepEqual([...releases.keys()].sort(), ['app', 'app-linux-x64']);
    assert.deepEqual(await grouped(repo), {
      app: ['1.0.0', '2.0.0rc1', '2.0.0'],
      'app-linux-x64': ['1.0.0', '1.1.0'],
    });
    const linux = releases.get('app-linux-x64')!;
    assert.deepEqual(
      linux.map((rel) => [rel.required, rel.archive?.name]),
      [
        [false, 'app-linux-x64-1.0.0.tar.gz'],
        [true, 'app-linux-x64-1.1.0.tar.gz'],
      ],
    );
    const status = await repo.status();
    assert.deepEqual(
      status.releases.map((s) => `${s.app} ${s.version}${s.required ? ' required' : ''}`),
      ['app 1.0.0', 'app 2.0.0rc1', 'app 2.0.0', 'app-linux-x64 1.0.0', 'app-linux-x64 1.1.0 required'],
    );
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [
      'app-2.0.0.tar.gz',
      'app-linux-x64-1.0.0.tar.gz',
      'app-linux-x64-1.1.0.tar.gz',
    ]);
  });

  test('removeRelease of a middle release: its files go, the others still verify', async () => {
    const repo = await r.open();
    const before = await repo.releases();
    const rc = before.get('app')!.find((rel) => rel.version.normalized === '2.0.0rc1')!;
    const rcFiles = [rc.archive, rc.patch].filter((f) => f !== undefined).map((f) => `${f.sha256}.${f.name}`);
    assert.ok(rcFiles.length >= 1);
    for (const f of rcFiles) assert.ok((await listDir(r.targetsDir)).includes(f), `${f} is there first`);

    const result = await repo.removeRelease('2.0.0-rc.1');
    assert.equal(result.staged, false);
    assert.deepEqual(result.removeFailures, []);
    const files = await listDir(r.targetsDir);
    for (const f of rcFiles) assert.ok(!files.includes(f), `${f} removed`);
    assert.ok(!(await targetNames(r)).some((n) => n.startsWith('app-2.0.0rc1')));
    assert.deepEqual((await grouped(repo))['app'], ['1.0.0', '2.0.0']);
    await expectCode(repo.removeRelease('2.0.0rc1'), 'RELEASE_NOT_FOUND');
    await expectCode(repo.removeRelease('not a version'), 'VERSION_INVALID');

    // Every remaining target is still on disk and downloads through tuf-js.
    const remaining = (await targetNames(r)).filter((n) => n.endsWith('.tar.gz'));
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), remaining);
    const report = await repo.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.targetsChecked, (await targetNames(r)).length);
  });

  test('pruneReleases(1) keeps the newest release of the app only; other chains stay', async () => {
    const repo = await r.open();
    await repo.addRelease({ bundleDir: await bundle(), version: '3.0.0' });
    const result = await repo.pruneReleases(1);
    assert.ok(result && !result.staged);
    assert.deepEqual(await grouped(repo), { app: ['3.0.0'], 'app-linux-x64': ['1.0.0', '1.1.0'] });
    // Nothing left to prune: no new version.
    const targetsVersion = (await readSigned(join(r.metadataDir, 'targets.json'))).version;
    assert.equal(await repo.pruneReleases(1), undefined);
    assert.equal((await readSigned(join(r.metadataDir, 'targets.json'))).version, targetsVersion);
    await expectCode(repo.pruneReleases(0), 'INVALID_ARGUMENT');

    await repo.pruneReleases(1, { platform: 'linux-x64' });
    assert.deepEqual(await grouped(repo), { app: ['3.0.0'], 'app-linux-x64': ['1.1.0'] });

    // The targets directory holds exactly the files the metadata lists (plus nothing temporary).
    const listed = await repo.releases();
    const expected = [...listed.values()]
      .flat()
      .flatMap((rel) => [rel.archive, rel.patch])
      .filter((f) => f !== undefined)
      .map((f) => `${f.sha256}.${f.name}`)
      .sort();
    assert.deepEqual(await listDir(r.targetsDir), expected);

    const report = await repo.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [
      'app-3.0.0.tar.gz',
      'app-linux-x64-1.1.0.tar.gz',
    ]);
  });
});
