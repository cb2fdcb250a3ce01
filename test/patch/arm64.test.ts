/**
 * arm64 branch and address prediction (format version 5, PREDICT mode 2): the instruction scan as data, round
 * trips of a synthetic arm64 Mach-O whose code and data moved, and hostile sections refused as PATCH_INVALID.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import { forEachPredictedInstruction, isArm64Executable } from '../../src/patch/notsotuf/arm64.js';
import {
  formatVersion,
  MAGIC,
  OP_COPY,
  OP_INSERT,
  OP_PREDICT,
  zigzag,
} from '../../src/patch/notsotuf/format.js';
import { OldToNew } from '../../src/patch/notsotuf/rel32.js';
import { applyPatchFile } from '../../src/patch/registry.js';
import {
  addImm,
  adrp,
  arm64Program,
  bl,
  handMadeNotsotufPatch,
  ldrX,
  notsotufOp,
  notsotufRoundTrip,
  peHeader,
  tempDir,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-arm64-'));
});
after(() => cleanup());

function code(words: readonly number[], at = 0, size = at + 4 * words.length): Buffer {
  const out = Buffer.alloc(size);
  for (const [i, w] of words.entries()) out.writeUInt32LE(w, at + 4 * i);
  return out;
}

/** Each instruction the scan predicts: [chunk offset, predicted words…] in hex. */
function predicted(old: Buffer, map: OldToNew, newBase = 0, oldBase = 0): string[][] {
  const seen: string[][] = [];
  forEachPredictedInstruction(old, old.length, newBase, oldBase, { old: 0, neu: 0 }, map, (at, a, b) =>
    seen.push([at, a, ...(b === undefined ? [] : [b])].map((x) => x.toString(16))),
  );
  return seen;
}

describe('the arm64 scan (as data)', () => {
  const identity = OldToNew.build([0, 0, 1 << 20]);
  // Old code at 0x100: a call to 0x4100, ADRP + ADD of 0x4020, ADRP + LDR of 0x4040, and an ADRP whose next
  // instruction uses another register.
  const words = [
    bl(0x1000),
    adrp(1, 4),
    addImm(1, 1, 0x20),
    adrp(2, 4),
    ldrX(3, 2, 0x40),
    adrp(4, 4),
    addImm(5, 6, 0),
  ];
  const old = code(words, 0x100, 0x200);

  test('with nothing moved, every prediction is the old instruction', () => {
    assert.deepEqual(predicted(old, identity), [
      ['100', bl(0x1000).toString(16)],
      ['104', adrp(1, 4).toString(16), addImm(1, 1, 0x20).toString(16)],
      ['10c', adrp(2, 4).toString(16), ldrX(3, 2, 0x40).toString(16)],
    ]);
  });

  test('targets that moved are predicted at their new page and offset; an offset the load cannot scale is not', () => {
    // Code stays; the data at 0x4000 moves by 0x1004 (so 0x4040 becomes 0x5044: not a multiple of 8 for LDR X).
    const map = OldToNew.build([0, 0, 0x1000, 0x4000, 0x5004, 0x1000]);
    assert.deepEqual(predicted(old, map), [
      ['100', bl((0x5104 - 0x100) / 4).toString(16)],
      ['104', adrp(1, 5).toString(16), addImm(1, 1, 0x24).toString(16)],
    ]);
  });

  test('pages before the instruction (negative ADRP) and code that moved with its data', () => {
    // At 0x5000: ADRP + ADD of 0x0ff0, five pages back. Everything moves by 0x2000 (the chunk too): nothing
    // changes.
    const far = code([adrp(7, -5), addImm(7, 7, 0xff0)], 0x5000);
    const moved = OldToNew.build([0, 0x2000, 0x10000]);
    assert.deepEqual(predicted(far, moved, 0x2000, 0), [
      ['5000', adrp(7, -5).toString(16), addImm(7, 7, 0xff0).toString(16)],
    ]);
  });

  test('a chunk whose new and old offsets are not equally aligned predicts nothing; unmapped targets neither', () => {
    assert.deepEqual(predicted(old, identity, 2, 0), []);
    assert.deepEqual(predicted(old, OldToNew.build([0, 0, 0x1000])), []);
  });

  test('arm64 executables by header: Mach-O, ELF and PE; x86 Mach-O and PE and short files are not', () => {
    const macho = Buffer.alloc(64);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    const elf = Buffer.alloc(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1], 0);
    elf.writeUInt16LE(183, 18);
    const x86 = Buffer.from(macho);
    x86.writeUInt32LE(0x01000007, 4);
    assert.equal(isArm64Executable(macho), true);
    assert.equal(isArm64Executable(elf), true);
    assert.equal(isArm64Executable(x86), false);
    assert.equal(isArm64Executable(macho.subarray(0, 32)), false);
    const pe = peHeader(0xaa64);
    assert.equal(isArm64Executable(pe), true);
    assert.equal(isArm64Executable(peHeader(0x8664)), false);
    pe.write('PX', 0x80, 'latin1'); // no PE signature where the DOS header points
    assert.equal(isArm64Executable(pe), false);
  });

  test('format versions: the lowest that has what a patch uses', () => {
    assert.equal(formatVersion({ x86: false, arm64: false }), 3);
    assert.equal(formatVersion({ x86: true, arm64: false }), 4);
    assert.equal(formatVersion({ x86: true, arm64: true }), 5);
    assert.equal(formatVersion({ x86: false, arm64: true }), 5);
  });
});

