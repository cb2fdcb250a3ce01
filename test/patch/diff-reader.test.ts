import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isNotsotufError } from '../../src/core/errors.js';
import { ByteReader } from '../../src/patch/notsotuf/byte-reader.js';
import { DiffReader } from '../../src/patch/notsotuf/diff-reader.js';
import { pushVarint } from '../../src/patch/notsotuf/format.js';

/** A reader over `bytes` delivered in chunks of `chunk` bytes, so varints and runs straddle refills. */
function reader(bytes: Uint8Array, chunk: number, name: string): ByteReader {
  async function* source() {
    for (let i = 0; i < bytes.length; i += chunk) yield Buffer.from(bytes.subarray(i, i + chunk));
  }
  return new ByteReader(source(), name);
}

/** The run-length form of `diff` (format.ts): (zeros, others) pairs and the other bytes. */
function runLength(diff: Uint8Array): { runs: Uint8Array; others: Uint8Array } {
  const runs: number[] = [];
  const others: number[] = [];
  let i = 0;
  while (i < diff.length) {
    const zerosStart = i;
    while (i < diff.length && diff[i] === 0) i++;
    const othersStart = i;
    while (i < diff.length && diff[i] !== 0) others.push(diff[i++]!);
    pushVarint(runs, othersStart - zerosStart);
    pushVarint(runs, i - othersStart);
  }
  return { runs: Uint8Array.from(runs), others: Uint8Array.from(others) };
}

/** Applies `diff` onto a base of ones, in pieces of the given sizes, through a DiffReader. */
async function applyInPieces(diffReader: DiffReader, total: number, pieces: number[]): Promise<Uint8Array> {
  const out = new Uint8Array(total);
  let at = 0;
  let k = 0;
  while (at < total) {
    const n = Math.min(total - at, pieces[k++ % pieces.length]!);
    const piece = new Uint8Array(n).fill(1);
    await diffReader.addInto(piece, n);
    out.set(piece, at);
    at += n;
  }
  return out;
}

const expected = (diff: Uint8Array) => diff.map((d) => (d + 1) & 0xff);
const diffBytes = fc.uint8Array({ maxLength: 3000 }).map((a) => a.map((b) => (b < 180 ? 0 : b)));

describe('DiffReader', () => {
  test('property: run-length form, any chunking of the streams and any piece sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        diffBytes,
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
        async (diff, chunk, pieces) => {
          const { runs, others } = runLength(diff);
          const r = new DiffReader(reader(runs, chunk, 'runs'), reader(others, chunk, 'bytes'));
          assert.deepEqual(await applyInPieces(r, diff.length, pieces), expected(diff));
          assert.equal(await r.atEnd(), true);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('property: plain form', async () => {
    await fc.assert(
      fc.asyncProperty(diffBytes, fc.integer({ min: 1, max: 64 }), async (diff, chunk) => {
        const r = new DiffReader(undefined, reader(diff, chunk, 'bytes'));
        assert.deepEqual(await applyInPieces(r, diff.length, [333]), expected(diff));
        assert.equal(await r.atEnd(), true);
      }),
      { numRuns: 100 },
    );
  });

  test('runs that promise more bytes than the bytes stream has: PATCH_INVALID', async () => {
    const runs: number[] = [];
    pushVarint(runs, 2);
    pushVarint(runs, 10);
    const r = new DiffReader(
      reader(Uint8Array.from(runs), 1, 'runs'),
      reader(Uint8Array.of(5, 5), 1, 'bytes'),
    );
    await assert.rejects(applyInPieces(r, 12, [12]), (e) => isNotsotufError(e, 'PATCH_INVALID'));
  });

  test('left-over runs are not at the end', async () => {
    const runs: number[] = [];
    pushVarint(runs, 100);
    pushVarint(runs, 0);
    const r = new DiffReader(reader(Uint8Array.from(runs), 8, 'runs'), reader(new Uint8Array(0), 8, 'bytes'));
    await applyInPieces(r, 50, [50]);
    assert.equal(await r.atEnd(), false);
  });
});
