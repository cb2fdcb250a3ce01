import { open, rm } from 'node:fs/promises';
import { checkAborted } from '../../core/aborted.js';
import type { ApplyPatchOptions } from '../codec.js';
import { BlockCache } from './block-cache.js';
import { ByteReader } from './byte-reader.js';
import { isValidFilter } from './delta-filter.js';
import { DiffReader } from './diff-reader.js';
import { APPLY_PIECE, FilteredRegion } from './filtered-old.js';
import {
  DIFF_PLAIN,
  decodeHeader,
  HEADER_SIZE,
  invalidPatch,
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
  unzigzag,
} from './format.js';
import { PieceWriter } from './piece-writer.js';
import { PredictLookahead } from './predict-section.js';
import { type SectionPredictor, sectionPredictor } from './predictor.js';
import { streamRange } from './stream-range.js';

/**
 * Size of the pieces old bytes are read and output is written in (256 KiB): memory stays bounded for any file
 * size, and 1 MiB pieces were no faster.
 */
const PIECE = APPLY_PIECE;

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
