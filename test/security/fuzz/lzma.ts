/** Fuzzing of the streaming LZMA decoder (src/patch/lzma/decoder.ts) with random and mutated `.lzma` streams. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lzmaDecompressStream } from '../../../src/patch/lzma/decoder.js';
import { ALONE_HEADER_SIZE, parseAloneHeader } from '../../../src/patch/lzma/format.js';
import { MAX_LZMA_DICT } from '../../../src/patch/notsotuf/format.js';
import {
  assertMemoryBounded,
  bytesEqual,
  chunked,
  chunkSizes,
  collect,
  concatBytes,
  DECODE_LIMIT,
  type FuzzArea,
  lzmaAvailable,
  lzmaCompressed,
  type Outcome,
  outcomeOf,
  PATCH_CODEC_CODES,
  sameOutcome,
} from './common.js';
import { type Layout, maybeMutations, mutated, writeLE } from './mutations.js';

const LZMA_LAYOUT: Layout = {
  headerSize: ALONE_HEADER_SIZE,
  fields: [
    { offset: 0, width: 1 },
    { offset: 1, width: 4 },
    { offset: 5, width: 8 },
    { offset: 5, width: 4 },
  ],
};

function lzmaDecode(bytes: Uint8Array, sizes: readonly number[]): Promise<Outcome<Uint8Array>> {
  return outcomeOf(
    () =>
      collect(
        lzmaDecompressStream(chunked(bytes, sizes), {
          maxDictSize: MAX_LZMA_DICT,
          maxOutputLength: DECODE_LIMIT,
        }),
      ),
    PATCH_CODEC_CODES,
  );
}

/** Decodes whole and chunked (which must agree) and checks the output against the header: the whole outcome. */
async function decodeBothWays(bytes: Uint8Array, sizes: readonly number[]): Promise<Outcome<Uint8Array>> {
  const whole = await lzmaDecode(bytes, []);
  sameOutcome(whole, await lzmaDecode(bytes, sizes), 'whole vs chunked');
  if (whole.ok) {
    assert.ok(bytes.length >= ALONE_HEADER_SIZE);
    const props = parseAloneHeader(bytes, Number.MAX_SAFE_INTEGER);
    // Never more than declared (the declared size also bounds the decoder's window).
    if (props.size !== undefined)
      assert.ok(whole.value.length <= props.size, 'no more output than the declared size');
  }
  return whole;
}

export const lzmaProperties: FuzzArea = ({ scale }) => {
  const lzmaHeader = fc
    .record({
      props: fc.oneof(fc.constantFrom(0x5d, 0, 224, 225, 255), fc.integer({ min: 0, max: 255 })),
      dict: fc.oneof(fc.constantFrom(0, 4096, 1 << 16, 1 << 20, (1 << 20) + 1, 2 ** 32 - 1), fc.nat()),
      size: fc.oneof(
        fc.constantFrom(-1n, 0n, 1n, 100n, 1n << 20n, (1n << 20n) + 1n, 2n ** 53n, 2n ** 64n - 1n),
        fc.bigInt({ min: 0n, max: 5000n }),
      ),
    })
    .map(({ props, dict, size }) => {
      const h = new Uint8Array(ALONE_HEADER_SIZE);
      h[0] = props;
      writeLE(h, 1, 4, BigInt(dict));
      writeLE(h, 5, 8, size);
      return h;
    });
  const max = 3000 * scale;
  return [
    {
      name: 'lzma: arbitrary streams decode the same in any chunking, within the limits, or are refused',
      testRuns: 80,
      weight: 1,
      property: fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: max }),
          // The range coder's first byte is always 0: keep it so that decoding gets going.
          fc
            .tuple(lzmaHeader, fc.boolean(), fc.uint8Array({ maxLength: max }))
            .map(([h, zero, body]) => concatBytes([h, zero ? Uint8Array.of(0) : new Uint8Array(0), body])),
        ),
        chunkSizes,
        async (bytes, sizes) => {
          await decodeBothWays(bytes, sizes);
          assertMemoryBounded();
        },
      ),
    },
    {
      name: 'lzma: mutated liblzma streams decode the same in any chunking, within the limits, or are refused',
      testRuns: 40,
      weight: 0.5,
      available: lzmaAvailable,
      property: fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: max }),
          fc.array(fc.constantFrom(0, 1, 97), { maxLength: max }).map((a) => Uint8Array.from(a)),
        ),
        maybeMutations(LZMA_LAYOUT),
        chunkSizes,
        async (input, mutations, sizes) => {
          const { bytes, intact } = mutated(await lzmaCompressed(input), mutations, LZMA_LAYOUT);
          const whole = await decodeBothWays(bytes, sizes);
          if (intact) {
            assert.ok(whole.ok, 'the unmutated stream decodes');
            assert.ok(bytesEqual(whole.value, input), 'to its input');
          }
          assertMemoryBounded();
        },
      ),
    },
    {
      name: 'lzma: a stream that ends before its declared size is refused',
      testRuns: 30,
      weight: 0.5,
      available: lzmaAvailable,
      property: fc.asyncProperty(
        fc.uint8Array({ maxLength: 2000 }),
        fc.integer({ min: 1, max: 5000 }),
        async (input, extra) => {
          const bytes = Uint8Array.from(await lzmaCompressed(input));
          writeLE(bytes, 5, 8, BigInt(input.length + extra));
          const r = await lzmaDecode(bytes, []);
          assert.ok(
            !r.ok,
            `decoded ${r.ok ? r.value.length : 0} bytes where the header declares ${input.length + extra}`,
          );
        },
      ),
    },
  ];
};
