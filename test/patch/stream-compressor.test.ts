/**
 * How a patch stream is compressed: which coders are tried (as data), and that what the StreamCompressor keeps is
 * the smallest of them and decodes to the input with real liblzma, brotli and bzip2.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brotliDecompressSync } from 'node:zlib';
import { bzip2Decompress } from '../../src/patch/bzip2/index.js';
import { lzmaDecompressStream } from '../../src/patch/lzma/decoder.js';
import { loadLzmaNative } from '../../src/patch/lzma/encoder.js';
import { METHOD_BROTLI, METHOD_BZIP2, METHOD_LZMA } from '../../src/patch/notsotuf/format.js';
import {
  bzip2Patch,
  type Compressed,
  mostlyText,
  oneShotBrotliQuality,
  StreamCompressor,
  type StreamPolicy,
} from '../../src/patch/notsotuf/stream-compressor.js';
import { pseudoRandom, pseudoText } from './helpers.js';

const KiB = 1024;
const never: StreamPolicy = { brotliQuality: 11, largeBrotli: 'never' };
const text: StreamPolicy = { brotliQuality: 11, largeBrotli: 'text' };
const always: StreamPolicy = { brotliQuality: 11, largeBrotli: 'always' };

/** Native-code-like bytes: a third control characters. */
function binaryLike(length: number): Uint8Array {
  const bytes = pseudoRandom(length, 7);
  for (let i = 0; i < length; i += 3) bytes[i] = bytes[i]! % 8;
  return bytes;
}

