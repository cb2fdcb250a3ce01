import { open, rm, writeFile } from 'node:fs/promises';
import { checkAborted } from '../../core/aborted.js';
import { NotsotufError } from '../../core/errors.js';
import { internalError } from '../../core/foreign-error.js';
import type { CreatePatchOptions } from '../codec.js';
import { loadLzmaNative } from '../lzma/encoder.js';
import { patchIoError } from '../patch-errors.js';
import { changedParts, emitPart, type Inputs } from './file-parts.js';
import { FileSlices } from './file-slices.js';
import { DIFF_PLAIN, DIFF_RUNS, encodeHeader, formatVersion, METHOD_BROTLI, METHOD_BZIP2 } from './format.js';
import { MatchAhead } from './match-ahead.js';
import type { MatchJob, OpenInput } from './match-protocol.js';
import type { Matcher } from './matcher.js';
import { OpsWriter } from './ops-writer.js';
import {
  bzip2Patch,
  type Compressed,
  preferNative,
  SMALL_STREAM,
  StreamCompressor,
} from './stream-compressor.js';
import { dropSpareTable } from './table-pool.js';
import { indexTar, type TarMember } from './tar-index.js';
import { membersToHash, planMembers } from './tar-steps.js';

/**
 * Diff bytes per byte of ops above which the plain diff form is tried on a large diff. It wins when a few long
 * approximate regions carry the whole diff: the Go executables of the corpus (esbuild linux-x64 and darwin-arm64)
 * have 980–1,240 diff bytes per ops byte, and plain bzip2 is 4–11 % smaller there. With the finer structure of
 * other native code (Rust, C++: 19–175) and of text (95) it lost by 15–25 %, and its bzip2 pass cost 2–4 s of a
 * 10 s create.
 */
const PLAIN_MIN_DIFF_PER_OP = 500;

/**
 * Outputs new[newStart, newStart + length) as a COPY of old[oldStart, …) when those bytes are the same (an
 * unchanged header, a member's padding, the end-of-archive blocks), else as `otherwise` does. COPYs of adjacent
 * old bytes merge, so a run of unchanged members is one instruction: rxjs 7.8.1 → 7.8.2 (2,000 files, a few
 * changed) had a patch of 20.9 KB, 1.6 × bsdiff's, most of it a header ADD, a COPY and a padding INSERT per file.
 */
function copyIfSame(
  w: OpsWriter,
  { old, neu }: Inputs,
  newStart: number,
  length: number,
  oldStart: number | undefined,
  otherwise: () => void,
): void {
  if (length <= 0) return;
  const same =
    oldStart !== undefined &&
    oldStart + length <= old.size &&
    Buffer.from(old.read(oldStart, length)).equals(neu.read(newStart, length));
  if (same) w.copy(oldStart, length);
  else otherwise();
}

/**
 * Emits the new tar member by member, as planMembers decides (tar-steps.ts). Only the member being emitted is in
 * memory (with its old version); with `parallel`, changed files further on are matched on a worker meanwhile.
 */
