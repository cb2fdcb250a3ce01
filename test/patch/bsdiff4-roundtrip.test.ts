/** bsdiff4 create/apply round trips: property tests on random and structured pairs, progress and abort. */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { readInt64 } from '../../src/patch/bsdiff4-header.js';
import { bsdiff4Codec, diffBlocks } from '../../src/patch/index.js';
import { buildPatch, codeOf, concat, pseudoRandom, pseudoText, referenceApply, tempDir } from './helpers.js';

type Edit =
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'move'; from: number; length: number; to: number }
  | { kind: 'zeros'; at: number; length: number }
  | { kind: 'flip'; at: number };

/** Applies release-like edits; positions are fractions of the current length so they always land inside. */
function edit(base: Uint8Array, edits: Edit[]): Uint8Array {
  let cur = base;
  const at = (f: number): number => Math.floor((f / 1000) * cur.length);
  for (const e of edits) {
    if (e.kind === 'insert') cur = concat(cur.subarray(0, at(e.at)), e.bytes, cur.subarray(at(e.at)));
    else if (e.kind === 'zeros')
      cur = concat(cur.subarray(0, at(e.at)), new Uint8Array(e.length), cur.subarray(at(e.at)));
    else if (e.kind === 'delete') cur = concat(cur.subarray(0, at(e.at)), cur.subarray(at(e.at) + e.length));
    else if (e.kind === 'flip') {
      if (cur.length > 0) {
        cur = Uint8Array.from(cur);
        cur[Math.min(at(e.at), cur.length - 1)]! ^= 0x5a;
      }
    } else {
      const from = at(e.from);
      const piece = cur.slice(from, from + e.length);
      const rest = concat(cur.subarray(0, from), cur.subarray(from + e.length));
      const to = Math.floor((e.to / 1000) * rest.length);
      cur = concat(rest.subarray(0, to), piece, rest.subarray(to));
    }
  }
  return cur;
}

const frac = fc.integer({ min: 0, max: 1000 });
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: frac, bytes: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: frac, length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({
    kind: fc.constant('move' as const),
    from: frac,
    length: fc.integer({ min: 1, max: 800 }),
    to: frac,
  }),
  fc.record({ kind: fc.constant('zeros' as const), at: frac, length: fc.integer({ min: 1, max: 20_000 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: frac }),
);
const baseArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 4000 }),
  fc
    .tuple(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: 1, max: 1000 }))
    .map(([n, s]) => pseudoText(n, s)),
  fc.integer({ min: 0, max: 30_000 }).map((n) => new Uint8Array(n)),
);

function controlsOf(control: Uint8Array): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < control.length; i += 24) {
    out.push([readInt64(control, i, 'x'), readInt64(control, i + 8, 'y'), readInt64(control, i + 16, 'z')]);
  }
  return out;
}

