import { open, rm } from 'node:fs/promises';
import type { ApplyPatchOptions } from '../codec.js';
import { BlockCache } from './block-cache.js';
import { ByteReader } from './byte-reader.js';
import { DiffReader } from './diff-reader.js';
import { DIFF_PLAIN, decodeHeader, HEADER_SIZE, invalidPatch, type PatchHeader, STREAMS } from './format.js';
import { OpsApplier } from './ops-applier.js';
import { PieceWriter } from './piece-writer.js';
import { streamRange } from './stream-range.js';

/**
 * Applies a notsotuf patch, streaming: the ops, diff and extra streams are decompressed as they are needed, old
 * bytes are read at their offsets, and output goes out in pieces of 64 KiB. Every instruction is checked against the
 * header's sizes before it runs, so a hostile patch can neither read outside the base file, nor write past the
 * declared size, nor make us allocate by a length it chose.
 */
export async function applyNotsotufPatch(options: ApplyPatchOptions): Promise<{ size: number }> {
  const { patchPath, oldPath, outPath } = options;
  const patchFh = await open(patchPath, 'r');
  let header: PatchHeader;
  try {
    const size = (await patchFh.stat()).size;
    const head = Buffer.alloc(HEADER_SIZE);
    const { bytesRead } = await patchFh.read(head, 0, HEADER_SIZE, 0);
    header = decodeHeader(head.subarray(0, bytesRead), size);
  } finally {
    await patchFh.close();
  }
  if (options.expectedSize !== undefined && header.newSize !== options.expectedSize) {
    throw invalidPatch(`it produces ${header.newSize} bytes, the metadata expects ${options.expectedSize}`);
  }
  const oldFh = await open(oldPath, 'r');
  const out = await open(outPath, 'wx');
  let ok = false;
  const readers: ByteReader[] = [];
  const writer = new PieceWriter(out, outPath, options.onOutput);
  try {
    if ((await oldFh.stat()).size !== header.oldSize) {
      throw invalidPatch(`it was made for a base of ${header.oldSize} bytes, not this file`);
    }
    const openReader = (index: number) => {
      const source = patchStream(patchPath, header, index);
      if (!source) return undefined;
      const r = new ByteReader(source, STREAMS[index]!);
      readers.push(r);
      return r;
    };
    const [ops, diffRuns, diffBytes, extra] = [0, 1, 2, 3].map(openReader) as [
      ByteReader,
      ByteReader | undefined,
      ByteReader,
      ByteReader,
    ];
    const diff = new DiffReader(diffRuns, diffBytes);
    const applier = new OpsApplier({
      header,
      ops,
      diff,
      extra,
      oldBlocks: new BlockCache(oldFh, oldPath, header.oldSize),
      writer,
      opsReader: () => openReader(0)!,
    });
    const outSize = await applier.run(options);
    if (!(await ops.atEnd()) || !(await diff.atEnd()) || !(await extra.atEnd())) {
      throw invalidPatch('data left over after the result was complete');
    }
    await writer.finish();
    options.onProgress?.({ done: outSize, total: header.newSize });
    ok = true;
    return { size: outSize };
  } finally {
    for (const reader of readers) await reader.close().catch(() => undefined);
    await oldFh.close();
    await out.close();
    if (!ok) await rm(outPath, { force: true });
  }
}

/**
 * Stream `index` of a patch (STREAMS: ops, diff runs, diff bytes, extra), decompressed as chunks; undefined for
 * the runs stream of the plain diff form, which has none.
 */
export function patchStream(
  patchPath: string,
  header: PatchHeader,
  index: number,
): AsyncIterable<Buffer> | undefined {
  if (index === 1 && header.diffForm === DIFF_PLAIN) return undefined;
  let start = HEADER_SIZE;
  for (let i = 0; i < index; i++) start += header.lengths[i]!;
  return streamRange(patchPath, start, header.lengths[index]!, header.methods[index]!);
}
