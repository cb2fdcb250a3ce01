/** Our bzip2 against Debian's `bzip2` binary, both ways, byte-exact. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { bzip2Compress, bzip2Decompress, bzip2DecompressStream } from '../../src/patch/index.js';
import { concat, FIXTURE_TARGETS, hasTool, pseudoRandom, pseudoText } from './helpers.js';

const skip = hasTool('bzip2') ? false : 'the bzip2 command is not installed (apt-get install -y bzip2)';

function bzip2Cli(args: string[], input: Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync('bzip2', args, { input, maxBuffer: 64 << 20 }));
}

describe('bzip2 interop with the bzip2 command', { skip }, () => {
  const inputs: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(1)],
    ['same byte', new Uint8Array(300_000).fill(0xee)],
    ['text', pseudoText(400_000, 21)],
    ['random', pseudoRandom(200_000, 22)],
    ['fixture tar', new Uint8Array(gunzipSync(readFileSync(`${FIXTURE_TARGETS}example_app-1.0.tar.gz`)))],
  ];

  for (const [name, data] of inputs) {
    test(`${name}: bzip2 -dc reads ours; we read bzip2 -9 and -1`, () => {
      assert.deepEqual(bzip2Cli(['-dc'], bzip2Compress(data)), data);
      assert.deepEqual(bzip2Cli(['-dc'], bzip2Compress(data, { blockSize100k: 1 })), data);
      assert.deepEqual(bzip2Decompress(bzip2Cli(['-9c'], data)), data);
      assert.deepEqual(bzip2Decompress(bzip2Cli(['-1c'], data)), data);
    });
  }

  test('compression ratio is within 2% of bzip2 -9 on text, tar and random data', () => {
    for (const [name, data] of inputs.slice(3)) {
      const ours = bzip2Compress(data).length;
      const theirs = bzip2Cli(['-9c'], data).length;
      assert.ok(ours <= theirs * 1.02, `${name}: ${ours} vs ${theirs}`);
    }
  });

  test('multi-block output of bzip2 (2.5 MB), streamed in 4 KiB pieces', async () => {
    const data = concat(pseudoText(1_500_000, 23), pseudoRandom(1_000_000, 24));
    const z = bzip2Cli(['-9c'], data);
    const pieces = function* (): Generator<Uint8Array> {
      for (let i = 0; i < z.length; i += 4096) yield z.subarray(i, i + 4096);
    };
    const parts: Uint8Array[] = [];
    for await (const p of bzip2DecompressStream(pieces())) parts.push(p);
    assert.deepEqual(concat(...parts), data);
  });

  test('bzip2 -dc reads our concatenated streams, we read bzip2s', () => {
    const a = pseudoText(5000, 25);
    const b = pseudoText(7000, 26);
    assert.deepEqual(bzip2Cli(['-dc'], concat(bzip2Compress(a), bzip2Compress(b))), concat(a, b));
    assert.deepEqual(bzip2Decompress(concat(bzip2Cli(['-c'], a), bzip2Cli(['-2c'], b))), concat(a, b));
  });
});
