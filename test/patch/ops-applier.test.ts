import assert from 'node:assert/strict';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { patchStream } from '../../src/patch/notsotuf/apply.js';
import { BlockCache } from '../../src/patch/notsotuf/block-cache.js';
import { ByteReader } from '../../src/patch/notsotuf/byte-reader.js';
import { DiffReader } from '../../src/patch/notsotuf/diff-reader.js';
import {
  decodeHeader,
  HEADER_SIZE,
  MAGIC,
  OP_COPY,
  OP_FILTER,
  OP_INSERT,
  OP_PREDICT,
  STREAMS,
  zigzag,
} from '../../src/patch/notsotuf/format.js';
import { OpsApplier } from '../../src/patch/notsotuf/ops-applier.js';
import { PieceWriter } from '../../src/patch/notsotuf/piece-writer.js';
import { applyPatchFile, createPatchFile } from '../../src/patch/registry.js';
import {
  arm64Program,
  FIXTURE_TARGETS,
  handMadeNotsotufPatch,
  notsotufOp as op,
  signMachO,
  tempDir,
  x86Program,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir('notsotuf-ops-applier-'));
});
after(() => cleanup());

/** `source` re-cut into chunks of the given sizes (cycled), so every field and run can straddle a refill. */
async function* rechunk(source: AsyncIterable<Buffer>, sizes: readonly number[]): AsyncGenerator<Buffer> {
  let k = 0;
  for await (const chunk of source) {
    for (let i = 0; i < chunk.length; ) {
      const n = sizes[k++ % sizes.length]!;
      yield Buffer.from(chunk.subarray(i, i + n));
      i += n;
    }
  }
}

/** Applies `patch` to `old` through OpsApplier with every stream re-cut by `sizes`; returns the result. */
async function applyRechunked(old: string, patch: string, sizes: readonly number[]): Promise<Buffer> {
  const head = (await readFile(patch)).subarray(0, HEADER_SIZE);
  const header = decodeHeader(head, (await stat(patch)).size);
  const out = `${patch}.${sizes.join('-')}.out`;
  const oldFh = await open(old, 'r');
  const outFh = await open(out, 'w');
  const readers: ByteReader[] = [];
  const reader = (index: number) => {
    const source = patchStream(patch, header, index);
    if (!source) return undefined;
    const r = new ByteReader(rechunk(source, sizes), STREAMS[index]!);
    readers.push(r);
    return r;
  };
  try {
    const [ops, runs, bytes, extra] = [0, 1, 2, 3].map(reader) as [
      ByteReader,
      ByteReader,
      ByteReader,
      ByteReader,
    ];
    const diff = new DiffReader(runs, bytes);
    const writer = new PieceWriter(outFh, out);
    const applier = new OpsApplier({
      header,
      ops,
      diff,
      extra,
      oldBlocks: new BlockCache(oldFh, old, header.oldSize),
      writer,
      opsReader: () => reader(0)!,
    });
    assert.equal(await applier.run({}), header.newSize);
    assert.ok((await ops.atEnd()) && (await diff.atEnd()) && (await extra.atEnd()), 'every stream used up');
    await writer.finish();
  } finally {
    for (const r of readers) await r.close();
    await oldFh.close();
    await outFh.close();
  }
  return readFile(out);
}

/** Chunkings: single bytes (every field split), odd small sizes, and sizes around the 256 KiB piece. */
const CHUNKINGS = [[1], [2, 7, 3], [5000, 1, 262_143, 11]];

async function assertAnyChunking(old: string, patch: string, expected: Uint8Array): Promise<void> {
  for (const sizes of CHUNKINGS) {
    const got = await applyRechunked(old, patch, sizes);
    assert.ok(got.equals(expected), `chunks of ${sizes.join(', ')}: result differs`);
  }
}

async function made(
  name: string,
  oldBytes: Uint8Array,
  newBytes: Uint8Array,
): Promise<{ old: string; patch: string }> {
  const old = join(dir, `${name}.old`);
  const neu = join(dir, `${name}.new`);
  const patch = join(dir, `${name}.patch`);
  await writeFile(old, oldBytes);
  await writeFile(neu, newBytes);
  await createPatchFile({ codec: 'notsotuf', oldPath: old, newPath: neu, outPath: patch });
  return { old, patch };
}

describe('OpsApplier: any chunking of the streams gives the same result', () => {
  test('a predicted x86-64 executable (PREDICT sections, ADDs through the predictor)', async () => {
    const newBytes = x86Program(true);
    const { old, patch } = await made('x86', x86Program(false), newBytes);
    assert.equal((await readFile(patch))[MAGIC.length - 1], 4, 'the patch predicts');
    await assertAnyChunking(old, patch, newBytes);
  });

  test('a signed arm64 Mach-O (PAGES, and DIGESTS the applier computes from its output)', async () => {
    const newBytes = signMachO(arm64Program(true), [2, 1]);
    const { old, patch } = await made('signed', signMachO(arm64Program(false), [2, 1]), newBytes);
    assert.equal((await readFile(patch))[MAGIC.length - 1], 6, 'the patch has page digests');
    await assertAnyChunking(old, patch, newBytes);
  });

  test('releases of the tufup fixture app (tar-aware COPY, ADD and INSERT)', async () => {
    const tar = async (v: string) =>
      gunzipSync(await readFile(join(FIXTURE_TARGETS, `example_app-${v}.tar.gz`)));
    const newBytes = await tar('3.0');
    const { old, patch } = await made('tufup', await tar('2.0'), newBytes);
    await assertAnyChunking(old, patch, newBytes);
  });

  test('a hand-made patch: FILTER, PREDICT and INSERT fields, COPYs and INSERTs longer than a piece', async () => {
    const base = Buffer.alloc(600_000);
    for (let i = 0; i < base.length; i += 4) base.writeUInt32LE((i * 2654435761) >>> 0, i);
    const extra = Buffer.alloc(300_000, 7);
    const ops = [
      ...op(OP_FILTER, 4, 4, 24, zigzag(0), 16),
      ...op(OP_INSERT, 8),
      ...op(OP_COPY, zigzag(4), 12),
      ...op(OP_COPY, zigzag(-12), 4),
      ...op(OP_PREDICT, 1),
      ...op(OP_COPY, zigzag(100_000), 300_000),
      ...op(OP_PREDICT, 0),
      ...op(OP_INSERT, 299_992),
      ...op(OP_COPY, zigzag(-400_000), 290_000),
    ];
    const newSize = 24 + 300_000 + 299_992 + 290_000;
    const { old, patch } = await handMadeNotsotufPatch(join(dir, 'hand'), 5, base, newSize, ops, extra);
    const reference = join(dir, 'hand.reference');
    await applyPatchFile({ oldPath: old, patchPath: patch, outPath: reference });
    const expected = await readFile(reference);
    assert.equal(expected.length, newSize);
    assert.ok(expected.subarray(24, 300_024).equals(base.subarray(100_008, 400_008)), 'the COPY is the base');
    await assertAnyChunking(old, patch, expected);
  });
});