async function decode(c: Compressed): Promise<Buffer> {
  if (c.method === METHOD_BROTLI) return brotliDecompressSync(c.data);
  if (c.method === METHOD_BZIP2) return Buffer.from(bzip2Decompress(c.data));
  assert.equal(c.method, METHOD_LZMA);
  const parts: Buffer[] = [];
  async function* source() {
    yield c.data;
  }
  for await (const part of lzmaDecompressStream(source(), { maxDictSize: 1 << 20, maxOutputLength: 1 << 30 }))
    parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

describe('which coders a stream tries (as data)', () => {
  test('a stream up to 128 KiB tries brotli at its quality, whatever its policy', () => {
    assert.equal(oneShotBrotliQuality(never, binaryLike(128 * KiB), true), 11);
    assert.equal(oneShotBrotliQuality({ ...never, brotliQuality: 9 }, binaryLike(100), true), 9);
  });

  test('above 128 KiB a diff stream is LZMA alone', () => {
    assert.equal(oneShotBrotliQuality(never, binaryLike(128 * KiB + 1), true), undefined);
    assert.equal(oneShotBrotliQuality(never, pseudoText(300 * KiB), true), undefined);
  });

  test('above 128 KiB the extra stream tries brotli when it is text, not when it is native code', () => {
    assert.equal(oneShotBrotliQuality(text, pseudoText(300 * KiB), true), 11);
    assert.equal(oneShotBrotliQuality(text, binaryLike(300 * KiB), true), undefined);
  });

  test('above 128 KiB the ops stream has its streaming brotli, no one-shot', () => {
    assert.equal(oneShotBrotliQuality(always, binaryLike(300 * KiB), true), undefined);
  });

  test('without liblzma every stream is brotli (quality 10 at most above 4 MiB) and bzip2', () => {
    assert.equal(oneShotBrotliQuality(never, binaryLike(300 * KiB), false), 11);
    assert.equal(oneShotBrotliQuality(never, new Uint8Array((4 << 20) + 1), false), 10);
  });

  test("a patch's bzip2 is in 100 kB blocks (a client decodes it in 0.4 MB of tables, not 3.6 MB)", () => {
    const bytes = binaryLike(250 * KiB);
    const packed = bzip2Patch(bytes);
    assert.equal(Buffer.from(packed.subarray(0, 4)).toString('latin1'), 'BZh1');
    assert.deepEqual(Buffer.from(bzip2Decompress(packed)), Buffer.from(bytes));
  });

  test('text: tar padding (NUL) and whitespace are allowed, 1 % of other control bytes is not', () => {
    const source = pseudoText(10_000);
    const withPadding = new Uint8Array(12_000);
    withPadding.set(source);
    assert.equal(mostlyText(withPadding), true);
    const spoiled = Uint8Array.from(source);
    for (let i = 0; i < 100; i++) spoiled[i * 100] = 1;
    assert.equal(mostlyText(spoiled), false);
    spoiled[0] = 0x20;
    assert.equal(mostlyText(spoiled), true);
  });
});

describe('StreamCompressor', async () => {
  const lzma = await loadLzmaNative();
  const cases: { name: string; policy: StreamPolicy; bytes: Uint8Array; withLzma: boolean }[] = [
    { name: 'a tiny stream', policy: never, bytes: pseudoText(5 * KiB), withLzma: true },
    { name: 'a large diff stream', policy: never, bytes: binaryLike(300 * KiB), withLzma: true },
    { name: 'large inserted text', policy: text, bytes: pseudoText(300 * KiB), withLzma: true },
    { name: 'a large ops stream', policy: always, bytes: binaryLike(300 * KiB), withLzma: true },
    { name: 'a stream over 1 MiB', policy: always, bytes: pseudoText(1200 * KiB), withLzma: true },
    { name: 'no liblzma', policy: always, bytes: pseudoText(200 * KiB), withLzma: false },
    {
      name: 'the plain form',
      policy: { ...never, withBzip2: true },
      bytes: binaryLike(50 * KiB),
      withLzma: true,
    },
  ];
  for (const { name, policy, bytes, withLzma } of cases) {
    test(`${name}: the smallest candidate, decoding to the input`, async () => {
      assert.ok(lzma, 'lzma-native is a dependency of the publisher and must load here');
      const c = new StreamCompressor(withLzma ? lzma : undefined, policy);
      // Fed in uneven chunks, as the plan makes them.
      for (let i = 0, n = 1; i < bytes.length; i += n, n = (n * 7 + 3) % 70_000)
        c.push(bytes.subarray(i, i + n));
      const result = await c.finish();
      assert.deepEqual(await decode(result), Buffer.from(bytes));
      if (!withLzma) assert.notEqual(result.method, METHOD_LZMA);
      if (!withLzma) return;
      // Never larger than LZMA alone, which every stream tries.
      const lzmaOnly = new StreamCompressor(lzma, { ...never, brotliQuality: 0 });
      lzmaOnly.push(bytes);
      const lzmaSize = (await lzmaOnly.finish()).data.length;
      assert.ok(result.data.length <= lzmaSize, `${result.data.length} > ${lzmaSize}`);
    });
  }
});

/** The window size a brotli stream declares (RFC 7932, 9.1: WBITS in its first bits), as log2. */
function brotliWindowBits(data: Uint8Array): number {
  const b = data[0]! | (data[1]! << 8);
  if ((b & 1) === 0) return 16;
  const n = (b >> 1) & 7;
  if (n !== 0) return 17 + n;
  const m = (b >> 4) & 7;
  return m === 0 ? 17 : 8 + m;
}

test('brotli streams declare a 1 MiB window: apply decodes the ops stream twice at once, a window each', async () => {
  const lzma = await loadLzmaNative();
  assert.ok(lzma, 'lzma-native is a dependency of the publisher and must load here');
  // An ops stream over 1 MiB: brotli streamed alongside LZMA; whichever wins, brotli's result is kept.
  const c = new StreamCompressor(lzma, always);
  const bytes = binaryLike(1300 * KiB);
  for (let i = 0; i < bytes.length; i += 64 * KiB) c.push(bytes.subarray(i, i + 64 * KiB));
  const result = await c.finish();
  const brotli = result.method === METHOD_BROTLI ? result.data : result.brotli;
  assert.ok(brotli, 'brotli was tried');
  assert.equal(brotliWindowBits(brotli), 20);
});
