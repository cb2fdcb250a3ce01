import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { cacheControlFor, contentTypeFor, IMMUTABLE, REVALIDATE } from '../../src/core/http-headers.js';
import { describeDestination, parseDestination } from '../../src/storage/destination.js';
import { type LocalFile, planPublish } from '../../src/storage/publish-plan.js';

const file = (key: string, content = key): LocalFile => ({
  key,
  path: `/repo/${key}`,
  size: content.length,
  sha256: Buffer.from(content).toString('hex').padEnd(64, '0').slice(0, 64),
  md5: Buffer.from(content).toString('hex').padEnd(32, '0').slice(0, 32),
});

describe('planPublish (pure)', () => {
  const local = [
    file('metadata/timestamp.json'),
    file('metadata/snapshot.json'),
    file('metadata/2.snapshot.json'),
    file('metadata/2.targets.json'),
    file('metadata/10.root.json'),
    file('metadata/2.root.json'),
    file('metadata/root.json'),
    file('metadata/targets.json'),
    file('targets/abc.app-1.1.0.patch'),
    file('targets/abc.app-1.1.0.tar.gz'),
    file('README.md'),
  ];

  test('order: targets, versioned metadata (root, targets, snapshot; by version), other metadata, timestamp', () => {
    const plan = planPublish(local, []);
    assert.deepEqual(
      plan.uploads.map((u) => u.key),
      [
        'targets/abc.app-1.1.0.patch',
        'targets/abc.app-1.1.0.tar.gz',
        'metadata/2.root.json',
        'metadata/10.root.json',
        'metadata/2.targets.json',
        'metadata/2.snapshot.json',
        'metadata/root.json',
        'metadata/snapshot.json',
        'metadata/targets.json',
        'metadata/timestamp.json',
      ],
    );
  });

  test('same size and hash: unchanged; no hash known: uploaded again; remote-only files listed, kept', () => {
    const remote = [
      { key: 'metadata/2.root.json', size: 20, sha256: file('metadata/2.root.json').sha256 },
      { key: 'targets/abc.app-1.1.0.patch', size: 27, md5: file('targets/abc.app-1.1.0.patch').md5 },
      { key: 'metadata/root.json', size: 18 },
      { key: 'targets/old.app-0.9.tar.gz', size: 5 },
      { key: '.notsotuf-publish.lock', size: 5 },
    ];
    const plan = planPublish(local, remote);
    assert.deepEqual(plan.unchanged, ['metadata/2.root.json', 'targets/abc.app-1.1.0.patch']);
    assert.ok(plan.uploads.some((u) => u.key === 'metadata/root.json'));
    assert.deepEqual(plan.remoteOnly, ['targets/old.app-0.9.tar.gz']);
  });

  test('a published target or versioned metadata file with other content is a conflict', () => {
    for (const remote of [
      { key: 'targets/abc.app-1.1.0.tar.gz', size: 1 },
      { key: 'metadata/2.targets.json', size: 22, sha256: 'f'.repeat(64) },
    ]) {
      assert.throws(
        () => planPublish(local, [remote]),
        (e) => isNotsotufError(e, 'PUBLISH_CONFLICT') && e.message.includes(remote.key),
      );
    }
    // Unversioned metadata is replaced, whatever is there.
    assert.doesNotThrow(() =>
      planPublish(local, [{ key: 'metadata/timestamp.json', size: 1, sha256: 'f'.repeat(64) }]),
    );
  });
});

describe('destinations', () => {
  test('dir:, s3:// and rclone: forms', () => {
    assert.deepEqual(parseDestination('dir:out/repo', '/work'), { kind: 'dir', path: '/work/out/repo' });
    assert.deepEqual(parseDestination('s3://my-bucket/apps//my-app/'), {
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'apps/my-app',
    });
    assert.deepEqual(parseDestination('rclone:r2 prod:bucket/app'), {
      kind: 'rclone',
      remote: 'r2 prod',
      path: 'bucket/app',
    });
    assert.equal(describeDestination(parseDestination('s3://b-1')), 's3://b-1');
  });

  test('bad destinations: DESTINATION_INVALID with the forms in the hint', () => {
    for (const text of [
      'ftp://x',
      'dir:',
      's3://A_bad',
      's3://ok-bucket/../x',
      'rclone:nocolon',
      'rclone::path',
      'dir:a\nb',
    ]) {
      assert.throws(
        () => parseDestination(text),
        (e) => isNotsotufError(e, 'DESTINATION_INVALID') && /dir:<path>/.test(e.hint ?? ''),
        text,
      );
    }
  });
});

describe('HTTP headers of repository files', () => {
  test('timestamp and unversioned metadata revalidate; versioned metadata and targets are immutable', () => {
    assert.equal(cacheControlFor('metadata/timestamp.json'), REVALIDATE);
    assert.equal(cacheControlFor('metadata/root.json'), REVALIDATE);
    assert.equal(cacheControlFor('metadata/3.snapshot.json'), IMMUTABLE);
    assert.equal(cacheControlFor(`targets/${'a'.repeat(64)}.app-1.0.tar.gz`), IMMUTABLE);
    assert.equal(cacheControlFor('targets/app-1.0.tar.gz'), IMMUTABLE);
    assert.equal(contentTypeFor('metadata/1.root.json'), 'application/json');
    assert.equal(contentTypeFor('targets/app-1.0.tar.gz'), 'application/gzip');
    assert.equal(contentTypeFor('targets/app-1.1.patch'), 'application/octet-stream');
  });
});
