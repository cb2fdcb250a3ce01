/** Fuzzing of the bzip2 decoder (src/patch/bzip2), whole and streamed, with random and mutated streams. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bzip2Compress, bzip2Decompress, bzip2DecompressStream } from '../../../src/patch/bzip2/index.js';
import {
  assertMemoryBounded,
  bytesEqual,
  chunked,
  chunkSizes,
  collect,
  concatBytes,
  DECODE_LIMIT,
  type FuzzArea,
  outcomeOf,
  outcomeOfSync,
  PATCH_CODEC_CODES,
  sameOutcome,
} from './common.js';
import { type Layout, maybeMutations, mutated } from './mutations.js';

const BZIP2_LAYOUT: Layout = {
  headerSize: 14,
  fields: [
    { offset: 3, width: 1 },
    { offset: -4, width: 4 },
  ],
};

/** The bytes to decode, and the input they are a (possibly mutated) compression of. */
interface Bzip2Case {
  input: Uint8Array | undefined;
  bytes: Uint8Array;
  mutated: boolean;
}

export const bzip2Properties: FuzzArea = ({ scale }) => {
  const max = 3000 * scale;
  return [
    {
      name: 'bzip2: random and mutated streams decode the same sync and streamed, exactly or not at all',
      testRuns: 80,
      weight: 1,
      property: fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: max }).map((bytes) => ({ input: undefined, bytes, mutated: true })),
          fc
            .uint8Array({ maxLength: max })
            .map((b) => ({ input: undefined, bytes: concatBytes([Buffer.from('BZh9'), b]), mutated: true })),
          fc
            .tuple(
              fc.oneof(
                fc.uint8Array({ maxLength: max }),
                fc.array(fc.constantFrom(0, 0, 0, 7), { maxLength: max * 4 }).map((a) => Uint8Array.from(a)),
              ),
              fc.integer({ min: 1, max: 9 }),
              maybeMutations(BZIP2_LAYOUT),
            )
            .map(([input, level, mutations]): Bzip2Case => {
              const good = bzip2Compress(input, { blockSize100k: level });
              const { bytes, intact } = mutated(good, mutations, BZIP2_LAYOUT);
              return { input, bytes, mutated: !intact };
            }),
        ),
        chunkSizes,
        async (c, sizes) => {
          const sync = outcomeOfSync(
            () => bzip2Decompress(c.bytes, { maxOutputLength: DECODE_LIMIT }),
            PATCH_CODEC_CODES,
          );
          const streamed = await outcomeOf(
            () =>
              collect(
                bzip2DecompressStream(chunked(c.bytes, sizes), {
                  maxOutputLength: DECODE_LIMIT,
                  chunkSize: 4096,
                  reuseBuffers: true,
                }),
              ),
            PATCH_CODEC_CODES,
          );
          sameOutcome(sync, streamed, 'sync vs streamed');
          if (sync.ok) {
            assert.ok(sync.value.length <= DECODE_LIMIT);
            // bzip2 has block and stream CRCs: a damaged stream that still decodes must decode to the original.
            if (c.input) assert.ok(bytesEqual(sync.value, c.input), 'the output is the compressed input');
          } else if (c.input && !c.mutated && c.input.length <= DECODE_LIMIT) {
            assert.fail(`an unmutated stream was refused: ${sync.error.message}`);
          }
          assertMemoryBounded();
        },
      ),
    },
  ];
};
