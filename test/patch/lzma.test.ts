/**
 * The pure TypeScript LZMA decoder against liblzma: Debian's `xz --format=lzma` and lzma-native (the encoder
 * publishers use). Bad streams: PATCH_INVALID, bounded memory, no hang.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isNotsotufError } from '../../src/core/errors.js';
import { lzmaDecompressStream } from '../../src/patch/lzma/decoder.js';
import { lzmaCompress } from '../../src/patch/lzma/encoder.js';
import { encodeAloneHeader, parseAloneHeader } from '../../src/patch/lzma/format.js';
import { concat, hasTool, pseudoRandom, pseudoText } from './helpers.js';

const LIMITS = { maxDictSize: 64 << 20, maxOutputLength: 1 << 30 };

async function decode(data: Uint8Array, limits = LIMITS, chunk = 4096): Promise<Buffer> {
  async function* source() {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  }
  const parts: Buffer[] = [];
  // Each yielded chunk is a view into the window: copy it before asking for the next.
  for await (const c of lzmaDecompressStream(source(), limits)) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

function xz(input: Uint8Array, filter: string): Buffer {
  return execFileSync('xz', ['--format=lzma', `--lzma1=${filter}`, '-c'], {
    input,
    maxBuffer: 1 << 28,
  });
}

/** The same stream with the exact size in its header (as our encoder writes it); the end marker stays. */
function withKnownSize(stream: Uint8Array, size: number): Uint8Array {
  const out = Uint8Array.from(stream);
  out.set(encodeAloneHeader({ ...parseAloneHeader(stream, Number.MAX_SAFE_INTEGER), size }), 0);
  return out;
}

const text = pseudoText(300_000, 1);
const inputs: Array<[string, Uint8Array]> = [
  ['empty', new Uint8Array(0)],
  ['one byte', Uint8Array.of(7)],
  ['random', pseudoRandom(200_000, 2)],
  ['text', text],
  ['zeros', new Uint8Array(3_000_000)],
  [
    'mixed, with long repeats',
    concat(text, pseudoRandom(50_000, 3), text, new Uint8Array(70_000), text.subarray(1000, 90_000)),
  ],
];

const noXz = hasTool('xz', ['--version']) ? false : 'xz not installed (apt-get install -y xz-utils)';

describe('LZMA decoder: streams from xz --format=lzma', { skip: noXz }, () => {
  const filters = [
    'preset=6',
    'preset=0',
    'preset=9e',
    'preset=6,lc=0,lp=0,pb=0',
    'preset=6,lc=1,lp=3,pb=4',
    'preset=6,lc=4,lp=0,pb=1',
    // A 4 KiB dictionary: matches wrap the decoder's window over and over.
    'preset=6,dict=4KiB',
  ];
  for (const [name, input] of inputs) {
    test(name, async () => {
      for (const filter of filters) {
        const stream = xz(input, filter);
        assert.deepEqual(await decode(stream), Buffer.from(input), `${filter}, unknown size`);
        assert.deepEqual(
          await decode(withKnownSize(stream, input.length), LIMITS, 777),
          Buffer.from(input),
          `${filter}, known size`,
        );
      }
    });
  }

  test('truncated anywhere: PATCH_INVALID', async () => {
    const stream = xz(inputs[5]![1], 'preset=6');
    for (const cut of [0, 5, 12, 13, 17, 18, 100, stream.length >> 1, stream.length - 6, stream.length - 1]) {
      await assert.rejects(
        decode(stream.subarray(0, cut)),
        (e) => isNotsotufError(e, 'PATCH_INVALID'),
        `${cut}`,
      );
    }
  });

  test('bytes after the end of the stream: PATCH_INVALID', async () => {
    const stream = xz(text, 'preset=6');
    await assert.rejects(decode(concat(stream, Uint8Array.of(0))), (e) =>
      isNotsotufError(e, 'PATCH_INVALID'),
    );
    // A known size smaller than the data: what follows it is not an end marker.
    await assert.rejects(decode(withKnownSize(stream, text.length - 10)), (e) =>
      isNotsotufError(e, 'PATCH_INVALID'),
    );
  });

  test('a stream longer than its declared size: PATCH_INVALID', async () => {
    const stream = xz(new Uint8Array(100_000), 'preset=6');
    // One long match crosses the declared end.
    await assert.rejects(decode(withKnownSize(stream, 50_000)), (e) => isNotsotufError(e, 'PATCH_INVALID'));
  });
});

describe('LZMA decoder: limits are checked before memory is used', () => {
  const header = (dictSize: number, size: number | undefined, props = 0x5d) => {
    const h = encodeAloneHeader({ lc: 3, lp: 0, pb: 2, dictSize, size });
    h[0] = props;
    return concat(h, new Uint8Array(32));
  };
  const invalid = (e: unknown) => isNotsotufError(e, 'PATCH_INVALID');

  test('a dictionary above the caller’s cap', async () => {
    await assert.rejects(decode(header(2 ** 32 - 1, 10), { ...LIMITS, maxDictSize: 1 << 20 }), invalid);
  });
  test('a declared size above the output limit', async () => {
    await assert.rejects(decode(header(1 << 16, 2 ** 40), { ...LIMITS, maxOutputLength: 1 << 20 }), invalid);
  });
  test('properties out of range (lc + lp > 4, or a props byte ≥ 225)', async () => {
    await assert.rejects(decode(header(1 << 16, 10, 8)), invalid); // lc = 8
    await assert.rejects(decode(header(1 << 16, 10, 225)), invalid);
  });
  test('a header shorter than 13 bytes', async () => {
    await assert.rejects(decode(Uint8Array.of(0x5d, 0, 0)), invalid);
  });
});

describe('LZMA decoder: corrupt streams', { skip: noXz }, () => {
  test('property: flipped bytes give PATCH_INVALID or some output, bounded by the declared size', async () => {
    const input = inputs[5]![1];
    const stream = withKnownSize(xz(input, 'preset=6'), input.length);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(stream.length - 1), xor: fc.integer({ min: 1, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (flips) => {
          const bad = Uint8Array.from(stream);
          for (const f of flips) bad[f.at]! ^= f.xor;
          try {
            const out = await decode(bad);
            // LZMA has no checksum: a flip can decode to other bytes (the patch's signed hash catches those).
            assert.ok(out.length <= input.length);
          } catch (e) {
            assert.ok(isNotsotufError(e, 'PATCH_INVALID'), String(e));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('LZMA encoder (liblzma via lzma-native)', () => {
  test('round-trips through our decoder, and through xz', async (t) => {
    for (const [name, input] of inputs) {
      const stream = await lzmaCompress(input, { dictSize: 1 << 20 });
      if (!stream) {
        t.skip('lzma-native (an optional dependency) is not installed on this platform');
        return;
      }
      const props = parseAloneHeader(stream, Number.MAX_SAFE_INTEGER);
      assert.equal(props.size, input.length, `${name}: the header records the size`);
      assert.equal(props.dictSize, 1 << 20, `${name}: the dictionary asked for`);
      assert.deepEqual(await decode(stream), Buffer.from(input), name);
      if (!noXz) {
        const viaXz = execFileSync('xz', ['--format=lzma', '-dc'], { input: stream, maxBuffer: 1 << 28 });
        assert.deepEqual(viaXz, Buffer.from(input), `${name} via xz`);
      }
    }
  });
});
