/**
 * Applies a BSDIFF40 patch as a stream (the client side): the three bzip2 blocks are decompressed incrementally
 * from their byte ranges of the patch file, the old file is read through a small block cache, and the new file is
 * written as it is produced. Extra memory stays around 30 MB whatever the file sizes: three bzip2 decoders (a
 * compressed window and a link table each), their output chunks, the old-file cache and a 1 MB output buffer.
 *
 * The patch is untrusted: every header field and control triple is checked before it is used, and on any failure
 * the partial output is deleted.
 *
 * Semantics follow tufup's bsdiff4 (and Debian's bspatch) exactly: "add" bytes whose old position falls outside
 * the old file add 0 (valid patches may rely on it), every control triple is applied, and the result must be
 * exactly the declared size.
 */
import { type FileHandle, open, rm } from 'node:fs/promises';
import { BSDIFF4_HEADER_SIZE, parseHeader, readInt64 } from './bsdiff4-header.js';
import { bzip2DecompressStream } from './bzip2/decoder.js';
import type { ApplyPatchOptions } from './codec.js';
import { ChunkReader, fileRangeChunks, OutputWriter, readFullyAt } from './file-io.js';
import { BlockCache } from './notsotuf/block-cache.js';
import { patchFailure, patchInvalid, patchIoError, throwIfAborted } from './patch-errors.js';

const CONTROL_SIZE = 24;
/**
 * Most bytes processed per step of an add or copy, and the decoders' output chunk size. Large steps keep the
 * per-step costs (an await, a cache lookup, a view) small next to the per-byte work: with 64 KiB steps they were a
 * third of the apply time on the 183 MB benchmark pair.
 */
const STEP = 256 * 1024;

/** dst[i] += add[i] (mod 256, as Uint8Array stores wrap), in a function of its own so V8 optimises the loop. */
function addBytes(dst: Uint8Array, add: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = dst[i]! + add[i]!;
}

