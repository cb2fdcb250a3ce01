/** Fuzzing of the bsdiff4 codec with hand-built patches, against the reference bspatch of test/patch/helpers.ts. */
import fc from 'fast-check';
import { buildPatch, referenceApply } from '../../patch/helpers.js';
import { assertMemoryBounded, type FuzzArea } from './common.js';
import { applyWithCodec, assertAsReference, patternBytes, writePatchFiles } from './patches.js';

/** bsdiff4 patches built from explicit controls: the streaming apply must agree with tufup's semantics. */
export const bsdiff4Properties: FuzzArea = ({ ws }) => {
  const length = fc.oneof(
    { weight: 8, arbitrary: fc.nat(64) },
    { weight: 1, arbitrary: fc.constantFrom(-1, -64, 2 ** 31, 2 ** 52, 2 ** 53 - 1) },
  );
  const seek = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: -700, max: 700 }) },
    { weight: 1, arbitrary: fc.constantFrom(2 ** 52, -(2 ** 52), 2 ** 53 - 1, -(2 ** 53 - 1)) },
  );
  return [
    {
      name: 'bsdiff4: hand-built patches apply exactly as the reference bspatch or are refused',
      testRuns: 60,
      weight: 1,
      property: fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.tuple(length, length, seek), { maxLength: 6 }),
        fc.record({
          size: fc.integer({ min: -2, max: 2 }),
          diff: fc.integer({ min: -2, max: 2 }),
          extra: fc.integer({ min: -2, max: 2 }),
        }),
        fc.nat(),
        async (old, controls, skew, seed) =>
          ws.run('bsdiff-oracle', async (d) => {
            const sum = (i: 0 | 1) => controls.reduce((n, c) => n + Math.max(0, c[i]), 0);
            const newSize = Math.max(0, sum(0) + sum(1) + skew.size);
            const diff = patternBytes(sum(0) + skew.diff, seed + 1, 131, 251);
            const extra = patternBytes(sum(1) + skew.extra, seed + 2, 131, 251);
            let reference: Uint8Array | undefined;
            if (newSize <= 1 << 20) {
              try {
                reference = referenceApply(old, controls, diff, extra, newSize);
              } catch {
                reference = undefined;
              }
            }
            // The codec also refuses seeks that take the old position beyond 2^53 (tufup's int64 would not).
            let oldPos = 0;
            let unsafeSeek = false;
            for (const [add, , s] of controls) {
              oldPos += Math.max(0, add) + s;
              if (!Number.isSafeInteger(oldPos)) unsafeSeek = true;
            }
            const files = await writePatchFiles(d, old, buildPatch({ controls, diff, extra, newSize }));
            const r = await applyWithCodec('bsdiff4', files, newSize);
            // Beyond tufup, the codec refuses more controls than output bytes (bounds a tiny patch's work).
            await assertAsReference(r, files, reference, controls.length > newSize + 1 || unsafeSeek);
            assertMemoryBounded();
          }),
      ),
    },
  ];
};
