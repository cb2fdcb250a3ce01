/**
 * Malformed bzip2 input: every failure is PATCH_INVALID (never another error, never a hang, never a wrong
 * output), including hand-edited header fields that would drive allocations or loops if trusted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bzip2Compress, bzip2Decompress, bzip2DecompressStream } from '../../src/patch/index.js';
import { codeOf, concat, pseudoRandom, pseudoText } from './helpers.js';

/** Decodes with both front ends; returns 'OK' (output checked against `expected`) or the error code. */
async function outcome(z: Uint8Array, expected: Uint8Array): Promise<string> {
  const sync = await codeOf(() => assert.deepEqual(bzip2Decompress(z), expected));
  const streamed = await codeOf(async () => {
    const parts: Uint8Array[] = [];
    for await (const p of bzip2DecompressStream([z.subarray(0, 5), z.subarray(5)])) parts.push(p);
    assert.deepEqual(concat(...parts), expected);
  });
  assert.equal(streamed, sync, 'both decoders agree');
  return sync;
}

/** Overwrites `n` bits at bit offset `at` (MSB first, as bzip2 packs them). */
function setBits(data: Uint8Array, at: number, n: number, value: number): Uint8Array {
  const out = Uint8Array.from(data);
  for (let i = 0; i < n; i++) {
    const bit = (value >>> (n - 1 - i)) & 1;
    const p = at + i;
    if (bit) out[p >>> 3]! |= 0x80 >>> (p & 7);
    else out[p >>> 3]! &= ~(0x80 >>> (p & 7));
  }
  return out;
}

function getBits(data: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = (v << 1) | ((data[(at + i) >>> 3]! >>> (7 - ((at + i) & 7))) & 1);
  return v;
}

/** Bit offsets of the first block's fields (block magic starts at bit 32, after "BZh9"). */
function fieldOffsets(z: Uint8Array): { origPtr: number; nGroups: number; nSelectors: number } {
  const origPtr = 32 + 48 + 32 + 1;
  const map = origPtr + 24;
  let ranges = getBits(z, map, 16);
  let used = 0;
  for (; ranges; ranges &= ranges - 1) used++;
  const nGroups = map + 16 + 16 * used;
  return { origPtr, nGroups, nSelectors: nGroups + 3 };
}

describe('bzip2 corrupt input', () => {
  const data = concat(pseudoText(20_000, 31), pseudoRandom(3000, 32), new Uint8Array(2000).fill(3));
  const z = bzip2Compress(data);

  test('every single-byte flip is rejected or (padding bits) harmless', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < z.length; i += Math.max(1, Math.floor(z.length / 150))) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Uint8Array.from(z);
        bad[i]! ^= mask;
        const code = await outcome(bad, data);
        seen.add(code);
        if (code === 'OK') assert.equal(i, z.length - 1, `flip at ${i} went unnoticed`);
        else assert.equal(code, 'PATCH_INVALID', `flip at ${i}`);
      }
    }
    assert.ok(seen.has('PATCH_INVALID'));
  });

  test('truncation at any point is rejected', async () => {
    for (let cut = 0; cut < z.length; cut += Math.max(1, Math.floor(z.length / 300))) {
      assert.equal(await outcome(z.subarray(0, cut), data), 'PATCH_INVALID', `cut at ${cut}`);
    }
    assert.equal(await outcome(z.subarray(0, z.length - 1), data), 'PATCH_INVALID');
  });

  test('trailing garbage after the stream is rejected', async () => {
    assert.equal(await outcome(concat(z, Uint8Array.of(0)), data), 'PATCH_INVALID');
    assert.equal(await outcome(concat(z, new TextEncoder().encode('BZh9')), data), 'PATCH_INVALID');
  });

  const table: Array<[string, Uint8Array]> = [
    ['empty input', new Uint8Array(0)],
    ['bad magic', setBits(z, 0, 8, 0x43)],
    ['block size digit 0', setBits(z, 24, 8, 0x30)],
    ['block size digit :', setBits(z, 24, 8, 0x3a)],
    ['bad block magic', setBits(z, 32, 24, 0x314158)],
    ['randomised block', setBits(z, 32 + 80, 1, 1)],
    ['origPtr past the block size', setBits(z, fieldOffsets(z).origPtr, 24, 0xffffff)],
    ['origPtr past the block end', setBits(z, fieldOffsets(z).origPtr, 24, 899_999)],
    ['no byte values used', setBits(z, fieldOffsets(z).origPtr + 24, 16, 0)],
    ['1 table', setBits(z, fieldOffsets(z).nGroups, 3, 1)],
    ['7 tables', setBits(z, fieldOffsets(z).nGroups, 3, 7)],
    ['0 selectors', setBits(z, fieldOffsets(z).nSelectors, 15, 0)],
    ['32767 selectors', setBits(z, fieldOffsets(z).nSelectors, 15, 0x7fff)],
    ['18003 selectors', setBits(z, fieldOffsets(z).nSelectors, 15, 18_003)],
    ['bad stream CRC', setBits(z, (z.length - 5) * 8, 8, z[z.length - 5]! ^ 1)],
  ];
  for (const [name, bad] of table) {
    test(name, async () => assert.equal(await outcome(bad, data), 'PATCH_INVALID'));
  }

  test('a zero run longer than the block is rejected, not expanded', async () => {
    // Tables in which RUNB is the 1-bit code '0': the zero bits that follow are a run of astronomic length.
    const header = concat(
      new TextEncoder().encode('BZh1'),
      Uint8Array.of(0x31, 0x41, 0x59, 0x26, 0x53, 0x59),
    );
    const body = new Uint8Array(64);
    let bits = 0;
    const put = (n: number, v: number): void => {
      const b = setBits(body, bits, n, v);
      body.set(b);
      bits += n;
    };
    put(32, 0); // block CRC
    put(1, 0); // not randomised
    put(24, 0); // origPtr
    put(16, 0x8000); // bytes 0..15 range used
    put(16, 0x8000); // byte 0 used: alphabet RUNA, RUNB, EOB
    put(3, 2); // 2 tables
    put(15, 1); // 1 selector
    put(1, 0); // selector 0
    for (let t = 0; t < 2; t++) {
      put(5, 2); // lengths 2, 1, 2: RUNA=10, RUNB=0, EOB=11
      put(1, 0);
      put(2, 3);
      put(1, 0);
      put(2, 2);
      put(1, 0);
    }
    const stream = concat(header, body.subarray(0, Math.ceil(bits / 8)), new Uint8Array(40));
    assert.equal(await outcome(stream, new Uint8Array(0)), 'PATCH_INVALID');
    assert.throws(() => bzip2Decompress(stream), /zero run is longer than a block/);
  });
});