async function emitTar(
  w: OpsWriter,
  inputs: Inputs,
  oldMembers: TarMember[],
  newMembers: TarMember[],
  matcher: Matcher,
  parallel: boolean,
  progress: (done: number) => void,
): Promise<void> {
  const { old, neu } = inputs;
  const toHash = membersToHash(oldMembers, newMembers);
  const hashes = (slices: FileSlices, members: TarMember[], wanted: boolean[]) =>
    members.map((m, i) => (wanted[i] ? slices.sha256(m.dataStart, m.dataSize) : undefined));
  const steps = planMembers(
    oldMembers,
    newMembers,
    hashes(old, oldMembers, toHash.old),
    hashes(neu, newMembers, toHash.new),
  );
  const partsOf = steps.map(({ member, content }) =>
    content.kind === 'diff'
      ? changedParts(inputs, content.base.dataStart, content.base.dataSize, member.dataStart, member.dataSize)
      : [],
  );
  // Each part with old bytes is a job to match; the rest are inserted as they are.
  const jobs: MatchJob[] = [];
  const jobsOf = partsOf.map((parts) => parts.map((part) => (part.oldSize > 0 ? jobs.push(part) - 1 : -1)));
  const ahead = parallel ? MatchAhead.start({ old: old.file, neu: neu.file }, jobs) : undefined;
  try {
    let pos = 0;
    /** Where the old bytes that correspond to new[pos] are, when known: after the previous member's source. */
    let oldAtPos: number | undefined = 0;
    for (const [i, { member: m, base, content }] of steps.entries()) {
      // The padding of the previous member (zeros), as its old version's padding when that is the same.
      copyIfSame(w, inputs, pos, m.headerStart - pos, oldAtPos, () =>
        w.insert(neu.read(pos, m.headerStart - pos)),
      );
      const headerLength = m.dataStart - m.headerStart;
      // Header blocks against the old member's (they differ in a few bytes, if at all), when they are as long.
      if (base && base.dataStart - base.headerStart === headerLength)
        copyIfSame(w, inputs, m.headerStart, headerLength, base.headerStart, () =>
          w.approximate(
            old.read(base.headerStart, headerLength),
            base.headerStart,
            neu.read(m.headerStart, headerLength),
            base.headerStart,
          ),
        );
      else w.insert(neu.read(m.headerStart, headerLength));
      if (content.kind === 'copy') w.copy(content.from.dataStart, content.from.dataSize);
      else if (content.kind === 'insert') w.insert(neu.read(m.dataStart, m.dataSize));
      else
        for (const [k, part] of partsOf[i]!.entries())
          await emitPart(
            w,
            inputs,
            part,
            matcher,
            jobsOf[i]![k]! >= 0 ? ahead?.take(jobsOf[i]![k]!) : undefined,
          );
      pos = m.dataStart + m.dataSize;
      const source =
        content.kind === 'copy' ? content.from : content.kind === 'diff' ? content.base : undefined;
      oldAtPos = source && source.dataStart + source.dataSize;
      progress(pos);
    }
    // Padding, end-of-archive blocks and record fill.
    copyIfSame(w, inputs, pos, neu.size - pos, oldAtPos, () => w.insert(neu.read(pos, neu.size - pos)));
  } finally {
    await ahead?.close();
  }
}

/** Options of createNotsotufPatch beyond the codec's. */
export interface NotsotufCreateSettings {
  /** Finds the matches of a changed file. */
  readonly matcher: Matcher;
  /**
   * Match changed files ahead on a worker thread when there is a second core. Only for the adaptive matcher,
   * which is the one the worker runs.
   */
  readonly parallel: boolean;
}

/** Emits the patch's instructions for `inputs` into `w`, tar-aware when both files are tars. */
async function emitAll(
  w: OpsWriter,
  inputs: Inputs,
  settings: NotsotufCreateSettings,
  progress: (done: number) => void,
): Promise<void> {
  const { old, neu } = inputs;
  const oldMembers = indexTar(old);
  const newMembers = indexTar(neu);
  if (oldMembers && newMembers)
    await emitTar(w, inputs, oldMembers, newMembers, settings.matcher, settings.parallel, progress);
  else {
    // Not tars: one file against the other.
    for (const part of changedParts(inputs, 0, old.size, 0, neu.size))
      await emitPart(w, inputs, part, settings.matcher, undefined);
  }
}

/** Opens `path` for reading. */
async function openInput(path: string): Promise<{ close(): Promise<void>; input: OpenInput }> {
  try {
    const fh = await open(path, 'r');
    const { size } = await fh.stat();
    return { close: () => fh.close(), input: { fd: fh.fd, size, path } };
  } catch (err) {
    throw patchIoError('read', path, err);
  }
}

/** The four compressed streams and the diff form they hold. */
interface Streams {
  readonly streams: Compressed[];
  readonly usePlain: boolean;
  /** The kinds of predicted sections written, and whether page digests were (they decide the format version). */
  readonly predicted: { readonly x86: boolean; readonly arm64: boolean; readonly pages: boolean };
}

