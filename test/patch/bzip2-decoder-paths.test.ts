/**
 * The bzip2 decoder's fast paths against their definitions: the Huffman lookup table against the canonical walk
 * (every code length 1..20, complete, incomplete and oversubscribed codes), the run CRC against byte-at-a-time
 * steps, and whole streams written by Debian's `bzip2` at levels 1 and 9 (several blocks, long codes), whole,
 * streamed, truncated and damaged.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { BitWindow } from '../../src/patch/bzip2/bit-window.js';
import { BitWriter } from '../../src/patch/bzip2/bit-writer.js';
import { crcUpdateRun, crcUpdateRunSlow } from '../../src/patch/bzip2/crc32.js';
import { canonicalCodes, HuffmanDecoder, LOOKUP_BITS } from '../../src/patch/bzip2/huffman.js';
import { bzip2Decompress, bzip2DecompressStream } from '../../src/patch/index.js';
import { concat, hasTool, pseudoRandom, pseudoText } from './helpers.js';

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * The canonical walk as the format defines it (and as the decoder did before its lookup table): the first length
 * whose prefix of the input is at most the last code of that length. Returns symbol << 5 | length, or -1.
 */
function referenceDecode(lengths: Uint8Array, n: number, top32: number): number {
  const codes = canonicalCodes(lengths, n);
  for (let len = 1; len <= 20; len++) {
    let last = -1;
    let first = -1;
    let firstSym = -1;
    for (let s = 0; s < n; s++) {
      if (lengths[s] !== len) continue;
      if (first < 0) first = codes[s]!;
      last = codes[s]!;
      if (firstSym < 0) firstSym = s;
    }
    if (last < 0) continue;
    const prefix = top32 >>> (32 - len);
    if (prefix < first || prefix > last) continue;
    // Codes of a length are consecutive, in symbol order.
    let k = prefix - first;
    for (let s = 0; s < n; s++) {
      if (lengths[s] !== len) continue;
      if (k-- === 0) return (s << 5) | len;
    }
  }
  return -1;
}

function windowOf(bytes: Uint8Array): BitWindow {
  const win = new BitWindow(bytes.length);
  win.append(bytes);
  win.ended = true;
  return win;
}

/** Decodes one symbol from a 32-bit pattern with the table; returns symbol << 5 | length, or -1 on rejection. */
function tableDecode(table: HuffmanDecoder, top32: number): number {
  const bytes = Uint8Array.of(top32 >>> 24, (top32 >>> 16) & 0xff, (top32 >>> 8) & 0xff, top32 & 0xff);
  const win = windowOf(bytes);
  try {
    const sym = table.decode(win);
    return (sym << 5) | win.pos;
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'PATCH_INVALID');
    return -1;
  }
}

function checkAgainstReference(lengths: Uint8Array, n: number, patterns: Iterable<number>): void {
  const table = new HuffmanDecoder();
  table.build(lengths, n);
  for (const p of patterns) {
    const expected = referenceDecode(lengths, n, p);
    assert.equal(tableDecode(table, p), expected, `pattern ${p.toString(2).padStart(32, '0')}`);
  }
}

/** Every pattern of the first 12 bits (past the table) followed by a few tails, plus random ones. */
function patterns(seed: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let head = 0; head < 1 << 12; head++) {
    out.push(((head << 20) | ((r() * (1 << 20)) >>> 0)) >>> 0);
    out.push(((head << 20) | 0xfffff) >>> 0, (head << 20) >>> 0);
  }
  for (let i = 0; i < 2000; i++) out.push((r() * 2 ** 32) >>> 0);
  return out;
}

describe('bzip2 Huffman lookup table', () => {
  test('a complete code with every length 1..20 decodes every pattern as the canonical walk does', () => {
    // Lengths 1, 2, …, 20, 20: Kraft sum exactly 1. Symbols shuffled so that canonical order is not symbol order.
    const n = 21;
    const lengths = new Uint8Array(n);
    const order = [7, 0, 13, 2, 19, 4, 11, 6, 1, 8, 15, 10, 3, 12, 17, 14, 5, 16, 9, 18, 20];
    for (let i = 0; i < n; i++) lengths[order[i]!] = Math.min(i + 1, 20);
    assert.ok(lengths.includes(1) && lengths.includes(20) && lengths.includes(LOOKUP_BITS + 1));
    checkAgainstReference(lengths, n, patterns(1));
  });

  test('symbols written with the canonical codes read back, short and long codes mixed', () => {
    const n = 21;
    const lengths = Uint8Array.from({ length: n }, (_, i) => Math.min(i + 1, 20));
    const codes = canonicalCodes(lengths, n);
    const r = rng(2);
    const symbols = Array.from({ length: 5000 }, () => Math.floor(r() * n));
    const w = new BitWriter();
    for (const s of symbols) w.bits(lengths[s]!, codes[s]!);
    w.alignToByte();
    const win = windowOf(w.take());
    const table = new HuffmanDecoder();
    table.build(lengths, n);
    for (const s of symbols) assert.equal(table.decode(win), s);
  });

  test('random lengths (incomplete and oversubscribed codes) agree with the canonical walk, misses rejected', () => {
    const r = rng(3);
    for (let round = 0; round < 40; round++) {
      const n = 3 + Math.floor(r() * 256);
      // Mostly short or mostly long lengths, so that both table hits and the long walk are exercised.
      const maxLen = round % 2 === 0 ? 12 : 20;
      const lengths = Uint8Array.from({ length: n }, () => 1 + Math.floor(r() * maxLen));
      checkAgainstReference(lengths, n, patterns(100 + round).slice(0, 3000));
    }
  });

  test('a pattern past the end of an incomplete code is PATCH_INVALID', () => {
    // Three codes of length 2 (00, 01, 10): 11… matches nothing.
    const table = new HuffmanDecoder();
    table.build(Uint8Array.of(2, 2, 2), 3);
    assert.equal(tableDecode(table, 0xc0000000), -1);
    assert.equal(tableDecode(table, 0x80000000), (2 << 5) | 2);
  });
});