describe('bsdiff matcher (in memory, against the bsdiff4 reference patcher)', () => {
  test('property: structured pairs rebuild exactly', async () => {
    await fc.assert(
      fc.asyncProperty(baseArb, fc.array(editArb, { maxLength: 6 }), async (old, edits) => {
        const next = edit(old, edits);
        const b = await diffBlocks(old, next);
        assert.deepEqual(referenceApply(old, controlsOf(b.control), b.diff, b.extra, next.length), next);
      }),
      { numRuns: 200 },
    );
  });

  test('property: unrelated random pairs rebuild exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ maxLength: 3000 }),
        async (old, next) => {
          const b = await diffBlocks(old, next);
          assert.deepEqual(referenceApply(old, controlsOf(b.control), b.diff, b.extra, next.length), next);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('identical inputs need no extra bytes and one control', async () => {
    const data = pseudoText(50_000, 51);
    const b = await diffBlocks(data, data);
    assert.equal(b.extra.length, 0);
    assert.equal(b.control.length, 24);
    assert.ok(b.diff.every((v) => v === 0));
  });

  test('large zero runs stay fast (no quadratic search)', async () => {
    const old = concat(new Uint8Array(2_000_000), pseudoText(1000, 52), new Uint8Array(500_000));
    const next = concat(
      new Uint8Array(2_500_000),
      pseudoText(1000, 52),
      new Uint8Array(100_000),
      Uint8Array.of(1),
    );
    const started = Date.now();
    const b = await diffBlocks(old, next);
    assert.ok(Date.now() - started < 15_000);
    assert.deepEqual(referenceApply(old, controlsOf(b.control), b.diff, b.extra, next.length), next);
  });
});

describe('bsdiff4 codec round trip (files)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  async function roundTrip(old: Uint8Array, next: Uint8Array): Promise<number> {
    const id = n++;
    const oldPath = join(dir, `${id}.old`);
    const newPath = join(dir, `${id}.new`);
    const patchPath = join(dir, `${id}.patch`);
    const outPath = join(dir, `${id}.out`);
    await writeFile(oldPath, old);
    await writeFile(newPath, next);
    const { size } = await bsdiff4Codec.create({ oldPath, newPath, outPath: patchPath });
    assert.equal((await readFile(patchPath)).length, size);
    const applied = await bsdiff4Codec.apply({ oldPath, patchPath, outPath, expectedSize: next.length });
    assert.equal(applied.size, next.length);
    assert.deepEqual(new Uint8Array(await readFile(outPath)), next);
    return size;
  }

  const table: Array<[string, Uint8Array, Uint8Array]> = [
    ['both empty', new Uint8Array(0), new Uint8Array(0)],
    ['empty old', new Uint8Array(0), pseudoText(10_000, 53)],
    ['empty new', pseudoText(10_000, 54), new Uint8Array(0)],
    ['one byte each', Uint8Array.of(1), Uint8Array.of(2)],
    ['identical', pseudoText(100_000, 55), pseudoText(100_000, 55)],
    ['appended block', pseudoText(50_000, 56), concat(pseudoText(50_000, 56), pseudoRandom(5000, 57))],
    ['removed block', pseudoRandom(60_000, 58), concat(pseudoRandom(60_000, 58).subarray(0, 20_000))],
    [
      'large zero runs',
      new Uint8Array(300_000),
      concat(new Uint8Array(200_000), Uint8Array.of(9), new Uint8Array(150_000)),
    ],
  ];
  for (const [name, old, next] of table) test(name, async () => void (await roundTrip(old, next)));

  test('an identical 100 kB file patches to a few hundred bytes', async () => {
    const size = await roundTrip(pseudoRandom(100_000, 59), pseudoRandom(100_000, 59));
    assert.ok(size < 400, `${size}`);
  });

  test('property: structured pairs through the files API', async () => {
    await fc.assert(
      fc.asyncProperty(baseArb, fc.array(editArb, { maxLength: 4 }), async (old, edits) => {
        await roundTrip(old, edit(old, edits));
      }),
      { numRuns: 25 },
    );
  });

  test('old positions before the start of the old file add 0 (tufup bsdiff4 semantics)', async () => {
    const old = pseudoRandom(100, 60);
    const controls: Array<[number, number, number]> = [
      [50, 10, -80],
      [60, 0, 150],
      [100, 5, -1000],
      [90, 0, 0],
    ];
    const diff = pseudoRandom(300, 61);
    const extra = pseudoRandom(15, 62);
    const oldPath = join(dir, 'neg.old');
    const patchPath = join(dir, 'neg.patch');
    await writeFile(oldPath, old);
    await writeFile(patchPath, buildPatch({ controls, diff, extra, newSize: 315 }));
    await bsdiff4Codec.apply({ oldPath, patchPath, outPath: join(dir, 'neg.out') });
    assert.deepEqual(
      new Uint8Array(await readFile(join(dir, 'neg.out'))),
      referenceApply(old, controls, diff, extra, 315),
    );
  });

  test('progress is reported and an abort leaves no output (create and apply)', async () => {
    const old = pseudoText(1_500_000, 63);
    const next = edit(old, [{ kind: 'insert', at: 500, bytes: pseudoRandom(1000, 64) }]);
    const oldPath = join(dir, 'ab.old');
    const newPath = join(dir, 'ab.new');
    await writeFile(oldPath, old);
    await writeFile(newPath, next);

    const seen: number[] = [];
    const ac = new AbortController();
    const code = await codeOf(() =>
      bsdiff4Codec.create({
        oldPath,
        newPath,
        outPath: join(dir, 'ab.patch'),
        signal: ac.signal,
        onProgress: (p) => {
          seen.push(p.done);
          assert.equal(p.total, next.length);
          if (p.done > 300_000) ac.abort();
        },
      }),
    );
    assert.equal(code, 'ABORTED');
    assert.ok(seen.length >= 1);
    assert.ok(!(await readdir(dir)).includes('ab.patch'));

    await bsdiff4Codec.create({ oldPath, newPath, outPath: join(dir, 'ab.patch') });
    const ac2 = new AbortController();
    const applyCode = await codeOf(() =>
      bsdiff4Codec.apply({
        oldPath,
        patchPath: join(dir, 'ab.patch'),
        outPath: join(dir, 'ab.out'),
        signal: ac2.signal,
        onProgress: () => ac2.abort(),
      }),
    );
    assert.equal(applyCode, 'ABORTED');
    assert.ok(!(await readdir(dir)).includes('ab.out'));
    assert.equal(
      await codeOf(() =>
        bsdiff4Codec.create({ oldPath, newPath, outPath: join(dir, 'x'), signal: AbortSignal.abort() }),
      ),
      'ABORTED',
    );
  });

  test('missing input files are IO_ERROR', async () => {
    const missing = join(dir, 'does-not-exist');
    const out = join(dir, 'io.out');
    assert.equal(
      await codeOf(() => bsdiff4Codec.create({ oldPath: missing, newPath: missing, outPath: out })),
      'IO_ERROR',
    );
    assert.equal(
      await codeOf(() => bsdiff4Codec.apply({ oldPath: missing, patchPath: missing, outPath: out })),
      'IO_ERROR',
    );
  });
});