/** Applies `patchPath` to `oldPath`, writing `outPath`. Returns the size written. */
export async function applyBsdiff4(options: ApplyPatchOptions): Promise<{ size: number }> {
  const { oldPath, patchPath, outPath, expectedSize, signal, onProgress, onOutput } = options;
  throwIfAborted(signal);
  const handles: FileHandle[] = [];
  const openFile = async (path: string, flags: string): Promise<FileHandle> => {
    try {
      const fh = await open(path, flags);
      handles.push(fh);
      return fh;
    } catch (err) {
      throw patchIoError(flags === 'r' ? 'open' : 'create', path, err);
    }
  };
  const sizeOf = async (fh: FileHandle, path: string): Promise<number> => {
    try {
      return (await fh.stat()).size;
    } catch (err) {
      throw patchIoError('stat', path, err);
    }
  };

  let outCreated = false;
  const readers: ChunkReader[] = [];
  const closeAll = async (): Promise<void> => {
    for (const r of readers.splice(0)) await r.close().catch(() => undefined);
    for (const fh of handles.splice(0)) await fh.close().catch(() => undefined);
  };
  try {
    // 1. Header: checked against the patch size and the signed size before anything else is opened.
    const patch = await openFile(patchPath, 'r');
    const patchSize = await sizeOf(patch, patchPath);
    const head = new Uint8Array(BSDIFF4_HEADER_SIZE);
    if (patchSize >= BSDIFF4_HEADER_SIZE) await readFullyAt(patch, patchPath, head, head.length, 0);
    const header = parseHeader(head, patchSize, expectedSize);
    const { newSize } = header;

    // 2. Inputs and output.
    const old = await openFile(oldPath, 'r');
    const oldSize = await sizeOf(old, oldPath);
    const out = await openFile(outPath, 'w');
    outCreated = true;
    const writer = new OutputWriter(out, outPath, 1 << 20, onOutput);

    // 3. One incremental decoder per block; each is confined to its own byte range of the patch.
    const ctrlStart = BSDIFF4_HEADER_SIZE;
    const diffStart = ctrlStart + header.controlLength;
    const extraStart = diffStart + header.diffLength;
    const block = (start: number, end: number): ChunkReader => {
      // ChunkReader finishes each chunk before pulling the next, so the decoder may reuse its buffers.
      const chunks = bzip2DecompressStream(fileRangeChunks(patch, patchPath, start, end, STEP), {
        reuseBuffers: true,
        chunkSize: STEP,
      });
      const reader = new ChunkReader(chunks);
      readers.push(reader);
      return reader;
    };
    const ctrl = block(ctrlStart, diffStart);
    const diff = block(diffStart, extraStart);
    const extra = block(extraStart, patchSize);

    // 4. Controls.
    const triple = new Uint8Array(CONTROL_SIZE);
    // Controls are many and their add regions short and near each other (native code): one read syscall per
    // control would dominate, as it did for the notsotuf codec before it read through this cache.
    const oldBlocks = new BlockCache(old, oldPath, oldSize);
    let newPos = 0;
    let oldPos = 0;
    let controls = 0;
    for (;;) {
      throwIfAborted(signal);
      const got = await ctrl.readInto(triple);
      if (got === 0) break;
      if (got < CONTROL_SIZE) throw patchInvalid('bsdiff control block ends inside a control triple');
      // Every control of a real bsdiff patch is found at a distinct scan position, so there are at most
      // newSize + 1; this bounds the work a tiny, highly compressed control block can demand.
      if (++controls > newSize + 1) throw patchInvalid('bsdiff patch has more controls than it could need');
      const addLength = readInt64(triple, 0, 'add length');
      const copyLength = readInt64(triple, 8, 'copy length');
      const seek = readInt64(triple, 16, 'seek');
      if (addLength < 0 || copyLength < 0) {
        throw patchInvalid('bsdiff control has a negative length', { addLength, copyLength });
      }
      if (addLength > newSize - newPos) throw patchInvalid('bsdiff control writes past the new file size');

      // new = diff + old, where old bytes outside the old file count as 0 (as bspatch does).
      for (let left = addLength; left > 0; ) {
        throwIfAborted(signal);
        const d = await diff.read(Math.min(left, STEP, writer.capacity));
        if (d === null) throw patchInvalid('bsdiff diff block ends early');
        const n = d.length;
        const dst = await writer.reserve(n);
        // The old bytes go straight into the output buffer (zeros where they fall outside the old file), then the
        // diff bytes are added in place: no intermediate copy.
        const from = Math.min(Math.max(oldPos, 0), oldPos + n);
        const to = Math.max(Math.min(oldPos + n, oldSize), from);
        if (from > oldPos) dst.fill(0, 0, from - oldPos);
        if (to < oldPos + n) dst.fill(0, to - oldPos, n);
        if (from < to) {
          const into = from === oldPos ? dst : dst.subarray(from - oldPos);
          oldBlocks.readSync(into, from, to - from);
        }
        addBytes(dst, d, n);
        writer.commit(n);
        oldPos += n;
        newPos += n;
        left -= n;
      }

      if (copyLength > newSize - newPos) throw patchInvalid('bsdiff control writes past the new file size');
      for (let left = copyLength; left > 0; ) {
        throwIfAborted(signal);
        const e = await extra.read(Math.min(left, STEP, writer.capacity));
        if (e === null) throw patchInvalid('bsdiff extra block ends early');
        (await writer.reserve(e.length)).set(e);
        writer.commit(e.length);
        newPos += e.length;
        left -= e.length;
      }

      oldPos += seek;
      // |seek| < 2^53 and |oldPos| stays below 2^53 too, so the next sum is exact.
      if (!Number.isSafeInteger(oldPos))
        throw patchInvalid('bsdiff seek moves the old position out of range');
      onProgress?.({ done: newPos, total: newSize });
    }

    // 5. Nothing may be missing or left over: the result has the declared size, and the diff and extra blocks
    // end exactly where the controls stop using them (this also runs their end-of-stream CRC checks).
    if (newPos !== newSize) {
      throw patchInvalid('bsdiff patch builds fewer bytes than it declares', { built: newPos, newSize });
    }
    if (!(await diff.atEnd())) throw patchInvalid('bsdiff diff block has unused bytes');
    if (!(await extra.atEnd())) throw patchInvalid('bsdiff extra block has unused bytes');
    await writer.flush();
    onProgress?.({ done: newSize, total: newSize });
    return { size: newSize };
  } catch (err) {
    // Close before deleting: Windows cannot remove a file that is still open.
    await closeAll();
    if (outCreated) await rm(outPath, { force: true }).catch(() => undefined);
    throw patchFailure('apply the patch to', outPath, err);
  } finally {
    await closeAll();
  }
}