/** Plans the patch of `inputs` and compresses its streams. */
async function compressStreams(
  options: CreatePatchOptions,
  inputs: Inputs,
  settings: NotsotufCreateSettings,
): Promise<Streams> {
  const { signal } = options;
  const total = inputs.neu.size;
  const abortCheck = () => checkAborted(signal, 'Creating the patch was aborted.');
  const lzma = await loadLzmaNative();
  // Streams compress while the plan is made (liblzma on its own thread), each also trying brotli as its
  // policy says (stream-compressor.ts): 11 for ops, runs and extra when small, 9 for the diff bytes.
  const compressors = {
    ops: new StreamCompressor(lzma, { brotliQuality: 11, largeBrotli: 'always' }),
    // Diff runs and bytes have no alignment, so no position context (pb 0); the runs' varints are best
    // predicted by the whole previous byte (lc 4). Measured on the 183 MB pair: −17 KB and −12 KB.
    diffRuns: new StreamCompressor(lzma, {
      brotliQuality: 11,
      largeBrotli: 'never',
      literal: { lc: 4, pb: 0 },
    }),
    diffBytes: new StreamCompressor(lzma, {
      brotliQuality: 9,
      largeBrotli: 'never',
      literal: { lc: 3, pb: 0 },
    }),
    extra: new StreamCompressor(lzma, { brotliQuality: 11, largeBrotli: 'text' }),
  };
  const all = Object.values(compressors);
  let opsLength = 0;
  const w = new OpsWriter({
    ops: (chunk) => {
      opsLength += chunk.length;
      compressors.ops.push(chunk);
    },
    diffRuns: compressors.diffRuns.push,
    diffBytes: compressors.diffBytes.push,
    extra: compressors.extra.push,
  });
  try {
    await emitAll(w, inputs, settings, (done) => {
      abortCheck();
      options.onProgress?.({ done, total });
    });
    w.finish();
    abortCheck();
    if (w.written !== total) {
      throw internalError(`The patch plan covers ${w.written} of ${total} bytes.`);
    }
    // The plain form is for bzip2's block sorting (LZMA on large plain diffs is slow and never won); a small one
    // tries every coder, like any small stream. A large one is tried only when it can win (PLAIN_MIN_DIFF_PER_OP).
    // The streams finish on their own threads while a large plain form's bzip2 runs here.
    const finishing = Promise.all(all.map((c) => c.finish()));
    finishing.catch(() => undefined); // awaited below; if bzip2 throws first, the catch below destroys them
    const plainBytes = w.diffPlain?.view();
    let plain: Promise<Compressed> | undefined;
    if (plainBytes && plainBytes.length <= SMALL_STREAM) {
      const c = new StreamCompressor(lzma, { brotliQuality: 9, largeBrotli: 'never', withBzip2: true });
      c.push(plainBytes);
      plain = c.finish();
    } else if (plainBytes && plainBytes.length >= PLAIN_MIN_DIFF_PER_OP * opsLength) {
      plain = Promise.resolve({ data: bzip2Patch(plainBytes), method: METHOD_BZIP2 });
    }
    const [ops, runs, bytes, extra] = await finishing;
    const plainResult = await plain;
    abortCheck();
    // The plain diff form when it is smaller (see format.ts); its runs stream is then empty.
    const usePlain =
      plainResult !== undefined && plainResult.data.length < runs!.data.length + bytes!.data.length;
    const streams: Compressed[] = preferNative(
      usePlain
        ? [ops!, { data: new Uint8Array(0), method: METHOD_BROTLI }, plainResult!, extra!]
        : [ops!, runs!, bytes!, extra!],
    );
    return { streams, usePlain, predicted: w.predicted };
  } catch (err) {
    for (const c of all) c.destroy();
    throw err;
  }
}

/** Creates a notsotuf patch from `oldPath` to `newPath`. */
export async function createNotsotufPatch(
  options: CreatePatchOptions,
  settings: NotsotufCreateSettings,
): Promise<{ size: number }> {
  const oldFile = await openInput(options.oldPath);
  const newFile = await openInput(options.newPath).catch(async (err: unknown) => {
    await oldFile.close();
    throw err;
  });
  const oldSize = oldFile.input.size;
  const newSize = newFile.input.size;
  let compressed: Streams;
  try {
    const inputs = { old: new FileSlices(oldFile.input), neu: new FileSlices(newFile.input) };
    compressed = await compressStreams(options, inputs, settings);
  } finally {
    await Promise.all([oldFile.close(), newFile.close()]);
    dropSpareTable();
  }
  const { streams, usePlain, predicted } = compressed;
  const header = encodeHeader({
    version: formatVersion(predicted),
    diffForm: usePlain ? DIFF_PLAIN : DIFF_RUNS,
    oldSize,
    newSize,
    lengths: [
      streams[0]!.data.length,
      streams[1]!.data.length,
      streams[2]!.data.length,
      streams[3]!.data.length,
    ],
    methods: [streams[0]!.method, streams[1]!.method, streams[2]!.method, streams[3]!.method],
  });
  const size = header.length + streams.reduce((sum, st) => sum + st.data.length, 0);
  try {
    await writeFile(options.outPath, Buffer.concat([header, ...streams.map((st) => st.data)]), {
      flag: 'wx',
    });
  } catch (err) {
    await rm(options.outPath, { force: true });
    throw new NotsotufError('IO_ERROR', `Could not write the patch ${options.outPath}.`, {
      path: options.outPath,
      cause: err,
    });
  }
  options.onProgress?.({ done: newSize, total: newSize });
  return { size };
}
