/**
 * Writes a BSDIFF40 patch (the publisher side). Both files are read whole: the matcher needs random access to
 * the old file and its suffix array (4 bytes per old byte), which is fine on a publisher's machine.
 *
 * The matching loop runs synchronously but hands control back to the event loop every 256 KiB of the new file and
 * between compressed blocks, so progress is reported and an AbortSignal is honoured promptly. Building the suffix
 * array is the one long step that cannot be interrupted (about 1 s per 1-2 MB of input on a slow machine).
 */
import { type FileHandle, open, readFile, rm } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { NotsotufError } from '../core/index.js';
import { bsdiffSteps, SuffixArrayFinder } from './bsdiff-core.js';
import { BSDIFF4_HEADER_SIZE, encodeHeader, writeInt64 } from './bsdiff4-header.js';
import { bzip2CompressChunks } from './bzip2/index.js';
import type { CreatePatchOptions } from './codec.js';
import { patchFailure, patchIoError, throwIfAborted } from './patch-errors.js';
import { buildSuffixArray } from './suffix-array.js';

/** The three uncompressed bsdiff blocks. */
export interface BsdiffBlocks {
  /** Control triples, 24 bytes each (add length, copy length, seek as sign-magnitude int64). */
  readonly control: Uint8Array;
  readonly diff: Uint8Array;
  readonly extra: Uint8Array;
}

const MAX_OLD_SIZE = 2 ** 31 - 1;

/**
 * Creates a patch from `oldPath` to `newPath` at `outPath`; returns its size. Throws IO_ERROR, ABORTED (no output
 * is left), or INVALID_ARGUMENT for an old file over 2 GiB.
 */
export async function createBsdiff4(options: CreatePatchOptions): Promise<{ size: number }> {
  const { oldPath, newPath, outPath, signal, onProgress } = options;
  throwIfAborted(signal);
  const old = await readWhole(oldPath);
  const next = await readWhole(newPath);
  // Suffix array entries are 32-bit. tufup's bsdiff4 has the same limit (C ints), and release tars are far smaller.
  if (old.length > MAX_OLD_SIZE) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `${oldPath} is too large for a bsdiff4 patch (2 GiB at most)`,
      {
        hint: 'Use the notsotuf patch codec, or publish this release without a patch.',
        path: oldPath,
        details: { size: old.length },
      },
    );
  }
  await nextTurn();
  throwIfAborted(signal);
  const blocks = await diffBlocks(old, next, signal, (done) => onProgress?.({ done, total: next.length }));
  throwIfAborted(signal);

  let fh: FileHandle | undefined;
  let created = false;
  try {
    try {
      fh = await open(outPath, 'w');
      created = true;
    } catch (err) {
      throw patchIoError('create', outPath, err);
    }
    const out = fh;
    let pos = BSDIFF4_HEADER_SIZE;
    const writeAt = async (bytes: Uint8Array, at: number): Promise<void> => {
      try {
        let done = 0;
        while (done < bytes.length) {
          done += (await out.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
        }
      } catch (err) {
        throw patchIoError('write', outPath, err);
      }
    };
    const writeCompressed = async (data: Uint8Array): Promise<number> => {
      const start = pos;
      for (const chunk of bzip2CompressChunks([data])) {
        throwIfAborted(signal);
        await writeAt(chunk, pos);
        pos += chunk.length;
      }
      return pos - start;
    };
    // The header needs the compressed lengths: leave room for it and fill it in last.
    const controlLength = await writeCompressed(blocks.control);
    const diffLength = await writeCompressed(blocks.diff);
    await writeCompressed(blocks.extra);
    await writeAt(encodeHeader({ controlLength, diffLength, newSize: next.length }), 0);
    await out.close();
    fh = undefined;
    onProgress?.({ done: next.length, total: next.length });
    return { size: pos };
  } catch (err) {
    await fh?.close().catch(() => undefined);
    if (created) await rm(outPath, { force: true }).catch(() => undefined);
    throw patchFailure('write', outPath, err);
  }
}

/**
 * Runs the bsdiff matcher and materialises its three blocks. `onProgress` gets the number of new-file bytes
 * scanned; the loop yields to the event loop with each report. Throws ABORTED when `signal` fires.
 */
export async function diffBlocks(
  old: Uint8Array,
  next: Uint8Array,
  signal?: AbortSignal,
  onProgress?: (scanned: number) => void,
): Promise<BsdiffBlocks> {
  const sa = buildSuffixArray(old);
  await nextTurn();
  throwIfAborted(signal);
  const diff = new Uint8Array(next.length);
  const extra = new Uint8Array(next.length);
  let control = new Uint8Array(24 * 256);
  let diffLength = 0;
  let extraLength = 0;
  let controlLength = 0;
  for (const step of bsdiffSteps(old, next, new SuffixArrayFinder(old, sa, next))) {
    if (step.kind === 'progress') {
      onProgress?.(step.scanned);
      await nextTurn();
      throwIfAborted(signal);
      continue;
    }
    const { addLength, copyLength, seek, newStart, oldStart } = step.control;
    if (controlLength + 24 > control.length) {
      const grown = new Uint8Array(control.length * 2);
      grown.set(control);
      control = grown;
    }
    writeInt64(control, controlLength, addLength);
    writeInt64(control, controlLength + 8, copyLength);
    writeInt64(control, controlLength + 16, seek);
    controlLength += 24;
    // Uint8Array stores wrap modulo 256, which is exactly bsdiff's byte subtraction.
    for (let i = 0; i < addLength; i++) diff[diffLength + i] = next[newStart + i]! - old[oldStart + i]!;
    diffLength += addLength;
    const copyStart = newStart + addLength;
    extra.set(next.subarray(copyStart, copyStart + copyLength), extraLength);
    extraLength += copyLength;
  }
  return {
    control: control.subarray(0, controlLength),
    diff: diff.subarray(0, diffLength),
    extra: extra.subarray(0, extraLength),
  };
}

async function readWhole(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } catch (err) {
    throw patchIoError('read', path, err);
  }
}
