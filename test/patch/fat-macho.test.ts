import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fatSlices, fileParts } from '../../src/patch/notsotuf/fat-macho.js';
import { MAGIC } from '../../src/patch/notsotuf/format.js';
import { arm64Program, notsotufRoundTrip, signMachO, tempDir, x86Program } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-fat-'));
});
after(() => cleanup());

const X86_64 = 0x01000007;
const ARM64 = 0x0100000c;

/** A universal Mach-O of `slices` (each a Mach-O), as lipo lays it out: a big-endian table, slices at 16 KiB. */
function fat(slices: readonly Buffer[], wide = false): Buffer {
  const entry = wide ? 32 : 20;
  const header = Buffer.alloc(8 + entry * slices.length);
  header.writeUInt32BE(wide ? 0xcafebabf : 0xcafebabe, 0);
  header.writeUInt32BE(slices.length, 4);
  const parts: Buffer[] = [header];
  let at = header.length;
  for (const [i, slice] of slices.entries()) {
    const offset = Math.ceil(at / 16384) * 16384;
    parts.push(Buffer.alloc(offset - at), slice);
    const e = 8 + entry * i;
    header.writeUInt32BE(slice.readUInt32LE(4), e);
    header.writeUInt32BE(slice.readUInt32LE(8), e + 4);
    if (wide) {
      header.writeBigUInt64BE(BigInt(offset), e + 8);
      header.writeBigUInt64BE(BigInt(slice.length), e + 16);
    } else {
      header.writeUInt32BE(offset, e + 8);
      header.writeUInt32BE(slice.length, e + 12);
    }
    at = offset + slice.length;
  }
  return Buffer.concat(parts);
}

/** A slice of `size` bytes that starts with a 64-bit Mach-O header for `cpu`. */
function slice(cpu: number, size = 100): Buffer {
  const b = Buffer.alloc(size, 0x55);
  b.writeUInt32LE(0xfeedfacf, 0);
  b.writeUInt32LE(cpu, 4);
  b.writeUInt32LE(3, 8);
  return b;
}

/** The synthetic x86-64 program of the rel32 tests, as a Mach-O. */
function x86MachO(grow: boolean): Buffer {
  const b = x86Program(grow);
  b.fill(0, 0, 64);
  b.writeUInt32LE(0xfeedfacf, 0);
  b.writeUInt32LE(X86_64, 4);
  return b;
}

const slicesOf = (b: Buffer) => fatSlices((at, length) => b.subarray(at, at + length), b.length);

