/**
 * Bad files and bad bundles: corrupted metadata, an expired root, unsafe bundles, broken or missing configs.
 * Each fails with its error code and leaves every file as it was, with no temp file in targets/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Repository } from '../../src/repo/repository.js';
import {
  addDays,
  createTestRepo,
  expectCode,
  leftoverTempFiles,
  makeTempDir,
  snapshotTree,
  type TestRepo,
  writeBundle,
} from '../helpers/repo-fixtures.js';

async function failsWithoutTrace(
  r: { cwd: string; targetsDir: string },
  fail: () => Promise<unknown>,
  code: string,
): Promise<void> {
  const before = await snapshotTree(r.cwd);
  await expectCode(fail(), code);
  assert.deepEqual(await snapshotTree(r.cwd), before, `${code}: tree unchanged`);
  assert.deepEqual(await leftoverTempFiles(r.targetsDir), [], `${code}: no temp file in targets/`);
}

describe('bad input: bundles and versions', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let r: TestRepo;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    r = await createTestRepo(join(dir, 'repo'));
    await (await r.open()).addRelease({ bundleDir: await writeBundle(join(dir, 'ok')), version: '1.0.0' });
  });
  after(() => cleanup());

  test('invalid version → VERSION_INVALID', async () => {
    const repo = await r.open();
    const bundle = await writeBundle(join(dir, 'v'));
    for (const version of ['1.0.0.x', '', 'latest', '1..0', '../1.0']) {
      await failsWithoutTrace(r, () => repo.addRelease({ bundleDir: bundle, version }), 'VERSION_INVALID');
    }
  });

  test('a symlink escaping the bundle → BUNDLE_UNSAFE_LINK', async () => {
    const repo = await r.open();
    const up = await writeBundle(join(dir, 'escape-up'));
    await symlink('../../outside.txt', join(up, 'bin', 'evil'));
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: up, version: '2.0.0' }),
      'BUNDLE_UNSAFE_LINK',
    );
    const abs = await writeBundle(join(dir, 'escape-abs'));
    await symlink('/etc/passwd', join(abs, 'passwd'));
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: abs, version: '2.0.0' }),
      'BUNDLE_UNSAFE_LINK',
    );
  });

  test('a FIFO in the bundle → BUNDLE_SPECIAL_FILE', async () => {
    const repo = await r.open();
    const bundle = await writeBundle(join(dir, 'fifo'));
    execFileSync('mkfifo', [join(bundle, 'lib', 'pipe')]);
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: bundle, version: '2.0.0' }),
      'BUNDLE_SPECIAL_FILE',
    );
  });

  test('a missing bundle directory, or a file instead of one → BUNDLE_INVALID', async () => {
    const repo = await r.open();
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: join(dir, 'no-such-dir'), version: '2.0.0' }),
      'BUNDLE_INVALID',
    );
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a dir');
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: file, version: '2.0.0' }),
      'BUNDLE_INVALID',
    );
  });

  test('user metadata that is not canonical JSON → INVALID_ARGUMENT', async () => {
    const repo = await r.open();
    const bundle = await writeBundle(join(dir, 'meta'));
    await failsWithoutTrace(
      r,
      () => repo.addRelease({ bundleDir: bundle, version: '2.0.0', userMeta: { ratio: 0.5 } }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('bad input: corrupted metadata', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  for (const consistent of [true, false]) {
    const file = consistent ? '2.targets.json' : 'targets.json';
    test(`truncated ${file} (${consistent ? 'consistent' : 'plain'} layout) → METADATA_INVALID`, async () => {
      const r = await createTestRepo(
        join(dir, `corrupt-${consistent}`),
        consistent ? {} : { consistentSnapshot: false },
      );
      const bundle = await writeBundle(join(dir, `corrupt-${consistent}-bundle`));
      await (await r.open()).addRelease({ bundleDir: bundle, version: '1.0.0' });
      const path = join(r.metadataDir, file);
      await truncate(path, Math.floor((await readFile(path)).length / 2));

      const repo = await r.open();
      await failsWithoutTrace(
        r,
        () => repo.addRelease({ bundleDir: bundle, version: '2.0.0' }),
        'METADATA_INVALID',
      );
      await failsWithoutTrace(r, () => repo.removeRelease('1.0.0'), 'METADATA_INVALID');
      await failsWithoutTrace(r, () => repo.refresh(30), 'METADATA_INVALID');
      await failsWithoutTrace(r, () => repo.setThreshold('targets', 1), 'METADATA_INVALID');
      await failsWithoutTrace(r, () => repo.status(), 'METADATA_INVALID');
      await failsWithoutTrace(r, () => repo.releases(), 'METADATA_INVALID');
      const report = await repo.verify();
      assert.equal(report.ok, false);
      assert.ok(report.problems.length > 0);
    });
  }

  test('timestamp.json that is not JSON → METADATA_INVALID', async () => {
    const r = await createTestRepo(join(dir, 'ts'));
    await writeFile(join(r.metadataDir, 'timestamp.json'), '{"signed": ');
    const repo = await r.open();
    await failsWithoutTrace(r, () => repo.refresh(30), 'METADATA_INVALID');
    await failsWithoutTrace(r, () => repo.status(), 'METADATA_INVALID');
  });
});

describe('bad input: expired root', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('a repository built 400 days ago: verify reports it, status shows every role expired', async () => {
    const past = addDays(new Date(), -400);
    const r = await createTestRepo(join(dir, 'old'), { now: past });
    const repo = await r.open(); // the real clock
    const before = await snapshotTree(r.cwd);
    const report = await repo.verify();
    assert.equal(report.ok, false);
    assert.ok(report.problems.length > 0);
    assert.match(report.problems.map((p) => p.message).join('\n'), /expired/i);

    const status = await repo.status();
    const byRole = Object.fromEntries(status.roles.map((s) => [s.role, s]));
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
      assert.equal(byRole[role]!.expiry, 'expired', role);
    assert.ok(byRole['root']!.daysLeft < 0);
    assert.ok(status.warnings.some((w) => w.startsWith('root expired')));
    assert.deepEqual(await snapshotTree(r.cwd), before, 'verify and status write nothing');

    // The same repository seen from its build day is fine.
    const then = await r.open({ now: () => past });
    assert.ok((await then.status()).roles.every((s) => s.expiry !== 'expired'));
  });
});

describe('bad input: configs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('no config → CONFIG_NOT_FOUND', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await failsWithoutTrace(
      { cwd: empty, targetsDir: join(empty, 'repository', 'targets') },
      () => Repository.open({ cwd: empty }),
      'CONFIG_NOT_FOUND',
    );
    await expectCode(Repository.open({ configPath: join(empty, 'missing.json') }), 'CONFIG_NOT_FOUND');
  });

  test('invalid config JSON or shape → CONFIG_INVALID, config left as it was', async () => {
    const r = await createTestRepo(join(dir, 'cfg'));
    const good = JSON.parse(await readFile(r.init.configPath, 'utf8')) as Record<string, unknown>;
    const broken: [string, string][] = [
      ['not JSON', '{ "app_name": '],
      ['an array', '[]'],
      ['bad app name', JSON.stringify({ ...good, app_name: 'my.app' })],
      ['threshold 0', JSON.stringify({ ...good, thresholds: { root: 0 } })],
      ['threshold above the key count', JSON.stringify({ ...good, thresholds: { root: 2 } })],
      ['unknown role', JSON.stringify({ ...good, thresholds: { admin: 1 } })],
      ['key_map missing', JSON.stringify({ ...good, key_map: undefined })],
      [
        'key name with a slash',
        JSON.stringify({ ...good, key_map: { ...(good['key_map'] as object), root: ['../x'] } }),
      ],
      ['unknown format version', JSON.stringify({ ...good, notsotuf_config: 2 })],
      ['empty repo_dir', JSON.stringify({ ...good, repo_dir: '' })],
    ];
    for (const [what, text] of broken) {
      await writeFile(r.init.configPath, text);
      const before = await snapshotTree(r.cwd);
      const err = await expectCode(Repository.open({ cwd: r.cwd }), 'CONFIG_INVALID').catch((e) => {
        throw new Error(`${what}: ${e.message}`);
      });
      assert.ok(err.hint, `${what}: has a hint`);
      assert.deepEqual(await snapshotTree(r.cwd), before, `${what}: nothing written`);
    }
  });
});
