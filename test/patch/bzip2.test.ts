/** bzip2 round trips through our encoder and decoder (in-memory and streaming). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  Bzip2Encoder,
  bzip2Compress,
  bzip2Decompress,
  bzip2DecompressStream,
} from '../../src/patch/index.js';
import { codeOf, concat, pseudoRandom, pseudoText } from './helpers.js';

function roundTrip(data: Uint8Array, blockSize100k?: number): Uint8Array {
  const z = bzip2Compress(data, blockSize100k === undefined ? {} : { blockSize100k });
  assert.deepEqual(bzip2Decompress(z), data);
  return z;
}

async function streamDecode(z: Uint8Array, pieceSize: number): Promise<Uint8Array> {
  function* pieces(): Generator<Uint8Array> {
    for (let i = 0; i < z.length; i += pieceSize) yield z.subarray(i, i + pieceSize);
  }
  const parts: Uint8Array[] = [];
  for await (const part of bzip2DecompressStream(pieces())) parts.push(part);
  return concat(...parts);
}

describe('bzip2 round trip', () => {
  const table: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(0x41)],
    ['two bytes', Uint8Array.of(0, 255)],
    ['all the same byte', new Uint8Array(200_000).fill(0x61)],
    ['runs of every length 1..300', runsOfEveryLength()],
    ['text', pseudoText(100_000, 2)],
    ['random', pseudoRandom(100_000, 3)],
    ['every byte value', Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff)],
    ['periodic', Uint8Array.from({ length: 50_000 }, (_, i) => (i % 3) + 1)],
  ];
  for (const [name, data] of table) test(name, () => void roundTrip(data));

  test('the empty stream is the 14 bytes bzip2 writes', () => {
    assert.deepEqual(
      Array.from(bzip2Compress(new Uint8Array(0))),
      [0x42, 0x5a, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0, 0, 0, 0],
    );
  });

  test('large (3 MB, several 900k blocks) mixed input', () => {
    const data = concat(
      pseudoText(1_200_000, 4),
      pseudoRandom(600_000, 5),
      new Uint8Array(1_200_000).fill(9),
    );
    const z = roundTrip(data);
    assert.ok(z.length < 1_000_000);
  });

  test('block sizes 1, 2, 3 and 9, with runs crossing block boundaries', () => {
    const data = concat(pseudoText(150_000, 6), new Uint8Array(70_000).fill(1), pseudoText(90_000, 7));
    for (const level of [1, 2, 3, 9]) {
      const z = roundTrip(data, level);
      assert.equal(z[3], 0x30 + level);
    }
  });

  test('incremental encoder: many small pushes give the same bytes as one call', () => {
    const data = pseudoText(250_000, 8);
    const enc = new Bzip2Encoder({ blockSize100k: 1 });
    const out: Uint8Array[] = [];
    for (let i = 0; i < data.length; i += 777) out.push(...enc.push(data.subarray(i, i + 777)));
    out.push(...enc.finish());
    assert.deepEqual(concat(...out), bzip2Compress(data, { blockSize100k: 1 }));
  });

  test('streaming decode with input pieces of 1, 7 and 65536 bytes', async () => {
    const data = concat(pseudoText(120_000, 9), new Uint8Array(5000));
    const z = bzip2Compress(data, { blockSize100k: 1 });
    for (const size of [1, 7, 65536]) assert.deepEqual(await streamDecode(z, size), data);
  });

  test('concatenated streams decode as one', async () => {
    const a = pseudoText(1000, 10);
    const b = pseudoRandom(1000, 11);
    const z = concat(
      bzip2Compress(a),
      bzip2Compress(new Uint8Array(0)),
      bzip2Compress(b, { blockSize100k: 2 }),
    );
    assert.deepEqual(bzip2Decompress(z), concat(a, b));
    assert.deepEqual(await streamDecode(z, 100), concat(a, b));
  });

  test('maxOutputLength stops a decompression bomb', async () => {
    const z = bzip2Compress(new Uint8Array(5_000_000));
    assert.ok(z.length < 200);
    assert.equal(await codeOf(() => bzip2Decompress(z, { maxOutputLength: 1_000_000 })), 'PATCH_INVALID');
    const stream = bzip2DecompressStream([z], { maxOutputLength: 1_000_000 });
    assert.equal(
      await codeOf(async () => {
        for await (const _ of stream);
      }),
      'PATCH_INVALID',
    );
  });

  test('rejects a block size outside 1..9 when encoding', () => {
    assert.throws(() => new Bzip2Encoder({ blockSize100k: 0 }), RangeError);
    assert.throws(() => new Bzip2Encoder({ blockSize100k: 10 }), RangeError);
  });

  test('property: random and run-heavy inputs round-trip', () => {
    const runHeavy = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 600 })), { maxLength: 40 })
      .map((runs) => Uint8Array.from(runs.flatMap(([b, n]) => Array<number>(n).fill(b))));
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 2000 }), runHeavy),
        fc.integer({ min: 1, max: 9 }),
        (d, l) => {
          assert.deepEqual(bzip2Decompress(bzip2Compress(d, { blockSize100k: l })), d);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Runs of every length 1..300 of alternating bytes: exercises stage-1 run coding at 3, 4, 5, 255 and 256. */
function runsOfEveryLength(): Uint8Array {
  const parts: number[] = [];
  for (let n = 1; n <= 300; n++) for (let k = 0; k < n; k++) parts.push(n & 1 ? 0x10 : 0x20);
  return Uint8Array.from(parts);
}
