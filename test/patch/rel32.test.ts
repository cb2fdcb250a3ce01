/**
 * x86 branch and address prediction (format version 4, PREDICT): the mapping and the field scan as data, round
 * trips of a synthetic x86-64 executable whose calls moved, and hostile sections refused as PATCH_INVALID.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { isNotsotufError } from '../../src/core/errors.js';
import { MAGIC, OP_COPY, OP_FILTER, OP_INSERT, OP_PREDICT, zigzag } from '../../src/patch/notsotuf/format.js';
import {
  forEachPredictedField,
  isX86Executable,
  MIN_PREDICT_RUN,
  OldToNew,
  RunCollector,
} from '../../src/patch/notsotuf/rel32.js';
import { applyPatchFile } from '../../src/patch/registry.js';
import {
  elfHeader,
  handMadeNotsotufPatch,
  notsotufOp,
  notsotufRoundTrip,
  peHeader,
  tempDir,
  x86Program,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-rel32-'));
});
after(() => cleanup());

/** The model OldToNew must agree with: old offset `x` through the covering interval earliest in the new file. */
function scanMap(triples: readonly (readonly [number, number, number])[], x: number): number | undefined {
  let best: readonly [number, number, number] | undefined;
  for (const t of triples) if (x >= t[0] && x < t[0] + t[2] && (!best || t[1] < best[1])) best = t;
  return best ? x - best[0] + best[1] : undefined;
}

describe('OldToNew (as data)', () => {
  test('maps inside intervals, nothing outside', () => {
    const map = OldToNew.build([100, 1000, 50, 300, 2000, 10]);
    assert.equal(map.map(100), 1000);
    assert.equal(map.map(149), 1049);
    assert.equal(map.map(150), undefined);
    assert.equal(map.map(305), 2005);
    assert.equal(map.map(99), undefined);
    assert.equal(map.map(310), undefined);
  });

  test('segments few and far apart (offsets up to 2^40) map through a small index', () => {
    const map = OldToNew.build([2 ** 40 - 100, 1000, 50, 100, 5000, 10, 2 ** 30, 7, 3]);
    assert.equal(map.map(2 ** 40 - 100), 1000);
    assert.equal(map.map(2 ** 40 - 51), 1049);
    assert.equal(map.map(2 ** 40 - 50), undefined);
    assert.equal(map.map(105), 5005);
    assert.equal(map.map(2 ** 30 + 2), 9);
    assert.equal(map.map(2 ** 30 + 3), undefined);
    assert.equal(map.map(2 ** 35), undefined);
  });

  test('where old ranges overlap, the interval earliest in the new file wins', () => {
    // old [0, 100) went to 5000 and, earlier in the new file, [40, 60) also went to 200.
    const map = OldToNew.build([0, 5000, 100, 40, 200, 20]);
    assert.equal(map.map(10), 5010);
    assert.equal(map.map(45), 205);
    assert.equal(map.map(70), 5070);
  });

  test('property: cutting intervals into same-offset pieces changes no answer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(5000), fc.nat(5000), fc.integer({ min: 1, max: 400 })), { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 399 }), { maxLength: 30 }),
        (intervals, cuts) => {
          // Distinct new starts, as the new file's instructions never overlap.
          const whole = intervals.map(([o, _n, l], i) => [o, i * 10_000, l] as const);
          const cut: number[] = [];
          for (const [i, [o, nw, l]] of whole.entries()) {
            const at = Math.min(cuts[i] ?? l, l);
            if (at < l) cut.push(o, nw, at, o + at, nw + at, l - at);
            else cut.push(o, nw, l);
          }
          const a = OldToNew.build(whole.flat());
          const b = OldToNew.build(cut);
          for (let x = 0; x < 5500; x += 7) assert.equal(a.map(x), b.map(x), `old offset ${x}`);
        },
      ),
    );
  });

  test('property: every old offset maps through the covering interval earliest in the new file (nested ones too)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(2000), fc.integer({ min: 1, max: 600 })), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (intervals, nested) => {
          // Nested intervals, each earlier in the new file than the one around it, cut the old range into the
          // most segments (2 × count + 1): the build must make room past its first guess.
          const triples = nested
            ? intervals.map((_, i) => [1000 - 10 * i, 10_000 * i, 20 * i + 1] as const)
            : intervals.map(([o, l], i) => [o, ((i * 7919) % 101) * 10_000, l] as const);
          const map = OldToNew.build(triples.flat());
          for (let x = 0; x < 2700; x++) assert.equal(map.map(x), scanMap(triples, x), `old offset ${x}`);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('property: offsets spread over many 4 KiB pages of the index map as a scan of the intervals does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(200_000), fc.integer({ min: 1, max: 30_000 })), {
          minLength: 1,
          maxLength: 40,
        }),
        (intervals) => {
          const triples = intervals.map(([o, l], i) => [o, ((i * 7919) % 101) * 1_000_000, l] as const);
          const map = OldToNew.build(triples.flat());
          // Every interval's edges, every page's edges, and a stride through the rest.
          const probes = new Set<number>([-1, 0, 240_000]);
          for (const [o, , l] of triples) for (const x of [o - 1, o, o + l - 1, o + l]) probes.add(x);
          for (let page = 0; page < 60; page++) for (const d of [-1, 0, 1]) probes.add(page * 4096 + d);
          for (let x = 0; x < 240_000; x += 613) probes.add(x);
          for (const x of probes) assert.equal(map.map(x), scanMap(triples, x), `old offset ${x}`);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('RunCollector (as data)', () => {
  test('joins intervals back to back in both files, keeps runs of MIN_PREDICT_RUN bytes or more', () => {
    const runs = new RunCollector();
    runs.push(0, 100, 40);
    runs.push(40, 140, 30); // continues: one run of 70
    runs.push(500, 170, MIN_PREDICT_RUN - 1); // too short alone
    runs.push(1000, 900, 10);
    runs.push(1010, 910, MIN_PREDICT_RUN); // continues: long enough together
    assert.deepEqual([...runs.triples()], [0, 100, 70, 1000, 900, 10 + MIN_PREDICT_RUN]);
  });
});

describe('isX86Executable', () => {
  test('ELF, PE and Mach-O by machine; other files not', () => {
    assert.equal(isX86Executable(elfHeader(62)), true);
    assert.equal(isX86Executable(elfHeader(3)), true);
    assert.equal(isX86Executable(elfHeader(183)), false);
    assert.equal(isX86Executable(peHeader(0x8664)), true);
    assert.equal(isX86Executable(peHeader(0xaa64)), false);
    const macho = Buffer.alloc(64);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x01000007, 4);
    assert.equal(isX86Executable(macho), true);
    macho.writeUInt32LE(0x0100000c, 4);
    assert.equal(isX86Executable(macho), false);
    assert.equal(isX86Executable(Buffer.from('#!/bin/sh\necho hello\n'.repeat(10))), false);
  });
});

