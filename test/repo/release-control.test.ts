/**
 * Release control on the publisher's side, with the real repository: maintenance releases (accepted below the
 * latest only when asked, patched from their own line) and policy changes (a new signed targets version that keeps
 * everything else of the entry; refused changes write nothing).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTargetCustom } from '../../src/core/custom-metadata.js';
import type { Repository } from '../../src/repo/repository.js';
import {
  createTestRepo,
  expectCode,
  makeTempDir,
  readJson,
  readSigned,
  type TestRepo,
  writeBundle,
} from '../helpers/repo-fixtures.js';

interface TargetsDoc {
  signed: { version: number; targets: Record<string, { custom?: unknown }> };
}

describe('release control in the repository', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let test: TestRepo;
  let repo: Repository;

  const add = async (version: string, extra: Record<string, unknown> = {}) =>
    repo.addRelease({
      bundleDir: await writeBundle(join(tmp.dir, `bundle-${version}`), {
        VERSION: `${version}\n`,
        'lib/data.bin': `data of ${version}\n`.repeat(200),
      }),
      version,
      ...extra,
    });
  const targets = () => readJson<TargetsDoc>(join(test.metadataDir, 'targets.json'));
  const customOf = async (name: string) => (await targets()).signed.targets[name]?.custom;

  before(async () => {
    tmp = await makeTempDir();
    test = await createTestRepo(join(tmp.dir, 'repo'));
    repo = await test.open();
    for (const v of ['1.4.1', '1.4.2', '2.0.0'])
      await add(v, { userMeta: { notes: v }, required: v === '1.4.2' });
  });
  after(() => tmp.cleanup());

  it('refuses a lower version without --maintenance, and says how', async () => {
    const err = await expectCode(add('1.4.3'), 'VERSION_NOT_NEWER');
    assert.match(err.hint ?? '', /--maintenance/);
    await expectCode(add('2.1.0', { maintenance: true }), 'INVALID_ARGUMENT');
    await expectCode(add('1.4.3', { maintenance: true, line: '2' }), 'INVALID_ARGUMENT');
    await expectCode(add('2.1.0', { line: '2.1' }), 'INVALID_ARGUMENT');
  });

  it('adds a maintenance release patched from its line, and keeps the main chain on the main line', async () => {
    const { release } = await add('1.4.3', { maintenance: true });
    assert.equal(release.patch?.from, '1.4.2');
    assert.deepEqual(parseTargetCustom(await customOf('app-1.4.3.tar.gz')).policy, { line: '1.4' });
    const next = await add('2.0.1');
    assert.equal(next.release.patch?.from, '2.0.0', 'not from the maintenance release');
  });

  it('starts a release as a staged rollout with a minimum version', async () => {
    await add('2.0.2', {
      rollout: [{ percent: 10, start: '2026-12-01T00:00:00Z' }],
      minimumVersion: '1.4.2',
    });
    const policy = parseTargetCustom(await customOf('app-2.0.2.tar.gz')).policy;
    assert.deepEqual(policy, {
      rollout: [{ percent: 10, start: '2026-12-01T00:00:00Z' }],
      minimumVersion: '1.4.2',
    });
  });

  it('changes a policy in a new targets version, keeping the rest of the entry', async () => {
    const before = await targets();
    const entryBefore = parseTargetCustom(before.signed.targets['app-1.4.2.tar.gz']?.custom);
    await repo.changeReleasePolicy({ version: '1.4.2' }, { kind: 'halt' });
    const afterHalt = await targets();
    assert.equal(afterHalt.signed.version, before.signed.version + 1);
    const entry = parseTargetCustom(afterHalt.signed.targets['app-1.4.2.tar.gz']?.custom);
    assert.deepEqual(entry, { ...entryBefore, policy: { halted: true } });
    assert.deepEqual(entry.user, { notes: '1.4.2' });
    assert.equal(entry.required, true);
    const snapshot = await readSigned(join(test.metadataDir, 'snapshot.json'));
    assert.equal(
      (snapshot['meta'] as Record<string, { version: number }>)['targets.json']?.version,
      afterHalt.signed.version,
    );
    await repo.changeReleasePolicy({ version: '1.4.2' }, { kind: 'resume' });
    assert.equal(parseTargetCustom(await customOf('app-1.4.2.tar.gz')).policy, undefined);
  });

  it('recalls a range to a good release', async () => {
    await repo.changeReleasePolicy(
      { version: '2.0.0', through: '2.0.1' },
      { kind: 'recall', to: '1.4.2', reason: 'bad' },
    );
    for (const v of ['2.0.0', '2.0.1']) {
      assert.deepEqual(parseTargetCustom(await customOf(`app-${v}.tar.gz`)).policy?.recall, {
        to: '1.4.2',
        reason: 'bad',
      });
    }
    assert.equal(
      parseTargetCustom(await customOf('app-2.0.2.tar.gz')).policy?.recall,
      undefined,
      'outside the range',
    );
    await repo.changeReleasePolicy({ version: '2.0.0', through: '2.0.1' }, { kind: 'unrecall' });
    assert.equal(parseTargetCustom(await customOf('app-2.0.0.tar.gz')).policy, undefined);
  });

  it('refuses bad changes and writes nothing', async () => {
    const version = (await targets()).signed.version;
    await expectCode(repo.changeReleasePolicy({ version: '9.9.9' }, { kind: 'halt' }), 'RELEASE_NOT_FOUND');
    await expectCode(
      repo.changeReleasePolicy({ version: '2.0.0' }, { kind: 'recall', to: '9.0.0' }),
      'RELEASE_NOT_FOUND',
    );
    await expectCode(
      repo.changeReleasePolicy({ version: '2.0.0' }, { kind: 'recall', to: '2.0.0' }),
      'INVALID_ARGUMENT',
    );
    await expectCode(
      repo.changeReleasePolicy({ version: '2.0.1', through: '2.0.0' }, { kind: 'halt' }),
      'INVALID_ARGUMENT',
    );
    await expectCode(
      repo.changeReleasePolicy(
        { version: '2.0.0' },
        { kind: 'rollout', waves: [{ percent: 200, start: '2026-12-01T00:00:00Z' }] },
      ),
      'INVALID_ARGUMENT',
    );
    assert.equal((await targets()).signed.version, version);
  });

  it('shows the policy in the status', async () => {
    await repo.changeReleasePolicy({ version: '2.0.2' }, { kind: 'halt' });
    const status = await repo.status();
    const row = status.releases.find((r) => r.version === '2.0.2');
    assert.equal(row?.control, 'rollout 10 %, halted, critical below 1.4.2');
    assert.equal(status.releases.find((r) => r.version === '1.4.3')?.control, 'maintenance line 1.4');
  });
});

describe('release control in a tufup-layout repository', () => {
  it('refuses maintenance releases for tufup clients and warns that they ignore policies', async () => {
    const tmp = await makeTempDir();
    try {
      const test = await createTestRepo(join(tmp.dir, 'repo'), { consistentSnapshot: false });
      const repo = await test.open();
      const bundle = (v: string) => writeBundle(join(tmp.dir, `b-${v}`), { VERSION: v });
      await repo.addRelease({ bundleDir: await bundle('1.0.0'), version: '1.0.0' });
      await repo.addRelease({ bundleDir: await bundle('2.0.0'), version: '2.0.0' });
      await expectCode(
        repo.addRelease({ bundleDir: await bundle('1.0.1'), version: '1.0.1', maintenance: true }),
        'TUFUP_INCOMPATIBLE',
      );
      const result = await repo.changeReleasePolicy({ version: '2.0.0' }, { kind: 'halt' });
      assert.match(result.warnings?.join('\n') ?? '', /tufup's client do not read release policies/);
    } finally {
      await tmp.cleanup();
    }
  });
});
