/** Fuzzing of gunzip to a file (src/archive/gunzip-file.ts) with random, mutated and bomb gzip files. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { gunzipToFile } from '../../../src/archive/gunzip-file.js';
import { GZIP_HEADER, GzipChecksum } from '../../../src/archive/gzip-frame.js';
import {
  assertMemoryBounded,
  bytesEqual,
  concatBytes,
  exists,
  type FuzzArea,
  outcomeOf,
  sha256Hex,
} from './common.js';
import { type Layout, maybeMutations, mutated } from './mutations.js';

/** A gzip member in the project's framing (gzip-frame.ts): fixed header, raw deflate, CRC-32 and ISIZE trailer. */
function gzipFrame(data: Uint8Array): Uint8Array {
  const sum = new GzipChecksum();
  sum.update(data);
  return concatBytes([GZIP_HEADER, deflateRawSync(data, { level: 9 }), sum.trailer()]);
}

const GZIP_LAYOUT: Layout = {
  headerSize: 10,
  fields: [
    { offset: -8, width: 4 },
    { offset: -4, width: 4 },
    { offset: 3, width: 1 },
  ],
};

export const gzipProperties: FuzzArea = ({ ws, scale }) => {
  const content = fc.oneof(
    fc.uint8Array({ maxLength: 4000 * scale }),
    fc.integer({ min: 0, max: (1 << 21) * scale }).map((n) => new Uint8Array(n)),
  );
  return [
    {
      name: 'gunzip: random, mutated and bomb gzip files decompress within maxSize or are refused',
      testRuns: 60,
      weight: 1,
      property: fc.asyncProperty(
        fc.oneof(
          {
            weight: 1,
            arbitrary: fc.uint8Array({ maxLength: 3000 }).map((bytes) => ({ data: undefined, bytes })),
          },
          {
            weight: 3,
            arbitrary: fc.tuple(content, maybeMutations(GZIP_LAYOUT)).map(([data, mutations]) => {
              const { bytes, intact } = mutated(gzipFrame(data), mutations, GZIP_LAYOUT);
              return { data: intact ? data : undefined, bytes };
            }),
          },
        ),
        fc.oneof(fc.constant(undefined), fc.nat(1 << 16), fc.constant(1 << 22)),
        async ({ data, bytes }, maxSize) =>
          ws.run('gunzip', async (d) => {
            const src = join(d, 'a.tar.gz');
            const dst = join(d, 'a.tar');
            await writeFile(src, bytes);
            const r = await outcomeOf(
              () => gunzipToFile(src, dst, maxSize === undefined ? {} : { maxSize }),
              {
                codes: ['TARGET_FILE_MISMATCH'],
              },
            );
            if (r.ok) {
              const out = await readFile(dst);
              assert.equal(out.length, r.value.size);
              assert.equal(sha256Hex(out), r.value.sha256);
              if (maxSize !== undefined) assert.ok(out.length <= maxSize, 'never more than maxSize');
              if (data) assert.ok(bytesEqual(out, data), 'an intact file decompresses to its content');
            } else {
              assert.ok(!(await exists(dst)), 'no partial output is left');
              if (data && (maxSize === undefined || data.length <= maxSize))
                assert.fail(`an intact file was refused: ${r.error.message}`);
            }
            assertMemoryBounded();
          }),
      ),
    },
  ];
};
