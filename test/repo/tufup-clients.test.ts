/**
 * Releases in a repository that apps with tufup's client read (tufup's layout): a patch those apps cannot apply
 * is refused with nothing written, unless the publisher says no such app is left; a release without a patch is
 * published with a warning (tufup clients would try the later patches across the gap once). The decision itself
 * is a pure function, tested as data.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseTargetCustom, upgradeEarlierCustom } from '../../src/core/custom-metadata.js';
import { isNotsotufError } from '../../src/core/errors.js';
import { nextTargets } from '../../src/repo/draft.js';
import { checkTufupRelease, type TufupReleaseCheck, tufupGapWarnings } from '../../src/repo/tufup-clients.js';
import { parseMetadata } from '../../src/tuf/metadata.js';
import {
  createTestRepo,
  expectCode,
  makeTempDir,
  snapshotTree,
  writeBundle,
} from '../helpers/repo-fixtures.js';

describe('checkTufupRelease (pure)', () => {
  const base: TufupReleaseCheck = {
    tufupLayout: true,
    noTufupClients: false,
    app: 'app',
    version: '1.1.0',
    previous: '1.0.0',
    patch: true,
    codec: 'bsdiff4',
  };
  const cases: [string, Partial<TufupReleaseCheck>, 'ok' | 'warn' | 'refuse'][] = [
    ['tufup layout, bsdiff4 patch', {}, 'ok'],
    ['tufup layout, notsotuf patch', { codec: 'notsotuf' }, 'refuse'],
    [
      'tufup layout, notsotuf patch, no tufup clients left',
      { codec: 'notsotuf', noTufupClients: true },
      'ok',
    ],
    ['tufup layout, no patch', { patch: false }, 'warn'],
    ['tufup layout, no patch, no tufup clients left', { patch: false, noTufupClients: true }, 'ok'],
    ['tufup layout, first release (nothing to patch from)', { previous: undefined, codec: 'notsotuf' }, 'ok'],
    ['consistent snapshots, notsotuf patch', { tufupLayout: false, codec: 'notsotuf' }, 'ok'],
    ['consistent snapshots, no patch', { tufupLayout: false, patch: false }, 'ok'],
  ];
  for (const [name, change, expected] of cases) {
    test(`${name} → ${expected}`, () => {
      const input = { ...base, ...change } as TufupReleaseCheck;
      if (expected === 'refuse') {
        assert.throws(
          () => checkTufupRelease(input),
          (err: unknown) =>
            isNotsotufError(err, 'TUFUP_INCOMPATIBLE') &&
            /notsotuf codec/.test(err.message) &&
            /--no-tufup-clients/.test(err.hint ?? ''),
        );
        return;
      }
      const warnings = checkTufupRelease(input);
      assert.equal(warnings.length, expected === 'warn' ? 1 : 0, warnings.join('\n'));
      if (expected === 'warn') assert.match(warnings[0]!, /app 1\.1\.0 has no patch from 1\.0\.0/);
    });
  }
});

describe('release add in a repository with tufup’s layout', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  before(async () => {
    tmp = await makeTempDir('notsotuf-tufup-clients-');
  });
  after(() => tmp.cleanup());

  async function repoWithOneRelease(name: string, consistentSnapshot: boolean) {
    const r = await createTestRepo(join(tmp.dir, name), { consistentSnapshot });
    const repo = await r.open();
    const first = await repo.addRelease({
      bundleDir: await writeBundle(join(r.cwd, 'b1')),
      version: '1.0.0',
    });
    assert.deepEqual(first.release.warnings, []);
    const bundle = await writeBundle(join(r.cwd, 'b2'), { 'x.txt': 'two\n' });
    return { r, repo, bundle };
  }

  test('a notsotuf patch is refused (TUFUP_INCOMPATIBLE) and nothing is written', async () => {
    const { r, repo, bundle } = await repoWithOneRelease('refused', false);
    const before = await snapshotTree(r.cwd);
    await expectCode(
      repo.addRelease({ bundleDir: bundle, version: '1.1.0', patchCodec: 'notsotuf' }),
      'TUFUP_INCOMPATIBLE',
    );
    assert.deepEqual(await snapshotTree(r.cwd), before);
  });

  test('with noTufupClients the notsotuf patch is published', async () => {
    const { repo, bundle } = await repoWithOneRelease('allowed', false);
    const added = await repo.addRelease({
      bundleDir: bundle,
      version: '1.1.0',
      patchCodec: 'notsotuf',
      noTufupClients: true,
    });
    assert.equal(added.release.patch?.codec, 'notsotuf');
    assert.deepEqual(added.release.warnings, []);
  });

  test('the default patch is bsdiff4, with no warning', async () => {
    const { repo, bundle } = await repoWithOneRelease('default', false);
    const added = await repo.addRelease({ bundleDir: bundle, version: '1.1.0' });
    assert.equal(added.release.patch?.codec, 'bsdiff4');
    assert.deepEqual(added.release.warnings, []);
  });

  test('a release without a patch is published with a warning', async () => {
    const { repo, bundle } = await repoWithOneRelease('skipped', false);
    const added = await repo.addRelease({ bundleDir: bundle, version: '1.1.0', skipPatch: true });
    assert.equal(added.release.patch, undefined);
    assert.equal(added.release.warnings.length, 1);
    assert.match(added.release.warnings[0]!, /tufup clients below 1\.1\.0/);
  });

  test('consistent snapshots: a notsotuf patch is the default, with no warning', async () => {
    const { repo, bundle } = await repoWithOneRelease('consistent', true);
    const added = await repo.addRelease({ bundleDir: bundle, version: '1.1.0' });
    assert.equal(added.release.patch?.codec, 'notsotuf');
    assert.deepEqual(added.release.warnings, []);
  });
});

describe('entries in the custom shape of earlier notsotuf versions are repaired by the next targets version', () => {
  const HASH = 'ab'.repeat(32);
  const earlierArchive = {
    user: { changes: ['x'] },
    tufup: { required: true },
    notsotuf: { tar_size: 10, tar_hash: HASH },
  };
  const earlierPatch = {
    user: null,
    tufup: { tar_size: 10, tar_hash: HASH, tar_hash_algorithm: 'sha256' },
    notsotuf: { patch: 'bsdiff4' },
  };
  const tufupOwn = { user: null, tufup: { required: false } };
  const legacyFlat = { changes: ['y'], required: true, notsotuf: 1 };

  test('upgradeEarlierCustom moves notsotuf into tufup and leaves every other shape alone', () => {
    assert.deepEqual(upgradeEarlierCustom(earlierArchive), {
      user: { changes: ['x'] },
      tufup: { required: true, notsotuf: { tar_size: 10, tar_hash: HASH } },
    });
    assert.deepEqual(upgradeEarlierCustom(earlierPatch), {
      user: null,
      tufup: { tar_size: 10, tar_hash: HASH, tar_hash_algorithm: 'sha256', notsotuf: { patch: 'bsdiff4' } },
    });
    for (const other of [tufupOwn, legacyFlat, null, 'x', { user: 1, tufup: [], notsotuf: {} }]) {
      assert.equal(upgradeEarlierCustom(other), undefined, JSON.stringify(other));
    }
  });

  test('nextTargets re-signs every entry in the current shape, others byte for byte as they were', () => {
    const entry = (custom: unknown) => ({ length: 1, hashes: { sha256: HASH }, custom });
    const current = parseMetadata(
      'targets',
      {
        signed: {
          _type: 'targets',
          spec_version: '1.0.31',
          version: 3,
          expires: '2099-01-01T00:00:00Z',
          targets: {
            'app-1.0.tar.gz': entry(tufupOwn),
            'app-1.1.tar.gz': entry(earlierArchive),
            'app-1.1.patch': entry(earlierPatch),
            'app-0.1.tar.gz': entry(legacyFlat),
          },
        },
        signatures: [],
      },
      'test',
    );
    const next = nextTargets(current, 7, new Date(), {}).signed.targets;
    const customOf = (name: string) => next[name]!.unrecognizedFields['custom'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(customOf('app-1.1.tar.gz')).sort(), ['tufup', 'user']);
    assert.deepEqual(Object.keys(customOf('app-1.1.patch')).sort(), ['tufup', 'user']);
    assert.deepEqual(parseTargetCustom(customOf('app-1.1.tar.gz')), parseTargetCustom(earlierArchive));
    assert.deepEqual(parseTargetCustom(customOf('app-1.1.patch')), parseTargetCustom(earlierPatch));
    assert.deepEqual(customOf('app-1.0.tar.gz'), tufupOwn);
    assert.deepEqual(customOf('app-0.1.tar.gz'), legacyFlat);
    assert.equal(next['app-1.1.patch']!.length, 1);
  });
});

describe('removing releases from the middle of a chain in tufup’s layout warns', () => {
  const chain = ['1.0', '1.1', '1.2', '1.3'].map((version, i) => ({ version, hasPatch: i > 0 }));
  const cases: [string, string[], boolean, string[]][] = [
    ['a middle release', ['1.1'], true, ['1.2']],
    ['the oldest release only (its clients are the base of the next patch)', ['1.0'], true, []],
    ['the two oldest (prune --keep 2)', ['1.0', '1.1'], true, ['1.2']],
    ['the newest release', ['1.3'], true, []],
    ['two in the middle', ['1.1', '1.2'], true, ['1.3']],
    ['a middle release, consistent snapshots', ['1.1'], false, []],
  ];
  for (const [name, removed, tufupLayout, warnedFor] of cases) {
    test(name, () => {
      const warnings = tufupGapWarnings({ tufupLayout, app: 'app' }, chain, new Set(removed));
      assert.deepEqual(
        warnings.map((w) => /^app (\S+) keeps its patch/.exec(w)?.[1]),
        warnedFor,
        warnings.join('\n'),
      );
    });
  }
  test('a kept release without a patch has nothing to warn about', () => {
    const noPatch = chain.map((l) => (l.version === '1.2' ? { ...l, hasPatch: false } : l));
    assert.deepEqual(tufupGapWarnings({ tufupLayout: true, app: 'app' }, noPatch, new Set(['1.1'])), []);
  });

  test('release remove and prune report the warning in their result', async () => {
    const tmp = await makeTempDir('notsotuf-tufup-gap-');
    try {
      const r = await createTestRepo(join(tmp.dir, 'gap'), { consistentSnapshot: false });
      const repo = await r.open();
      for (const [i, version] of ['1.0.0', '1.1.0', '1.2.0', '1.3.0'].entries()) {
        await repo.addRelease({
          bundleDir: await writeBundle(join(r.cwd, `b${i}`), { 'v.txt': version }),
          version,
        });
      }
      const removed = await repo.removeRelease('1.1.0');
      assert.equal(removed.warnings.length, 1);
      assert.match(
        removed.warnings[0]!,
        /^app 1\.2\.0 keeps its patch from the removed 1\.1\.0: tufup clients below 1\.1\.0/,
      );
      const pruned = await repo.pruneReleases(1);
      assert.ok(pruned);
      assert.equal(pruned.warnings.length, 1);
      assert.match(pruned.warnings[0]!, /^app 1\.3\.0 keeps its patch from the removed 1\.2\.0/);
    } finally {
      await tmp.cleanup();
    }
  });
});