describe('forEachPredictedField (as data)', () => {
  test('call, jmp, jcc and RIP-relative lea/mov; same opcode in the old bytes; target mapped', () => {
    const neu = Buffer.alloc(64, 0x90);
    neu.set([0xe8, 0, 0, 0, 0], 0); // call
    neu.set([0xe9, 0, 0, 0, 0], 5); // jmp
    neu.set([0x0f, 0x84, 0, 0, 0, 0], 10); // je
    neu.set([0x48, 0x8d, 0x05, 0, 0, 0, 0], 16); // lea rax, [rip + x]
    neu.set([0x4c, 0x8b, 0x0d, 0, 0, 0, 0], 23); // mov r9, [rip + x]
    neu.set([0x48, 0x8d, 0x44, 0, 0, 0, 0], 30); // lea with a SIB byte: not RIP-relative
    neu.set([0xe8, 0, 0, 0, 0], 37); // a call whose old byte differs
    const old = Buffer.from(neu);
    old[37] = 0x90;
    // Old targets: every field's rel32 is 0, so its target is the next instruction; old [0, 64) moved by +1000.
    const map = OldToNew.build([0, 1000, 64]);
    const seen: [number, number][] = [];
    forEachPredictedField(neu, old, neu.length, 5000, 0, map, (at, predicted) => seen.push([at, predicted]));
    // Predicted = mapped target − (new position after the instruction) = (end + 1000) − (5000 + end) = −4000.
    assert.deepEqual(seen, [
      [1, -4000],
      [6, -4000],
      [12, -4000],
      [19, -4000],
      [26, -4000],
    ]);
  });

  test('unmapped targets and fields past the chunk are left alone', () => {
    const neu = Buffer.alloc(16, 0x90);
    neu.set([0xe8, 0x00, 0x10, 0, 0], 0); // target 0x1005: unmapped
    neu.set([0xe8, 0, 0, 0], 12); // runs past the chunk
    const seen: number[] = [];
    forEachPredictedField(neu, Buffer.from(neu), 16, 0, 0, OldToNew.build([0, 0, 64]), (at) => seen.push(at));
    assert.deepEqual(seen, []);
  });
});

async function roundTrip(oldBytes: Buffer, newBytes: Buffer): Promise<{ size: number; version: number }> {
  const { size, patch } = await notsotufRoundTrip(join(dir, String(n++)), oldBytes, newBytes);
  return { size, version: (await readFile(patch))[MAGIC.length - 1]! };
}

