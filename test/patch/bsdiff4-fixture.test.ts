/** tufup's own patches (from the v0.10 fixture repository) rebuild exactly the tars its metadata signs. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { bsdiff4Codec } from '../../src/patch/index.js';
import { codeOf, FIXTURE_METADATA, FIXTURE_TARGETS, tempDir } from './helpers.js';

interface PatchMeta {
  tar_hash: string;
  tar_size: number;
}
const targets = JSON.parse(readFileSync(FIXTURE_METADATA, 'utf8')).signed.targets as Record<
  string,
  { length: number; custom: { tufup: PatchMeta } }
>;
/** The patch chain in version order: each patch turns the previous release's tar into the next one. */
const CHAIN: Array<[string, string]> = [
  ['1.0', '2.0'],
  ['2.0', '3.0rc1'],
  ['3.0rc1', '3.0'],
];

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('bsdiff4 on the tufup fixture patches', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    for (const v of ['1.0', '2.0', '3.0rc1', '3.0']) {
      const tar = gunzipSync(await readFile(join(FIXTURE_TARGETS, `example_app-${v}.tar.gz`)));
      await writeFile(join(dir, `${v}.tar`), tar);
    }
  });
  after(() => cleanup());

  for (const [from, to] of CHAIN) {
    test(`${to}.patch applied to the ${from} tar gives the signed tar_size and tar_hash`, async () => {
      const patchPath = join(FIXTURE_TARGETS, `example_app-${to}.patch`);
      const meta = targets[`example_app-${to}.patch`]!;
      assert.equal(readFileSync(patchPath).length, meta.length);
      const head = readFileSync(patchPath).subarray(0, 16);
      assert.ok(bsdiff4Codec.identify(head));
      const outPath = join(dir, `${to}.rebuilt.tar`);
      const progress: number[] = [];
      const { size } = await bsdiff4Codec.apply({
        oldPath: join(dir, `${from}.tar`),
        patchPath,
        outPath,
        expectedSize: meta.custom.tufup.tar_size,
        onProgress: (p) => progress.push(p.done),
      });
      const rebuilt = await readFile(outPath);
      assert.equal(size, meta.custom.tufup.tar_size);
      assert.equal(rebuilt.length, meta.custom.tufup.tar_size);
      assert.equal(sha256(rebuilt), meta.custom.tufup.tar_hash);
      // It is also the tar inside the published archive.
      assert.deepEqual(rebuilt, await readFile(join(dir, `${to}.tar`)));
      assert.equal(progress.at(-1), size);
    });
  }

  test('a fixture patch with the wrong expected size is refused before any output', async () => {
    const outPath = join(dir, 'wrong-size.tar');
    const code = await codeOf(() =>
      bsdiff4Codec.apply({
        oldPath: join(dir, '1.0.tar'),
        patchPath: join(FIXTURE_TARGETS, 'example_app-2.0.patch'),
        outPath,
        expectedSize: 71681,
      }),
    );
    assert.equal(code, 'PATCH_INVALID');
    assert.equal(await codeOf(() => readFile(outPath)), 'ENOENT');
  });

  test('our patches for the same pairs are about the size of tufup patches and round-trip', async () => {
    for (const [from, to] of CHAIN) {
      const patchPath = join(dir, `${to}.ours.patch`);
      const { size } = await bsdiff4Codec.create({
        oldPath: join(dir, `${from}.tar`),
        newPath: join(dir, `${to}.tar`),
        outPath: patchPath,
      });
      const theirs = targets[`example_app-${to}.patch`]!.length;
      assert.ok(size < theirs * 1.1, `${to}: ${size} vs tufup ${theirs}`);
      const outPath = join(dir, `${to}.ours.tar`);
      await bsdiff4Codec.apply({ oldPath: join(dir, `${from}.tar`), patchPath, outPath });
      assert.deepEqual(await readFile(outPath), await readFile(join(dir, `${to}.tar`)));
    }
  });
});
