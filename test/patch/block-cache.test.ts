import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { BlockCache } from '../../src/patch/notsotuf/block-cache.js';
import { copyBytes } from '../../src/patch/notsotuf/copy-bytes.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'notsotuf-blocks-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('block cache: every read returns the file bytes, through evictions and block boundaries', async () => {
  // 5 MiB + a partial last block: more than the 2 MiB the cache holds, so reads force CLOCK evictions.
  const data = randomBytes(5 * 1024 * 1024 + 1234);
  const path = join(dir, 'old.bin');
  await writeFile(path, data);
  const fh = await open(path, 'r');
  try {
    const cache = new BlockCache(fh, path, data.length);
    const into = Buffer.alloc(70_000);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: data.length - 1 }), fc.integer({ min: 1, max: into.length })),
          { minLength: 1, maxLength: 200 },
        ),
        (reads) => {
          for (const [position, wanted] of reads) {
            const length = Math.min(wanted, data.length - position);
            cache.readSync(into, position, length);
            assert.ok(into.subarray(0, length).equals(data.subarray(position, position + length)));
          }
        },
      ),
      { numRuns: 60 },
    );
    // A sweep through the whole file after scattered reads, then the very last byte.
    for (let at = 0; at < data.length; at += 50_000) {
      const length = Math.min(50_000, data.length - at);
      cache.readSync(into, at, length);
      assert.ok(into.subarray(0, length).equals(data.subarray(at, at + length)));
    }
    cache.readSync(into, data.length - 1, 1);
    assert.equal(into[0], data[data.length - 1]);
  } finally {
    await fh.close();
  }
});

test('copyBytes copies short (loop) and long (set) ranges exactly, leaving the rest alone', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2000 }),
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 0, max: 50 }),
      (length, from, at) => {
        const src = randomBytes(from + length + 10);
        const dst = Buffer.alloc(at + length + 10, 0xaa);
        copyBytes(src, from, dst, at, length);
        assert.ok(dst.subarray(at, at + length).equals(src.subarray(from, from + length)));
        assert.ok(dst.subarray(0, at).every((b) => b === 0xaa));
        assert.ok(dst.subarray(at + length).every((b) => b === 0xaa));
      },
    ),
  );
});