describe('predicted patches', () => {
  test('moved calls of an x86-64 executable: version 4, byte-identical, far smaller than unpredicted', async () => {
    const x86 = await roundTrip(x86Program(false), x86Program(true));
    // The same bytes marked as PowerPC are not predicted.
    const arm = await roundTrip(x86Program(false, 20), x86Program(true, 20));
    assert.equal(x86.version, 4);
    assert.equal(arm.version, 3, 'a patch without prediction stays readable by version-3 clients');
    assert.ok(x86.size < 0.7 * arm.size, `predicted ${x86.size} vs ${arm.size}`);
  });

  test('a text file gets a version 3 patch', async () => {
    const text = Buffer.from('call me maybe\n'.repeat(5000));
    const edited = Buffer.concat([
      text.subarray(0, 30_000),
      Buffer.from('inserted\n'),
      text.subarray(30_000),
    ]);
    assert.equal((await roundTrip(text, edited)).version, 3);
  });
});

describe('hostile predicted sections', () => {
  const op = notsotufOp;
  const handMade = (version: number, base: Uint8Array, newSize: number, ops: number[], extra?: Uint8Array) =>
    handMadeNotsotufPatch(join(dir, String(n++)), version, base, newSize, ops, extra);

  const base = Buffer.alloc(4096, 7);

  test('a well-formed section of copies applies', async () => {
    const ops = [
      ...op(OP_PREDICT, 1),
      ...op(OP_COPY, zigzag(0), 128),
      ...op(OP_PREDICT, 0),
      ...op(OP_INSERT, 2),
    ];
    const { old, patch } = await handMade(4, base, 130, ops, Buffer.from('ok'));
    const out = join(dir, 'section.out');
    await applyPatchFile({ oldPath: old, patchPath: patch, outPath: out });
    assert.deepEqual(await readFile(out), Buffer.concat([base.subarray(0, 128), Buffer.from('ok')]));
  });

  test('malformed sections and PREDICT before version 4 are PATCH_INVALID, and nothing is left behind', async () => {
    const copy = op(OP_COPY, zigzag(0), 64);
    const cases: [string, number, number[]][] = [
      ['PREDICT in a version 3 patch', 3, [...op(OP_PREDICT, 1), ...copy, ...op(OP_PREDICT, 0)]],
      ['a section that never ends', 4, [...op(OP_PREDICT, 1), ...copy]],
      [
        'a section inside a section',
        4,
        [...op(OP_PREDICT, 1), ...op(OP_PREDICT, 1), ...copy, ...op(OP_PREDICT, 0)],
      ],
      ['an end without a start', 4, [...copy, ...op(OP_PREDICT, 0)]],
      ['an arm64 mode in a version 4 patch', 4, [...op(OP_PREDICT, 2, 0), ...copy, ...op(OP_PREDICT, 0)]],
      [
        'a section that starts in a filtered region',
        4,
        [...op(OP_FILTER, 4, 4, 64, zigzag(0), 64), ...op(OP_PREDICT, 1), ...copy, ...op(OP_PREDICT, 0)],
      ],
      [
        'a section that ends in a filtered region',
        4,
        [...op(OP_PREDICT, 1), ...op(OP_FILTER, 4, 4, 64, zigzag(0), 64), ...op(OP_PREDICT, 0), ...copy],
      ],
    ];
    for (const [label, version, ops] of cases) {
      const { old, patch } = await handMade(version, base, 64, ops);
      const out = join(dir, `bad-${n++}.out`);
      await assert.rejects(
        applyPatchFile({ oldPath: old, patchPath: patch, outPath: out }),
        (e) => isNotsotufError(e, 'PATCH_INVALID'),
        label,
      );
      await assert.rejects(readFile(out), { code: 'ENOENT' }, `${label}: output left behind`);
    }
  });

  test('a section mapping more than 2^20 runs is refused before it runs', async () => {
    // Copies of 64 bytes from old 64 and 256 in turn, so none continues the one before: 2^20 + 2 runs.
    const runs = (1 << 20) + 2;
    const ops: number[] = [...op(OP_PREDICT, 1)];
    const jumps = [op(OP_COPY, zigzag(64), 64), op(OP_COPY, zigzag(128), 64), op(OP_COPY, zigzag(-256), 64)];
    for (let i = 0; i < runs; i++) for (const b of jumps[i === 0 ? 0 : 2 - (i % 2)]!) ops.push(b);
    ops.push(...op(OP_PREDICT, 0));
    const { old, patch } = await handMade(4, base, runs * 64, ops);
    await assert.rejects(
      applyPatchFile({ oldPath: old, patchPath: patch, outPath: join(dir, 'runs.out') }),
      (e) => isNotsotufError(e, 'PATCH_INVALID') && /too many runs/.test(e.message),
    );
  });
});
