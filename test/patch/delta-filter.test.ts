import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { isNotsotufError } from '../../src/core/errors.js';
import { DeltaUnfilter, filterRange, filterRegion } from '../../src/patch/notsotuf/delta-filter.js';
import { elfSections, findFilterRegions } from '../../src/patch/notsotuf/filter-regions.js';
import { MAGIC, OP_COPY, OP_FILTER, OP_INSERT, zigzag } from '../../src/patch/notsotuf/format.js';
import { applyPatchFile } from '../../src/patch/registry.js';
import {
  concat,
  handMadeNotsotufPatch,
  notsotufOp,
  notsotufRoundTrip,
  pseudoRandom,
  tempDir,
} from './helpers.js';

describe('word delta filter', () => {
  test('known answer: each word minus the word a stride before, with the borrow across bytes', () => {
    const raw = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x09]);
    // 1 − 0xffffffff = 2 (mod 2^32); the first stride and the trailing partial word pass unchanged.
    assert.deepEqual(
      Buffer.from(filterRegion(raw, { word: 4, stride: 4 })),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x09]),
    );
  });

  test('property: unfiltering in any chunks gives back the region; any sub-range filters alike', () => {
    const filters = fc.constantFrom(
      { word: 4, stride: 4 },
      { word: 4, stride: 8 },
      { word: 8, stride: 8 },
      { word: 8, stride: 24 },
      { word: 4, stride: 256 },
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 700 }),
        filters,
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        (raw, filter, chunkSizes, a, b) => {
          const filtered = filterRegion(raw, filter);
          const un = new DeltaUnfilter(filter, raw.length);
          const back = Uint8Array.from(filtered);
          for (let pos = 0, i = 0; pos < back.length; i++) {
            const n = Math.min(chunkSizes[i % chunkSizes.length]!, back.length - pos);
            const piece = back.subarray(pos, pos + n);
            un.unfilterInPlace(piece, n);
            pos += n;
          }
          assert.equal(un.remaining, 0);
          assert.deepEqual(Buffer.from(back), Buffer.from(raw));
          // filterRange reads from an offset (what the applier does for reads in the middle of a region).
          const from = raw.length === 0 ? 0 : a % raw.length;
          const to = from + (raw.length === 0 ? 0 : b % (raw.length - from + 1));
          const rawFrom = Math.max(0, from - (from % filter.word) - filter.stride);
          const out = new Uint8Array(to - from);
          filterRange(raw.subarray(rawFrom), rawFrom, raw.length, filter, from, to, out);
          assert.deepEqual(Buffer.from(out), Buffer.from(filtered.subarray(from, to)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

interface Section {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** A minimal 64-bit little-endian ELF file: header, the sections back to back, a name table, section headers. */
function elf(sections: readonly Section[]): Buffer {
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const strtab = Buffer.from(`${names.join('\0')}\0`, 'latin1');
  const nameOffsets = names.map((_, i) => names.slice(0, i).reduce((sum, n) => sum + n.length + 1, 0));
  const bodies = [...sections.map((s) => s.bytes), strtab];
  let offset = 64;
  const offsets = bodies.map((b) => {
    const at = offset;
    offset += b.length;
    return at;
  });
  const shoff = offset;
  const shnum = bodies.length + 1; // entry 0 is the null section
  const out = Buffer.alloc(shoff + shnum * 64);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  out.writeBigUInt64LE(BigInt(shoff), 0x28);
  out.writeUInt16LE(64, 0x3a);
  out.writeUInt16LE(shnum, 0x3c);
  out.writeUInt16LE(shnum - 1, 0x3e);
  bodies.forEach((b, i) => {
    out.set(b, offsets[i]!);
    const h = shoff + (i + 1) * 64;
    out.writeUInt32LE(nameOffsets[i + 1]!, h);
    out.writeUInt32LE(i === bodies.length - 1 ? 3 : 1, h + 4); // SHT_STRTAB or SHT_PROGBITS
    out.writeBigUInt64LE(BigInt(offsets[i]!), h + 0x18);
    out.writeBigUInt64LE(BigInt(b.length), h + 0x20);
  });
  return out;
}

/** An .eh_frame_hdr-like table: 12 header bytes, then (start, entry) int32 pairs; code after `at` moved by `shift`. */
function unwindTable(count: number, at: number, shift: number): Uint8Array {
  const out = Buffer.alloc(12 + count * 8);
  const sizes = pseudoRandom(count, 5);
  let start = -100_000;
  for (let i = 0; i < count; i++) {
    start += 16 + sizes[i]!;
    out.writeInt32LE(start + (i >= at ? shift : 0), 12 + i * 8);
    out.writeInt32LE(i * 40 + 7, 16 + i * 8);
  }
  return out;
}

/** A .rela.dyn-like table of (offset, info, addend) records pointing into data that moved by `shift` after `at`. */
function relocations(count: number, at: number, shift: number): Uint8Array {
  const out = Buffer.alloc(count * 24);
  const targets = pseudoRandom(count, 6);
  for (let i = 0; i < count; i++) {
    const moved = i >= at ? shift : 0;
    out.writeBigUInt64LE(BigInt(0x300000 + i * 8 + moved), i * 24);
    out.writeBigUInt64LE(8n, i * 24 + 8);
    out.writeBigUInt64LE(BigInt(0x200000 + i * 64 + targets[i]! + moved), i * 24 + 16);
  }
  return out;
}

function release(shift: number): Buffer {
  const code = Buffer.from(pseudoRandom(40_000, 3));
  const text =
    shift === 0
      ? code
      : Buffer.concat([code.subarray(0, 20_000), pseudoRandom(shift, 4), code.subarray(20_000)]);
  return elf([
    { name: '.text', bytes: text },
    { name: '.eh_frame_hdr', bytes: unwindTable(3000, 1200, shift) },
    { name: '.rela.dyn', bytes: relocations(2000, 700, shift) },
  ]);
}

describe('filtered regions in notsotuf patches', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => {
    ({ dir, cleanup } = await tempDir('notsotuf-filter-'));
  });
  after(() => cleanup());

  const roundTrip = (oldBytes: Uint8Array, newBytes: Uint8Array) =>
    notsotufRoundTrip(join(dir, String(n++)), oldBytes, newBytes);

  test('the ELF section headers are read and the address tables of both versions found', () => {
    const old = release(0);
    const neu = release(96);
    const sections = elfSections(neu)!;
    assert.deepEqual([...sections.keys()], ['.text', '.eh_frame_hdr', '.rela.dyn', '.shstrtab']);
    const regions = findFilterRegions(old, neu);
    assert.deepEqual(
      regions.map((r) => [r.filter, r.newEnd - r.newStart, r.oldEnd - r.oldStart]),
      [
        [{ word: 4, stride: 8 }, 3000 * 8, 3000 * 8],
        [{ word: 8, stride: 24 }, 2000 * 24, 2000 * 24],
      ],
    );
    assert.equal(regions[0]!.newStart, sections.get('.eh_frame_hdr')!.offset + 12);
    assert.deepEqual(findFilterRegions(Buffer.from('not an ELF file, just some text'), neu), []);
    const truncated = neu.subarray(0, neu.length - 100); // the section headers are cut off
    assert.equal(elfSections(truncated), undefined);
  });

  test('moved code: the tables round-trip and cost a fraction of what they cost unfiltered', async () => {
    const old = release(0);
    const neu = release(96);
    const filtered = await roundTrip(old, neu);
    // The same bytes without the ELF magic are diffed without filters.
    const unElf = (b: Buffer) => Buffer.concat([Buffer.from('XELF'), b.subarray(4)]);
    const plain = await roundTrip(unElf(old), unElf(neu));
    assert.ok(
      filtered.size * 2 < plain.size,
      `with filters ${filtered.size} bytes, without ${plain.size} bytes`,
    );
  });

  test('an x86-64 ELF: a predicted section with literals before, inside and after a filtered region round-trips', async () => {
    // The literals of a predicted file go to the extra stream while it is matched, a region's own between those
    // before and after it (emit.ts): any other order would make a wrong result.
    const x86 = (bytes: Buffer) => {
      bytes.writeUInt16LE(62, 18);
      return bytes;
    };
    const code = pseudoRandom(40_000, 3);
    const table = relocations(2000, 700, 0);
    const old = elf([
      { name: '.text', bytes: code },
      { name: '.rela.dyn', bytes: table },
      { name: '.comment', bytes: pseudoRandom(3000, 8) },
    ]);
    const neu = elf([
      { name: '.text', bytes: concat(code.subarray(0, 20_000), pseudoRandom(96, 4), code.subarray(20_000)) },
      {
        name: '.rela.dyn',
        bytes: concat(table.subarray(0, 24_000), pseudoRandom(24 * 1500, 9), table.subarray(24_000)),
      },
      { name: '.comment', bytes: pseudoRandom(3000, 10) },
    ]);
    assert.equal(findFilterRegions(old, neu).length, 1);
    const { patch } = await roundTrip(x86(old), x86(neu));
    assert.equal((await readFile(patch))[MAGIC.length - 1], 4);
  });

  test('version 2 patches (no filtered regions) still apply; a filter in a version 2 patch is refused', async () => {
    const plain = await roundTrip(pseudoRandom(30_000, 7), pseudoRandom(30_000, 8));
    const v2 = await readFile(plain.patch);
    v2[MAGIC.length - 1] = 2;
    await writeFile(plain.patch, v2);
    const out = join(dir, 'v2.out');
    await applyPatchFile({ oldPath: plain.old, patchPath: plain.patch, outPath: out });
    assert.deepEqual(await readFile(out), Buffer.from(pseudoRandom(30_000, 8)));

    const withFilter = await roundTrip(release(0), release(96));
    const bytes = await readFile(withFilter.patch);
    bytes[MAGIC.length - 1] = 2;
    await writeFile(withFilter.patch, bytes);
    await assert.rejects(
      applyPatchFile({ oldPath: withFilter.old, patchPath: withFilter.patch, outPath: join(dir, 'v2f.out') }),
      (e) => isNotsotufError(e, 'PATCH_INVALID') && /unknown instruction 3/.test(e.message),
    );
  });

  /** A hand-made version 3 patch: ops and extra bytes, brotli streams, no diff. */
  const handMade = (oldBytes: Uint8Array, newSize: number, ops: number[], extra: Uint8Array) =>
    handMadeNotsotufPatch(join(dir, String(n++)), 3, oldBytes, newSize, ops, extra);
  const op = notsotufOp;

  test('a hand-made filtered region: inserted deltas come out as running sums, copies read the filtered base', async () => {
    // Base: words 10, 20, 30, 40 (filtered, stride 4: 10, 10, 10, 10).
    const base = Buffer.alloc(16);
    for (const [i, v] of [10, 20, 30, 40].entries()) base.writeUInt32LE(v, i * 4);
    const extra = Buffer.alloc(8);
    extra.writeUInt32LE(5, 0);
    extra.writeUInt32LE(7, 4);
    // 24 bytes filtered: insert (5, 7), then copy the base's filtered words 2..5 (10, 10, 10, 10).
    const ops = [
      ...op(OP_FILTER, 4, 4, 24, zigzag(0), 16),
      ...op(OP_INSERT, 8),
      ...op(OP_COPY, zigzag(4), 12),
      ...op(OP_COPY, zigzag(-12), 4),
    ];
    const { old, patch } = await handMade(base, 24, ops, extra);
    const out = join(dir, 'hand.out');
    await applyPatchFile({ oldPath: old, patchPath: patch, outPath: out });
    const words = await readFile(out);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => words.readUInt32LE(i * 4)),
      [5, 12, 22, 32, 42, 52],
    );
  });

  test('malformed filtered regions are refused before they write anything wrong', async () => {
    const base = Buffer.from(pseudoRandom(4096, 9));
    const cases: [string, number[], number][] = [
      ['word size 5', op(OP_FILTER, 5, 10, 64, zigzag(0), 64), 64],
      ['stride not a multiple of the word', op(OP_FILTER, 4, 6, 64, zigzag(0), 64), 64],
      ['stride above 256', op(OP_FILTER, 4, 260, 64, zigzag(0), 64), 64],
      ['region past the result', op(OP_FILTER, 4, 8, 65, zigzag(0), 64), 64],
      ['old region past the base', op(OP_FILTER, 4, 8, 64, zigzag(4000), 200), 64],
      [
        'a filter inside a filter',
        [...op(OP_FILTER, 4, 8, 64, zigzag(0), 64), ...op(OP_FILTER, 4, 8, 32, zigzag(0), 64)],
        64,
      ],
      [
        'a copy from outside the old region',
        [...op(OP_FILTER, 4, 8, 64, zigzag(0), 64), ...op(OP_COPY, zigzag(100), 64)],
        64,
      ],
      [
        'a copy past the region end',
        [...op(OP_FILTER, 4, 8, 32, zigzag(0), 64), ...op(OP_COPY, zigzag(0), 64)],
        64,
      ],
    ];
    for (const [label, ops, newSize] of cases) {
      const { old, patch } = await handMade(base, newSize, ops, new Uint8Array(0));
      const out = `${patch}.out`;
      await assert.rejects(
        applyPatchFile({ oldPath: old, patchPath: patch, outPath: out }),
        (e) => isNotsotufError(e, 'PATCH_INVALID'),
        label,
      );
      await assert.rejects(readFile(out), label);
    }
  });
});
