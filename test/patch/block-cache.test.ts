import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { BlockCache, CacheGrowth } from '../../src/patch/notsotuf/block-cache.js';
import { copyBytes } from '../../src/patch/notsotuf/copy-bytes.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'notsotuf-blocks-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('block cache: every read returns the file bytes, through evictions and block boundaries', async () => {
  // 5 MiB + a partial last block: more than the 1–4 MiB the cache holds, so reads force CLOCK evictions.
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

/**
 * Drives CacheGrowth with a FIFO cache of the capacity it decides (the growth rule needs only misses, evictions
 * and bytes read): returns the capacity after `accesses`, each reading `bytesPerAccess`, and the misses.
 */
function grow(accesses: Iterable<number>, bytesPerAccess = 0): { capacity: number; misses: number } {
  const growth = new CacheGrowth();
  const held = new Set<number>();
  const order: number[] = [];
  let misses = 0;
  for (const block of accesses) {
    growth.read(bytesPerAccess);
    if (held.has(block)) continue;
    misses++;
    const capacity = growth.missed(block);
    while (held.size >= capacity) {
      const evicted = order.shift()!;
      held.delete(evicted);
      growth.evicted(evicted);
    }
    held.add(block);
    order.push(block);
  }
  return { capacity: growth.capacity, misses };
}

function* cycles(blocks: number, rounds: number): Generator<number> {
  for (let r = 0; r < rounds; r++) for (let b = 0; b < blocks; b++) yield b;
}

describe('block cache growth (as data)', () => {
  test('it doubles after two rounds in a row in which at least half of the misses were blocks it had evicted', () => {
    for (const [first, second, grows] of [
      [128, 128, true],
      [127, 128, false],
      [128, 127, false],
      [128, 0, false],
    ] as const) {
      const growth = new CacheGrowth();
      for (let b = 0; b < 512; b++) growth.evicted(b);
      let capacity = 0;
      // A round is 256 misses (the capacity): the first `first` (then `second`) are blocks evicted before.
      for (let i = 0; i < 256; i++) capacity = growth.missed(i < first ? i : 10_000 + i);
      assert.equal(capacity, 256, 'one round never grows it');
      for (let i = 0; i < 256; i++) capacity = growth.missed(i < second ? 256 + i : 20_000 + i);
      assert.equal(capacity, grows ? 512 : 256, `${first}, then ${second} re-reads of 256 misses`);
    }
  });

  test('a read of the base in order never grows it: no block is read twice', () => {
    assert.deepEqual(grow(cycles(20_000, 1)), { capacity: 256, misses: 20_000 });
  });

  test('jumps to new places every time never grow it', () => {
    const spread = Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 1_000_003);
    assert.equal(grow(spread).capacity, 256);
  });

  test('returning to 1,000 blocks over and over grows it to hold them (4 MiB), then it stops missing', () => {
    const four = grow(cycles(1000, 4));
    const thirty = grow(cycles(1000, 30));
    assert.equal(thirty.capacity, 1024);
    // Growth is decided after each round of misses (256, then 512), so the first rounds still miss; then none.
    assert.equal(thirty.misses, four.misses);
    assert.ok(four.misses < 4 * 1000, `${four.misses} misses`);
  });

  test('700 blocks in rounds: it doubles to 4 MiB, the first size that holds them, and no further', () => {
    assert.equal(grow(cycles(700, 20)).capacity, 1024);
    assert.equal(grow(cycles(400, 20)).capacity, 512);
  });

  test('re-reads one per 256 bytes read or more often grow it; sparser ones (a whole block read each) do not', () => {
    // Every access to 1,000 blocks in rounds misses; each reads 256 bytes (small instructions) or 4 KiB.
    assert.equal(grow(cycles(1000, 30), 256).capacity, 1024);
    assert.equal(grow(cycles(1000, 30), 257).capacity, 256);
    assert.equal(grow(cycles(1000, 30), 4096).capacity, 256);
  });

  test('rounds over more blocks than 4 MiB do not grow it: a larger cache it may have would miss as often', () => {
    // Each block comes back after 3,000 others: past the evicted blocks it remembers, and past its largest size.
    assert.equal(grow(cycles(3000, 10)).capacity, 256);
  });
});

describe('block cache memory', () => {
  test('held blocks: 256 after a sweep through a large base; all of a 3 MiB range read round and round in small reads', async () => {
    const data = randomBytes(12 * 1024 * 1024);
    const path = join(dir, 'sweep.bin');
    await writeFile(path, data);
    const fh = await open(path, 'r');
    try {
      const into = Buffer.alloc(4096);
      const sweep = new BlockCache(fh, path, data.length);
      for (let at = 0; at < data.length; at += 4096) sweep.readSync(into, at, 4096);
      assert.equal(sweep.heldBlocks, 256);
      // 3 MiB read round and round in small reads (the tiny instructions of native code, 64 bytes from each
      // block): more than 1 MiB, so CLOCK alone would miss on every block.
      const cycling = new BlockCache(fh, path, data.length);
      for (let round = 0; round < 6; round++)
        for (let at = 0; at < 3 << 20; at += 4096) {
          cycling.readSync(into, at + round, 64);
          assert.ok(into.subarray(0, 64).equals(data.subarray(at + round, at + round + 64)));
        }
      // The capacity doubled twice, to 1024 blocks; only the 768 the range needs are allocated.
      assert.equal(cycling.heldBlocks, 768);
    } finally {
      await fh.close();
    }
  });
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
