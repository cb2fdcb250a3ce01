import { createReadStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { createBrotliDecompress } from 'node:zlib';
import { checkAborted } from '../../core/aborted.js';
import { bzip2DecompressStream } from '../bzip2/decoder.js';
import type { ApplyPatchOptions } from '../codec.js';
import { lzmaDecompressStream } from '../lzma/decoder.js';
import { BlockCache } from './block-cache.js';
import { ByteReader } from './byte-reader.js';
import { copyBytes } from './copy-bytes.js';
import { isValidFilter } from './delta-filter.js';
import { DiffReader } from './diff-reader.js';
import { APPLY_PIECE, FilteredRegion } from './filtered-old.js';
import {
  DIFF_PLAIN,
  decodeHeader,
  HEADER_SIZE,
  invalidPatch,
  MAX_FILE_SIZE,
  MAX_LZMA_DICT,
  METHOD_BZIP2,
  METHOD_LZMA,
  OP_ADD,
  OP_COPY,
  OP_FILTER,
  OP_INSERT,
  OP_PREDICT,
  type PatchHeader,
  PREDICT_ARM64,
  PREDICT_END,
  PREDICT_X86,
  STREAMS,
  type StreamMethod,
  unzigzag,
} from './format.js';
import { PredictLookahead } from './predict-section.js';
import { type SectionPredictor, sectionPredictor } from './predictor.js';

/**
 * Size of the pieces old bytes are read and output is written in (256 KiB): memory stays bounded for any file
 * size, and 1 MiB pieces were no faster.
 */
const PIECE = APPLY_PIECE;

/** Decompresses one stream from a byte range of the patch file, chunk by chunk. */
async function* streamRange(
  path: string,
  start: number,
  length: number,
  method: StreamMethod,
): AsyncGenerator<Buffer> {
  if (length === 0) throw invalidPatch('an empty compressed stream');
  const source = createReadStream(path, { start, end: start + length - 1 });
  if (method === METHOD_LZMA) {
    try {
      for await (const chunk of lzmaDecompressStream(source as AsyncIterable<Buffer>, {
        maxDictSize: MAX_LZMA_DICT,
        maxOutputLength: MAX_FILE_SIZE,
      }))
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    } finally {
      source.destroy();
    }
    return;
  }
  if (method === METHOD_BZIP2) {
    try {
      for await (const chunk of bzip2DecompressStream(source as AsyncIterable<Buffer>, {
        reuseBuffers: true,
      }))
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    } finally {
      source.destroy();
    }
    return;
  }
  const decoder = createBrotliDecompress();
  source.on('error', (err) => decoder.destroy(err));
  source.pipe(decoder);
  try {
    for await (const chunk of decoder) yield chunk as Buffer;
  } catch (err) {
    throw invalidPatch('a compressed stream is corrupt or truncated', err);
  } finally {
    source.destroy();
    decoder.destroy();
  }
}

/**
 * Collects output into pieces and writes each out whole, from two reused buffers: one fills while the other is
 * being written (the write is on libuv's thread, so apply does not sit idle for it). Memory stays flat for any size.
 */
class PieceWriter {
  private readonly buffers = [Buffer.allocUnsafe(PIECE), Buffer.allocUnsafe(PIECE)];
  private buf = this.buffers[0]!;
  private used = 0;
  /** The write of the other buffer, if one is under way. */
  private writing: Promise<void> | undefined;

  constructor(
    private readonly out: FileHandle,
    /** Sees every byte once, in order, before it is written (ApplyPatchOptions.onOutput). */
    private readonly onOutput?: (bytes: Uint8Array) => void | Promise<void>,
  ) {}

  /** Buffers `bytes` when they fit without a flush and returns true; otherwise does nothing (then call `push`). */
  pushSync(bytes: Uint8Array, length = bytes.length): boolean {
    if (this.used + length >= PIECE) return false;
    copyBytes(bytes, 0, this.buf, this.used, length);
    this.used += length;
    return true;
  }

  async push(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, PIECE - this.used);
      this.buf.set(bytes.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
      if (this.used === PIECE) await this.flush();
    }
  }

  /** Starts writing the buffered piece, once the piece before it is written, and goes on in the other buffer. */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const piece = this.buf.subarray(0, this.used);
    if (this.onOutput) await this.onOutput(piece);
    await this.settled();
    const writing = this.writeAll(piece);
    writing.catch(() => undefined); // awaited by the next flush or finish; an abandoned apply must not crash
    this.writing = writing;
    this.buf = this.buf === this.buffers[0] ? this.buffers[1]! : this.buffers[0]!;
    this.used = 0;
  }

  private async writeAll(piece: Buffer): Promise<void> {
    let done = 0;
    while (done < piece.length) {
      const { bytesWritten } = await this.out.write(piece, done, piece.length - done);
      done += bytesWritten;
    }
  }

  /** Waits for the write under way, if any (rethrowing its error). */
  private async settled(): Promise<void> {
    const writing = this.writing;
    this.writing = undefined;
    await writing;
  }

  /** Writes what is left and waits until every byte is written. */
  async finish(): Promise<void> {
    await this.flush();
    await this.settled();
  }

  /** Waits for a write under way to end, ignoring its error (before the file is closed after a failure). */
  async abandon(): Promise<void> {
    await this.writing?.catch(() => undefined);
  }
}