describe('arm64 predicted patches', () => {
  test('moved code and data of an arm64 Mach-O: version 5, byte-identical, far smaller than unpredicted', async () => {
    const arm = await notsotufRoundTrip(join(dir, String(n++)), arm64Program(false), arm64Program(true));
    // The same bytes with another CPU type are not predicted.
    const other = await notsotufRoundTrip(
      join(dir, String(n++)),
      arm64Program(false, 18),
      arm64Program(true, 18),
    );
    assert.equal((await readFile(arm.patch))[MAGIC.length - 1], 5);
    assert.equal((await readFile(other.patch))[MAGIC.length - 1], 3);
    assert.ok(arm.size < 0.7 * other.size, `predicted ${arm.size} vs ${other.size}`);
  });

  test('the same program as a Windows on Arm PE: predicted too (version 5); as an x86-64 PE, not', async () => {
    const pe = (grow: boolean, machine: number) => arm64Program(grow, machine, 'pe');
    const arm = await notsotufRoundTrip(join(dir, String(n++)), pe(false, 0xaa64), pe(true, 0xaa64));
    // x86-64 prediction finds no x86 calls in arm64 code: the patch stays version 3 (no predicted section kept).
    const x64 = await notsotufRoundTrip(join(dir, String(n++)), pe(false, 0x8664), pe(true, 0x8664));
    assert.equal((await readFile(arm.patch))[MAGIC.length - 1], 5);
    assert.notEqual((await readFile(x64.patch))[MAGIC.length - 1], 5);
    assert.ok(arm.size < 0.7 * x64.size, `predicted ${arm.size} vs ${x64.size}`);
  });
});

describe('hostile arm64 sections', () => {
  const op = notsotufOp;
  const base = Buffer.alloc(4096, 7);
  const handMade = (version: number, ops: number[], newSize = 66, extra = Buffer.from('ok')) =>
    handMadeNotsotufPatch(join(dir, String(n++)), version, base, newSize, ops, extra);
  const copy = op(OP_COPY, zigzag(0), 64);

  test('a well-formed arm64 section applies', async () => {
    const { old, patch } = await handMade(5, [
      ...op(OP_PREDICT, 2, 0),
      ...copy,
      ...op(OP_PREDICT, 0),
      ...op(OP_INSERT, 2),
    ]);
    const out = join(dir, 'arm.out');
    await applyPatchFile({ oldPath: old, patchPath: patch, outPath: out });
    assert.deepEqual(await readFile(out), Buffer.concat([base.subarray(0, 64), Buffer.from('ok')]));
  });

  test('arm64 sections before version 5, an origin outside the base, an unknown mode: PATCH_INVALID, nothing left', async () => {
    const cases: [string, number, number[]][] = [
      ['an arm64 section in a version 4 patch', 4, [...op(OP_PREDICT, 2, 0), ...copy, ...op(OP_PREDICT, 0)]],
      ['an old origin past the base', 5, [...op(OP_PREDICT, 2, 4097), ...copy, ...op(OP_PREDICT, 0)]],
      ['an unknown mode', 5, [...op(OP_PREDICT, 3), ...copy, ...op(OP_PREDICT, 0)]],
      ['an arm64 section that never ends', 5, [...op(OP_PREDICT, 2, 0), ...copy]],
    ];
    for (const [label, version, ops] of cases) {
      const { old, patch } = await handMade(version, ops, 64, Buffer.alloc(0));
      const out = join(dir, `bad-${n++}.out`);
      await assert.rejects(
        applyPatchFile({ oldPath: old, patchPath: patch, outPath: out }),
        (e) => isNotsotufError(e, 'PATCH_INVALID'),
        label,
      );
      await assert.rejects(readFile(out), { code: 'ENOENT' }, `${label}: output left behind`);
    }
  });
});
