/**
 * Malformed bsdiff4 patches: every one is PATCH_INVALID, leaves no output file, and allocates nothing from an
 * untrusted length.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeHeader, writeInt64 } from '../../src/patch/bsdiff4-header.js';
import { bsdiff4Codec, bzip2Compress } from '../../src/patch/index.js';
import { buildPatch, codeOf, concat, pseudoRandom, pseudoText, tempDir } from './helpers.js';

describe('bsdiff4 corrupt patches', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let oldPath: string;
  let good: Uint8Array;
  let expected: Uint8Array;
  let n = 0;
  let lastMessage = '';

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const old = pseudoText(40_000, 71);
    expected = concat(
      old.subarray(0, 15_000),
      pseudoRandom(500, 72),
      old.subarray(15_200),
      Uint8Array.of(1, 2, 3),
    );
    oldPath = join(dir, 'old');
    await writeFile(oldPath, old);
    await writeFile(join(dir, 'new'), expected);
    await bsdiff4Codec.create({ oldPath, newPath: join(dir, 'new'), outPath: join(dir, 'good.patch') });
    good = new Uint8Array(await readFile(join(dir, 'good.patch')));
  });
  after(() => cleanup());

  /** Applies `patch`; returns 'OK' (after checking the output) or the error code, and checks no output is left. */
  async function outcome(patch: Uint8Array, expectedSize?: number): Promise<string> {
    const id = n++;
    const patchPath = join(dir, `p${id}.patch`);
    const outPath = join(dir, `p${id}.out`);
    await writeFile(patchPath, patch);
    const code = await codeOf(() =>
      bsdiff4Codec.apply({ oldPath, patchPath, outPath, expectedSize }).catch((err: Error) => {
        lastMessage = err.message;
        throw err;
      }),
    );
    const files = await readdir(dir);
    if (code === 'OK') assert.deepEqual(new Uint8Array(await readFile(outPath)), expected);
    else assert.ok(!files.includes(`p${id}.out`), 'no partial output is left');
    return code;
  }

  test('the unmodified patch applies', async () => {
    assert.equal(await outcome(good, expected.length), 'OK');
  });

  test('flipped bytes anywhere (header, control, diff, extra) are rejected or harmless', async () => {
    for (let i = 0; i < good.length; i += i < 40 ? 1 : 7) {
      const bad = Uint8Array.from(good);
      bad[i]! ^= i % 3 === 0 ? 0x80 : 0x01;
      const code = await outcome(bad, expected.length);
      // Only the zero padding bits at the end of a bzip2 stream may change unnoticed.
      assert.ok(code === 'PATCH_INVALID' || code === 'OK', `flip at ${i}: ${code}`);
    }
  });

  test('truncation at any point is rejected', async () => {
    for (let cut = 0; cut < good.length; cut += cut < 40 ? 1 : 11) {
      assert.equal(await outcome(good.subarray(0, cut)), 'PATCH_INVALID', `cut at ${cut}`);
    }
    assert.equal(await outcome(good.subarray(0, good.length - 1)), 'PATCH_INVALID');
  });

  const withHeaderField = (offset: number, value: number, negative = false): Uint8Array => {
    const bad = Uint8Array.from(good);
    writeInt64(bad, offset, value);
    if (negative) bad[offset + 7]! |= 0x80;
    return bad;
  };

  const table: Array<[string, () => Uint8Array, number?]> = [
    ['wrong magic', () => concat(new TextEncoder().encode('BSDIFF41'), good.subarray(8))],
    ['not a patch at all', () => new TextEncoder().encode('hello, this is not a bsdiff patch at all!')],
    ['shorter than the header', () => good.subarray(0, 31)],
    ['control length 2^62', () => withHeaderField(8, 2 ** 62)],
    ['diff length 2^62', () => withHeaderField(16, 2 ** 62)],
    ['new size 2^62', () => withHeaderField(24, 2 ** 62)],
    ['new size 2^40 + 1', () => withHeaderField(24, 2 ** 40 + 1)],
    ['negative control length', () => withHeaderField(8, 5, true)],
    ['negative diff length', () => withHeaderField(16, 5, true)],
    ['negative new size', () => withHeaderField(24, 5, true)],
    ['control + diff past the end of the file', () => withHeaderField(16, good.length)],
    ['new size differs from the expected size', () => good, 12_345],
    ['trailing garbage after the extra block', () => concat(good, Uint8Array.of(0))],
    ['control block with a partial triple', () => customCtrl(new Uint8Array(30), 0)],
    ['empty control range', () => customCtrl(null, 0)],
    ['negative add length', () => buildPatch({ controls: [[-1, 0, 0]], newSize: 0 })],
    ['negative copy length', () => buildPatch({ controls: [[0, -1, 0]], newSize: 0 })],
    [
      'add past the new size',
      () => buildPatch({ controls: [[11, 0, 0]], diff: new Uint8Array(11), newSize: 10 }),
    ],
    [
      'copy past the new size',
      () => buildPatch({ controls: [[0, 11, 0]], extra: new Uint8Array(11), newSize: 10 }),
    ],
    ['seek beyond 2^53', () => buildPatch({ controls: [[0, 0, 2 ** 60]], newSize: 0 })],
    [
      'seeks adding up past 2^53',
      () =>
        buildPatch({
          controls: [
            [0, 0, 2 ** 53 - 1],
            [0, 0, 2 ** 53 - 1],
          ],
          newSize: 10,
        }),
    ],
    [
      'more controls than the new size allows',
      () => buildPatch({ controls: Array(12).fill([0, 0, 0]), newSize: 10 }),
    ],
    [
      'diff block ends early',
      () => buildPatch({ controls: [[10, 0, 0]], diff: new Uint8Array(9), newSize: 10 }),
    ],
    [
      'extra block ends early',
      () => buildPatch({ controls: [[0, 10, 0]], extra: new Uint8Array(9), newSize: 10 }),
    ],
    ['unused diff bytes', () => buildPatch({ controls: [[5, 0, 0]], diff: new Uint8Array(6), newSize: 5 })],
    ['unused extra bytes', () => buildPatch({ controls: [[0, 5, 0]], extra: new Uint8Array(6), newSize: 5 })],
    [
      'fewer bytes than declared',
      () => buildPatch({ controls: [[0, 5, 0]], extra: new Uint8Array(5), newSize: 6 }),
    ],
    [
      'garbage after the control stream',
      () => customCtrl(concat(bzip2Compress(new Uint8Array(0)), Uint8Array.of(7)), 0, true),
    ],
  ];
  /** The reason each case must fail for (so a case cannot pass by failing somewhere else). */
  const reasons: Record<string, RegExp> = {
    'wrong magic': /missing BSDIFF40 magic/,
    'not a patch at all': /missing BSDIFF40 magic/,
    'shorter than the header': /shorter than its header/,
    'control length 2^62': /control block length is out of range/,
    'diff length 2^62': /diff block length is out of range/,
    'new size 2^62': /new file size is out of range/,
    'new size 2^40 + 1': /new file size is too large/,
    'negative control length': /negative length/,
    'negative diff length': /negative length/,
    'negative new size': /negative length/,
    'control + diff past the end of the file': /past the end of the patch/,
    'new size differs from the expected size': /another size/,
    'trailing garbage after the extra block': /after the end of the stream/,
    'control block with a partial triple': /inside a control triple/,
    'empty control range': /missing BZh signature/,
    'negative add length': /negative length/,
    'negative copy length': /negative length/,
    'add past the new size': /past the new file size/,
    'copy past the new size': /past the new file size/,
    'seek beyond 2^53': /seek is out of range/,
    'seeks adding up past 2^53': /old position out of range/,
    'more controls than the new size allows': /more controls than it could need/,
    'diff block ends early': /diff block ends early/,
    'extra block ends early': /extra block ends early/,
    'unused diff bytes': /diff block has unused bytes/,
    'unused extra bytes': /extra block has unused bytes/,
    'fewer bytes than declared': /fewer bytes than it declares/,
    'garbage after the control stream': /after the end of the stream/,
  };
  for (const [name, make, expectedSize] of table) {
    test(name, async () => {
      assert.equal(await outcome(make(), expectedSize), 'PATCH_INVALID');
      assert.match(lastMessage, reasons[name]!);
    });
  }

  test('an absurd declared size allocates nothing and fails fast', async () => {
    const before = process.memoryUsage().rss;
    // 2^40 bytes declared, with a control that asks for all of them from a 9-byte diff block.
    const patch = buildPatch({ controls: [[2 ** 40, 0, 0]], diff: new Uint8Array(9), newSize: 2 ** 40 });
    const started = Date.now();
    assert.equal(await outcome(patch), 'PATCH_INVALID');
    assert.match(lastMessage, /diff block ends early/);
    assert.equal(await outcome(withHeaderField(24, 2 ** 62)), 'PATCH_INVALID');
    assert.ok(Date.now() - started < 5000);
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024);
  });

  test('a compressed control bomb is cut off by the control count limit', async () => {
    // 45 MB of zero triples compress to a few dozen bytes; they must not all be processed.
    const patch = customCtrl(new Uint8Array(45_000_000), 100);
    assert.ok(patch.length < 200);
    const started = Date.now();
    assert.equal(await outcome(patch), 'PATCH_INVALID');
    assert.match(lastMessage, /more controls than it could need/);
    assert.ok(Date.now() - started < 5000);
  });
});

/**
 * A patch whose control range holds `ctrl` as given (raw bytes, compressed unless `raw`), with empty diff and
 * extra streams. `null` leaves the control range empty.
 */
function customCtrl(ctrl: Uint8Array | null, newSize: number, raw = false): Uint8Array {
  const ctrlZ = ctrl === null ? new Uint8Array(0) : raw ? ctrl : bzip2Compress(ctrl);
  const empty = bzip2Compress(new Uint8Array(0));
  const header = encodeHeader({ controlLength: ctrlZ.length, diffLength: empty.length, newSize });
  return concat(header, ctrlZ, empty, empty);
}
