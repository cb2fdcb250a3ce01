import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateRawSync, gunzipSync } from 'node:zlib';
import { createArchive, DEFAULT_ARCHIVE_MTIME, GZIP_HEADER, RECORD_SIZE } from '../../src/archive/index.js';
import { isNotsotufError } from '../../src/core/errors.js';
import {
  bigPayload,
  makeBundle,
  pythonMembers,
  SAMPLE_EMPTY_DIRS,
  SAMPLE_LINKS,
  sampleContents,
  sha256,
  tempDir,
  VARIANT_A,
  VARIANT_B,
} from './helpers.js';

describe('createArchive: reproducible output', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let bundleA: string;
  let bundleB: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const big = bigPayload();
    bundleA = join(dir, 'bundle-a');
    bundleB = join(dir, 'elsewhere', 'copy-of-bundle');
    await makeBundle(bundleA, big, VARIANT_A);
    await makeBundle(bundleB, big, VARIANT_B);
  });
  after(() => cleanup());

  test('the same bundle archived twice, and a copy with other mtimes, modes and order, give identical bytes', async () => {
    const out1 = join(dir, 'out1', 'app.tar.gz');
    const out2 = join(dir, 'out2', 'other-name.tar.gz');
    const out3 = join(dir, 'out3', 'app.tar.gz');
    for (const out of [out1, out2, out3]) await mkdir(dirname(out), { recursive: true });

    const r1 = await createArchive({ bundleDir: bundleA, outFile: out1 });
    const r2 = await createArchive({ bundleDir: bundleA, outFile: out2 });
    const r3 = await createArchive({ bundleDir: bundleB, outFile: out3 });
    const [b1, b2, b3] = await Promise.all([readFile(out1), readFile(out2), readFile(out3)]);
    assert.ok(b1.equals(b2), 'archiving twice gives the same bytes');
    assert.ok(b1.equals(b3), 'a copy with different mtimes, modes and creation order gives the same bytes');
    assert.deepEqual(r1, r2);
    assert.deepEqual(r1, r3);
    const expectedEntries =
      1 + sampleContents(Buffer.alloc(0)).size + SAMPLE_LINKS.length + SAMPLE_EMPTY_DIRS.length;
    // Directories implied by the file paths: a, a/b, a/b/c, bin, lib, long, ddd, ddd/eee.
    assert.equal(r1.entries, expectedEntries + 8);
  });

  test('result hashes and sizes match the file and its uncompressed tar', async () => {
    const out = join(dir, 'hashes.tar.gz');
    const r = await createArchive({ bundleDir: bundleA, outFile: out });
    const gz = await readFile(out);
    assert.equal(r.size, gz.length);
    assert.equal(r.sha256, sha256(gz));
    const tar = gunzipSync(gz);
    assert.equal(r.tarSize, tar.length);
    assert.equal(r.tarSha256, sha256(tar));
    assert.equal(tar.length % RECORD_SIZE, 0, 'tar padded to whole 10240-byte records');
    assert.ok(
      tar.subarray(-1024).every((b) => b === 0),
      'ends with two zero blocks',
    );
    // Deterministic gzip header: no FNAME, mtime 0, XFL 2, OS 255.
    assert.deepEqual([...gz.subarray(0, 10)], [...GZIP_HEADER]);
    assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    // The body depends only on the tar bytes, not on how the stream happened to chunk them.
    assert.ok(gz.subarray(10, -8).equals(deflateRawSync(tar, { level: 9 })));
  });

  test('default mtime is 2000-01-01T00:00:00Z; the mtime option and SOURCE_DATE_EPOCH change the bytes', async () => {
    const saved = process.env['SOURCE_DATE_EPOCH'];
    try {
      delete process.env['SOURCE_DATE_EPOCH'];
      const outDefault = join(dir, 'default.tar.gz');
      const rDefault = await createArchive({ bundleDir: bundleA, outFile: outDefault });
      assert.ok(pythonMembers(outDefault).every((m) => m.mtime === DEFAULT_ARCHIVE_MTIME));
      assert.equal(DEFAULT_ARCHIVE_MTIME, Date.UTC(2000, 0, 1) / 1000);

      process.env['SOURCE_DATE_EPOCH'] = '1700000000';
      const outEnv = join(dir, 'env.tar.gz');
      const rEnv = await createArchive({ bundleDir: bundleA, outFile: outEnv });
      assert.notEqual(rEnv.sha256, rDefault.sha256);
      assert.notEqual(rEnv.tarSha256, rDefault.tarSha256);
      assert.ok(pythonMembers(outEnv).every((m) => m.mtime === 1700000000));
      const rEnvAgain = await createArchive({ bundleDir: bundleB, outFile: join(dir, 'env2.tar.gz') });
      assert.equal(rEnvAgain.sha256, rEnv.sha256, 'still reproducible under SOURCE_DATE_EPOCH');

      // The explicit option wins over the environment.
      const outOpt = join(dir, 'opt.tar.gz');
      await createArchive({ bundleDir: bundleA, outFile: outOpt, mtime: new Date('2024-01-01T12:00:00Z') });
      assert.ok(pythonMembers(outOpt).every((m) => m.mtime === 1704110400));

      process.env['SOURCE_DATE_EPOCH'] = 'yesterday';
      await assert.rejects(createArchive({ bundleDir: bundleA, outFile: join(dir, 'bad.tar.gz') }), (err) =>
        isNotsotufError(err, 'INVALID_ARGUMENT'),
      );
      await assert.rejects(
        createArchive({ bundleDir: bundleA, outFile: join(dir, 'bad.tar.gz'), mtime: 1.5 }),
        (err) => isNotsotufError(err, 'INVALID_ARGUMENT'),
      );
    } finally {
      if (saved === undefined) delete process.env['SOURCE_DATE_EPOCH'];
      else process.env['SOURCE_DATE_EPOCH'] = saved;
    }
  });

  test('onProgress reports cumulative file bytes up to the total', async () => {
    const seen: Array<{ bytes: number; totalBytes: number }> = [];
    await createArchive({
      bundleDir: bundleA,
      outFile: join(dir, 'progress.tar.gz'),
      onProgress: (p) => seen.push(p),
    });
    const total = [...sampleContents(Buffer.alloc(3 * 1024 * 1024)).values()].reduce(
      (s, b) => s + b.length,
      0,
    );
    assert.equal(seen.length, sampleContents(Buffer.alloc(0)).size);
    assert.ok(seen.every((p) => p.totalBytes === total));
    assert.equal(seen.at(-1)?.bytes, total);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytes >= seen[i - 1]!.bytes);
  });

  test('an existing output file is replaced', async () => {
    const out = join(dir, 'replace.tar.gz');
    await writeFile(out, 'old');
    const r = await createArchive({ bundleDir: bundleA, outFile: out });
    assert.equal(sha256(await readFile(out)), r.sha256);
  });
});