/**
 * Applies a notsotuf patch, streaming: the ops, diff and extra streams are decompressed as they are needed, old
 * bytes are read at their offsets, and output goes out in pieces of 256 KiB. Every instruction is checked against the
 * header's sizes before it runs, so a hostile patch can neither read outside the base file, nor write past the
 * declared size, nor make us allocate by a length it chose.
 */
export async function applyNotsotufPatch(options: ApplyPatchOptions): Promise<{ size: number }> {
  const { patchPath, oldPath, outPath, signal } = options;
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
  const writer = new PieceWriter(out, options.onOutput);
  try {
    if ((await oldFh.stat()).size !== header.oldSize) {
      throw invalidPatch(`it was made for a base of ${header.oldSize} bytes, not this file`);
    }
    let streamStart = HEADER_SIZE;
    const opsReader = () => {
      const reader = new ByteReader(
        streamRange(patchPath, HEADER_SIZE, header.lengths[0]!, header.methods[0]!),
        'ops',
      );
      readers.push(reader);
      return reader;
    };
    const streams = STREAMS.map((name, i) => {
      const length = header.lengths[i]!;
      const start = streamStart;
      streamStart += length;
      // The plain diff form has no runs stream.
      if (i === 1 && header.diffForm === DIFF_PLAIN) return undefined;
      const reader = new ByteReader(streamRange(patchPath, start, length, header.methods[i]!), name);
      readers.push(reader);
      return reader;
    });
    const [ops, diffRuns, diffBytes, extra] = streams as [
      ByteReader,
      ByteReader | undefined,
      ByteReader,
      ByteReader,
    ];
    const diff = new DiffReader(diffRuns, diffBytes);
    const oldBuf = Buffer.allocUnsafe(PIECE);
    const oldBlocks = new BlockCache(oldFh, oldPath, header.oldSize);
    let outPos = 0;
    let oldPos = 0;
    let lastReport = 0;
    /** The filtered region being output, if any. */
    let region: FilteredRegion | undefined;
    /** The predicted section's rule while in one, and a second reader of the ops stream that finds sections. */
    let predict: SectionPredictor | undefined;
    let lookahead: PredictLookahead | undefined;
    let oldCopy: Buffer | undefined;
    /** Output bytes the next instruction may make: up to the end of the result, or of the filtered region. */
    const room = () => (region ? region.unfilter.remaining : header.newSize - outPos);
    // A predicted section may end after the last byte (its PREDICT 0): the loop reads it.
    while (outPos < header.newSize || predict) {
      checkAborted(signal, 'Applying the patch was aborted.');
      // The sync reads serve almost every instruction from buffers; the awaits are for buffer boundaries.
      let kind = ops.byteSync();
      if (kind < 0) kind = await ops.byte();
      if (kind === OP_COPY || kind === OP_ADD) {
        let delta = ops.varintSync();
        if (delta < 0) delta = await ops.varint();
        const start = oldPos + unzigzag(delta);
        let length = ops.varintSync();
        if (length < 0) length = await ops.varint();
        if (
          length === 0 ||
          start < 0 ||
          start + length > header.oldSize ||
          length > room() ||
          (region && !region.covers(start, length))
        ) {
          throw invalidPatch('an instruction reaches outside the base, the result or its filtered region');
        }
        for (let done = 0; done < length; ) {
          // Synchronous in the common case: no promise or view object per instruction (the allocation rate
          // of millions of them is what grows node's heap).
          const want = Math.min(PIECE, length - done);
          if (region) region.readSync(oldBlocks, oldBuf, start + done, want);
          else oldBlocks.readSync(oldBuf, start + done, want);
          if (kind === OP_ADD) {
            const predicting = predict && !region;
            if (predicting) oldCopy!.set(oldBuf.subarray(0, want));
            const pending = diff.addInto(oldBuf, want);
            if (pending) await pending;
            if (predicting) predict!.apply(oldBuf, oldCopy!, want, outPos + done, start + done);
          }
          region?.unfilter.unfilterInPlace(oldBuf, want);
          if (!writer.pushSync(oldBuf, want)) await writer.push(oldBuf.subarray(0, want));
          done += want;
        }
        oldPos = start + length;
        outPos += length;
      } else if (kind === OP_INSERT) {
        let length = ops.varintSync();
        if (length < 0) length = await ops.varint();
        if (length === 0 || length > room())
          throw invalidPatch('an insert reaches past the result or its filtered region');
        for (let done = 0; done < length; ) {
          // Through oldBuf, as COPY: no view object per instruction, and unfiltered in place in a region.
          const max = Math.min(PIECE, length - done);
          let n = extra.copyIntoSync(oldBuf, 0, max);
          if (n === 0) {
            const bytes = await extra.take(max);
            bytes.copy(oldBuf);
            n = bytes.length;
          }
          region?.unfilter.unfilterInPlace(oldBuf, n);
          if (!writer.pushSync(oldBuf, n)) await writer.push(oldBuf.subarray(0, n));
          done += n;
        }
        outPos += length;
      } else if (kind === OP_FILTER && header.version !== 2) {
        if (region) throw invalidPatch('a filtered region inside another');
        const fields: number[] = [];
        for (let i = 0; i < 5; i++) {
          const v = ops.varintSync();
          fields.push(v < 0 ? await ops.varint() : v);
        }
        const [word, stride, length, delta, oldLength] = fields as [number, number, number, number, number];
        const start = oldPos + unzigzag(delta);
        if (
          !isValidFilter({ word, stride }) ||
          length === 0 ||
          outPos + length > header.newSize ||
          start < 0 ||
          start + oldLength > header.oldSize
        ) {
          throw invalidPatch('a filtered region is malformed or reaches outside the base or the result');
        }
        region = new FilteredRegion({ word, stride }, length, start, oldLength);
        oldPos = start;
      } else if (kind === OP_PREDICT && header.version! >= 4) {
        let mode = ops.varintSync();
        if (mode < 0) mode = await ops.varint();
        const starts = mode === PREDICT_X86 || (mode === PREDICT_ARM64 && header.version! >= 5);
        if (starts && !predict && !region) {
          let oldOrigin = 0;
          if (mode === PREDICT_ARM64) {
            oldOrigin = ops.varintSync();
            if (oldOrigin < 0) oldOrigin = await ops.varint();
            if (oldOrigin > header.oldSize) throw invalidPatch('a predicted section starts outside the base');
          }
          lookahead ??= new PredictLookahead(opsReader());
          const map = await lookahead.nextSection();
          predict = sectionPredictor(
            mode === PREDICT_ARM64 ? { kind: PREDICT_ARM64, oldOrigin } : { kind: PREDICT_X86 },
            map,
            outPos,
          );
          oldCopy ??= Buffer.allocUnsafe(PIECE);
        } else if (mode === PREDICT_END && predict && !region) predict = undefined;
        else throw invalidPatch('a predicted section is malformed');
      } else {
        throw invalidPatch(`unknown instruction ${kind}`);
      }
      if (region && region.unfilter.remaining === 0) region = undefined;
      if (options.onProgress && outPos - lastReport >= 4 * PIECE) {
        lastReport = outPos;
        options.onProgress({ done: outPos, total: header.newSize });
      }
    }
    if (predict || !(await ops.atEnd()) || !(await diff.atEnd()) || !(await extra.atEnd())) {
      throw invalidPatch('data left over after the result was complete');
    }
    await writer.finish();
    options.onProgress?.({ done: outPos, total: header.newSize });
    ok = true;
    return { size: outPos };
  } finally {
    for (const reader of readers) await reader.close().catch(() => undefined);
    await writer.abandon();
    await oldFh.close();
    await out.close();
    if (!ok) await rm(outPath, { force: true });
  }
}