describe('bzip2 run CRC', () => {
  test('crcUpdateRun equals byte-at-a-time steps for every count 0..600 and large ones', () => {
    const r = rng(4);
    for (let count = 0; count <= 600; count++) {
      const crc = (r() * 2 ** 32) >>> 0;
      const byte = Math.floor(r() * 256);
      assert.equal(crcUpdateRun(crc, byte, count), crcUpdateRunSlow(crc, byte, count), `count ${count}`);
    }
    for (const count of [4096, 65_535, 900_001]) {
      assert.equal(crcUpdateRun(0xffffffff, 0, count), crcUpdateRunSlow(0xffffffff, 0, count));
    }
  });
});

const skip = hasTool('bzip2') ? false : 'the bzip2 command is not installed (apt-get install -y bzip2)';

describe('bzip2 decoder on streams written by the bzip2 command', { skip }, () => {
  const cli = (args: string[], input: Uint8Array): Uint8Array =>
    new Uint8Array(execFileSync('bzip2', args, { input, maxBuffer: 64 << 20 }));

  /** Bytes with a skewed (Zipf-like) distribution over all 256 values: rare ones get codes of 11..17 bits. */
  function skewed(length: number, seed: number): Uint8Array {
    const r = rng(seed);
    return Uint8Array.from({ length }, () => Math.min(255, Math.floor(1 / (r() + 1 / 256)) - 1));
  }

  // Long zero runs with sparse changes, like a bsdiff diff block; text; skewed; random: 2.6 MB, several blocks.
  const diffLike = new Uint8Array(1_200_000);
  {
    const r = rng(5);
    for (let i = 0; i < diffLike.length; i += 1 + Math.floor(r() * 400)) diffLike[i] = Math.floor(r() * 256);
  }
  const data = concat(diffLike, pseudoText(600_000, 6), skewed(500_000, 7), pseudoRandom(300_000, 8));

  for (const level of ['-1', '-9']) {
    test(`bzip2 ${level}: whole, and streamed in 1000-byte pieces`, async () => {
      const z = cli([`${level}c`], data);
      assert.deepEqual(bzip2Decompress(z), data);
      const parts: Uint8Array[] = [];
      const pieces = function* (): Generator<Uint8Array> {
        for (let i = 0; i < z.length; i += 1000) yield z.subarray(i, i + 1000);
      };
      for await (const p of bzip2DecompressStream(pieces(), { chunkSize: 4096 })) parts.push(p);
      assert.deepEqual(concat(...parts), data);
    });
  }

  test('bzip2 -1: a bit flipped inside the symbol data of any block is PATCH_INVALID', () => {
    const z = cli(['-1c'], data);
    const r = rng(9);
    for (let i = 0; i < 30; i++) {
      // Past the stream header and the first block's tables; bits anywhere in the rest of the stream.
      const at = 200 + Math.floor(r() * (z.length - 210));
      const bad = Uint8Array.from(z);
      bad[at]! ^= 1 << Math.floor(r() * 8);
      assert.throws(() => bzip2Decompress(bad), { code: 'PATCH_INVALID' }, `flip at ${at}`);
    }
  });

  test('bzip2 -9: truncated anywhere is PATCH_INVALID', () => {
    const z = cli(['-9c'], data);
    for (const cut of [
      5,
      40,
      1000,
      Math.floor(z.length / 3),
      Math.floor(z.length / 2),
      z.length - 11,
      z.length - 1,
    ]) {
      assert.throws(() => bzip2Decompress(z.subarray(0, cut)), { code: 'PATCH_INVALID' }, `cut at ${cut}`);
    }
  });
});