describe('universal Mach-O slices (as data)', () => {
  test('the slice table of a 32- and a 64-bit fat header', () => {
    for (const wide of [false, true]) {
      const file = fat([slice(X86_64), slice(ARM64, 200)], wide);
      assert.deepEqual(slicesOf(file), [
        { cpuType: X86_64, cpuSubtype: 3, offset: 16384, size: 100 },
        { cpuType: ARM64, cpuSubtype: 3, offset: 32768, size: 200 },
      ]);
    }
  });

  test('not a universal Mach-O: a Java class, a thin Mach-O, a table that does not hold up', () => {
    const java = Buffer.alloc(64);
    java.writeUInt32BE(0xcafebabe, 0);
    java.writeUInt32BE(52, 4); // minor 0, major 52 (Java 8) where the slice count would be
    assert.equal(slicesOf(java), undefined);
    assert.equal(slicesOf(slice(ARM64)), undefined);
    const good = fat([slice(X86_64), slice(ARM64)]);
    const broken = (change: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      change(b);
      return slicesOf(b);
    };
    assert.equal(
      broken((b) => b.writeUInt32BE(good.length, 8 + 8)),
      undefined,
      'a slice outside the file',
    );
    assert.equal(
      broken((b) => b.writeUInt32BE(16384 + 50, 28 + 8)),
      undefined,
      'overlapping slices',
    );
    assert.equal(
      broken((b) => b.writeUInt32LE(0, 32768)),
      undefined,
      'a slice that is not a Mach-O',
    );
    assert.equal(
      broken((b) => b.writeUInt32BE(0, 4)),
      undefined,
      'no slices',
    );
    assert.equal(slicesOf(good.subarray(0, 20)), undefined, 'a table cut short');
  });

  test('parts: slice against slice with the bytes around them, or the whole file', () => {
    const old = slicesOf(fat([slice(X86_64, 100), slice(ARM64, 200)]))!;
    const neu = slicesOf(fat([slice(X86_64, 150), slice(ARM64, 300)]))!;
    assert.deepEqual(fileParts(old, neu, 32768 + 200, 32768 + 300), [
      { oldStart: 0, oldSize: 16384, newStart: 0, newSize: 16384 },
      { oldStart: 16384, oldSize: 100, newStart: 16384, newSize: 150 },
      { oldStart: 16484, oldSize: 16284, newStart: 16534, newSize: 16234 },
      { oldStart: 32768, oldSize: 200, newStart: 32768, newSize: 300 },
    ]);
    const whole = [{ oldStart: 0, oldSize: 1000, newStart: 0, newSize: 2000 }];
    assert.deepEqual(fileParts(old, undefined, 1000, 2000), whole, 'only the old one is universal');
    const otherArchs = slicesOf(fat([slice(ARM64), slice(X86_64)]))!;
    assert.deepEqual(fileParts(old, otherArchs, 1000, 2000), whole, 'the architectures differ');
  });
});

describe('universal Mach-O patches', () => {
  test('signed slices: the page digests of each are left to the applier (version 6), byte-identical', async () => {
    const oldFat = fat([signMachO(x86MachO(false)), signMachO(arm64Program(false))]);
    const newFat = fat([signMachO(x86MachO(true)), signMachO(arm64Program(true))]);
    const signed = await notsotufRoundTrip(join(dir, String(n++)), oldFat, newFat);
    assert.equal((await readFile(signed.patch))[MAGIC.length - 1], 6);
    const unsigned = await notsotufRoundTrip(
      join(dir, String(n++)),
      fat([x86MachO(false), arm64Program(false)]),
      fat([x86MachO(true), arm64Program(true)]),
    );
    // Each slice's signature adds its identifier, header and special slots; its page digests cost nothing.
    assert.ok(signed.size < unsigned.size + 1000, `${signed.size} vs ${unsigned.size} unsigned`);
  });

  test('each slice is predicted by its own rule: about the size of the two slices diffed apart', async () => {
    const oldFat = fat([x86MachO(false), arm64Program(false)]);
    const newFat = fat([x86MachO(true), arm64Program(true)]);
    const whole = await notsotufRoundTrip(join(dir, String(n++)), oldFat, newFat);
    assert.equal((await readFile(whole.patch))[MAGIC.length - 1], 5, 'arm64 prediction is used');
    const x86 = await notsotufRoundTrip(join(dir, String(n++)), x86MachO(false), x86MachO(true));
    const arm = await notsotufRoundTrip(join(dir, String(n++)), arm64Program(false), arm64Program(true));
    assert.ok(whole.size < 1.1 * (x86.size + arm.size), `${whole.size} vs ${x86.size} + ${arm.size}`);
    // The same bytes with the fat magic changed are one unknown file: no prediction, a much larger patch.
    const unknown = (b: Buffer) => {
      const c = Buffer.from(b);
      c.writeUInt32BE(0xcafebabd, 0);
      return c;
    };
    const plain = await notsotufRoundTrip(join(dir, String(n++)), unknown(oldFat), unknown(newFat));
    assert.equal((await readFile(plain.patch))[MAGIC.length - 1], 3);
    assert.ok(whole.size < 0.8 * plain.size, `${whole.size} vs ${plain.size} unpredicted`);
  });
});
