import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { NotsotufError } from '../../core/errors.js';
import { bzip2Compress } from '../bzip2/index.js';
import type { CreatePatchOptions } from '../codec.js';
import { loadLzmaNative } from '../lzma/encoder.js';
import { filterRegion } from './delta-filter.js';
import { type FilterRegion, findFilterRegions } from './filter-regions.js';
import { DIFF_PLAIN, DIFF_RUNS, encodeHeader, METHOD_BROTLI, METHOD_BZIP2 } from './format.js';
import { OpsWriter } from './ops-writer.js';
import { type Compressed, SMALL_STREAM, StreamCompressor } from './stream-compressor.js';
import { indexTar, type TarMember } from './tar-index.js';

/** How long the matcher may hold the event loop before it lets the compressors' I/O through. */
const YIELD_EVERY_MS = 20;

/** An approximate match: new[newStart…+length] is old[oldStart…+length] plus small differences. */
export interface Match {
  readonly newStart: number;
  readonly oldStart: number;
  readonly length: number;
}

/**
 * Finds approximate matches of `neu` in `old` (bsdiff-class: suffix-array matches extended over bytes that
 * mostly agree), in increasing `newStart` order, non-overlapping in the new file.
 */
export type Matcher = (old: Uint8Array, neu: Uint8Array) => Iterable<Match>;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface Region {
  readonly start: number;
  readonly end: number;
}

/**
 * Tar-aware planning: each member of the new tar is matched against the member of the old tar with the same
 * path (or, for moved and renamed files, the same content). Unchanged content costs one COPY; a changed file is
 * diffed only against its old version, which bounds the matcher's time and memory by the largest file instead
 * of the whole tar. Header blocks are expressed against the old member's headers (they differ in a few bytes).
 */
async function planTar(
  w: OpsWriter,
  old: Uint8Array,
  neu: Uint8Array,
  oldMembers: TarMember[],
  newMembers: TarMember[],
  matcher: Matcher,
  progress: (done: number) => void,
): Promise<void> {
  const byPath = new Map(oldMembers.map((m) => [m.path, m]));
  const byHash = new Map<string, TarMember>();
  for (const m of oldMembers) {
    if (m.dataSize > 0) byHash.set(sha256(old.subarray(m.dataStart, m.dataStart + m.dataSize)), m);
  }
  let pos = 0;
  for (const m of newMembers) {
    const base = byPath.get(m.path);
    w.insert(neu.subarray(pos, m.headerStart)); // padding of the previous member: zeros
    emitRegion(
      w,
      old,
      neu,
      { start: m.headerStart, end: m.dataStart },
      base ? { start: base.headerStart, end: base.dataStart } : undefined,
    );
    const data = neu.subarray(m.dataStart, m.dataStart + m.dataSize);
    const same = m.dataSize > 0 ? byHash.get(sha256(data)) : undefined;
    if (same) w.copy(same.dataStart, same.dataSize);
    else if (base && base.dataSize > 0 && m.dataSize > 0) {
      const oldData = old.subarray(base.dataStart, base.dataStart + base.dataSize);
      await emitMatched(w, base.dataStart, oldData, data, matcher);
    } else w.insert(data);
    pos = m.dataStart + m.dataSize;
    progress(pos);
  }
  // Padding, end-of-archive blocks and record fill.
  w.insert(neu.subarray(pos));
}

function emitRegion(
  w: OpsWriter,
  old: Uint8Array,
  neu: Uint8Array,
  region: Region,
  oldRegion: Region | undefined,
): void {
  const bytes = neu.subarray(region.start, region.end);
  if (oldRegion && oldRegion.end - oldRegion.start === bytes.length)
    w.approximate(old, oldRegion.start, bytes);
  else w.insert(bytes);
}

/** A match, or a filtered region in its place (see withRegions). */
type Piece = Match | { readonly region: FilterRegion };

/**
 * The matches with the filtered regions put in: a match is cut where a region starts and resumes after its end
 * (a region's bytes are matched in filtered form on their own), and every region comes once, in new order.
 */
function* withRegions(matches: Iterable<Match>, regions: readonly FilterRegion[]): Generator<Piece> {
  let next = 0;
  let floor = 0;
  for (const m of matches) {
    const end = m.newStart + m.length;
    let start = Math.max(m.newStart, floor);
    while (next < regions.length && regions[next]!.newStart < end) {
      const region = regions[next++]!;
      if (start < region.newStart)
        yield {
          newStart: start,
          oldStart: m.oldStart + (start - m.newStart),
          length: region.newStart - start,
        };
      yield { region };
      floor = region.newEnd;
      start = Math.max(start, floor);
    }
    if (start < end)
      yield { newStart: start, oldStart: m.oldStart + (start - m.newStart), length: end - start };
  }
  while (next < regions.length) yield { region: regions[next++]! };
}

/** Lets the event loop run now and then: the compressors' chunks reach liblzma's thread only through it. */
function yielder(): () => Promise<void> | undefined {
  let turn = Date.now();
  return () => {
    if (Date.now() - turn <= YIELD_EVERY_MS) return undefined;
    turn = Date.now();
    return new Promise((resolve) => setImmediate(resolve));
  };
}

/**
 * Emits `data` from `pieces` in new order: each match as an approximate copy of `old` (which holds the old file
 * from offset `origin`), each filtered region through `onRegion`, and the bytes between them literally.
 */
async function emitPieces(
  w: OpsWriter,
  pieces: Iterable<Piece>,
  old: Uint8Array,
  origin: number,
  data: Uint8Array,
  onRegion: (region: FilterRegion) => Promise<void>,
): Promise<void> {
  const pause = yielder();
  let pos = 0;
  for (const piece of pieces) {
    const wait = pause();
    if (wait) await wait;
    if ('region' in piece) {
      w.insert(data.subarray(pos, piece.region.newStart));
      await onRegion(piece.region);
      pos = piece.region.newEnd;
      continue;
    }
    if (piece.newStart < pos || piece.length <= 0) continue;
    w.insert(data.subarray(pos, piece.newStart));
    const bytes = data.subarray(piece.newStart, piece.newStart + piece.length);
    w.approximate(old, origin + piece.oldStart, bytes, origin);
    pos = piece.newStart + piece.length;
  }
  w.insert(data.subarray(pos));
}

/**
 * Emits `data` against `oldData` (which starts at `oldOffset` in the old file); bytes between matches are
 * literal. Tables found by filter-regions.ts are emitted as filtered regions.
 */
function emitMatched(
  w: OpsWriter,
  oldOffset: number,
  oldData: Uint8Array,
  data: Uint8Array,
  matcher: Matcher,
): Promise<void> {
  const pieces = withRegions(matcher(oldData, data), findFilterRegions(oldData, data));
  return emitPieces(w, pieces, oldData, oldOffset, data, (region) =>
    emitFiltered(w, oldOffset, oldData, data, region, matcher),
  );
}

/** Emits one filtered region: both sides filtered, then matched like any file. */
async function emitFiltered(
  w: OpsWriter,
  oldOffset: number,
  oldData: Uint8Array,
  data: Uint8Array,
  region: FilterRegion,
  matcher: Matcher,
): Promise<void> {
  const old = filterRegion(oldData.subarray(region.oldStart, region.oldEnd), region.filter);
  const neu = filterRegion(data.subarray(region.newStart, region.newEnd), region.filter);
  const origin = oldOffset + region.oldStart;
  w.beginFilter(region.filter, neu.length, origin, old.length);
  // A matcher yields only matches: a region inside a region cannot come.
  await emitPieces(w, matcher(old, neu), old, origin, neu, () => {
    throw new NotsotufError('PATCH_INVALID', 'Internal error: a filtered region inside another.');
  });
  w.endFilter();
}

/** Creates a notsotuf patch from `oldPath` to `newPath` with the given matcher. */
export async function createNotsotufPatch(
  options: CreatePatchOptions,
  matcher: Matcher,
): Promise<{ size: number }> {
  const { signal } = options;
  const [old, neu] = await Promise.all([readFile(options.oldPath), readFile(options.newPath)]);
  const abortCheck = () => {
    if (signal?.aborted)
      throw new NotsotufError('ABORTED', 'Creating the patch was aborted.', { cause: signal.reason });
  };
  const lzma = await loadLzmaNative();
  // Streams compress while the plan is made (liblzma on its own thread), each with the brotli quality that
  // suits it when it is small or liblzma is missing: 11 for ops, runs and extra, 9 for the diff bytes.
  const compressors = {
    ops: new StreamCompressor(lzma, 11),
    // Diff runs and bytes have no alignment, so no position context (pb 0); the runs' varints are best
    // predicted by the whole previous byte (lc 4). Measured on the 183 MB pair: −17 KB and −12 KB.
    diffRuns: new StreamCompressor(lzma, 11, { lc: 4, pb: 0 }),
    diffBytes: new StreamCompressor(lzma, 9, { lc: 3, pb: 0 }),
    extra: new StreamCompressor(lzma, 11),
  };
  const all = Object.values(compressors);
  const w = new OpsWriter({
    ops: compressors.ops.push,
    diffRuns: compressors.diffRuns.push,
    diffBytes: compressors.diffBytes.push,
    extra: compressors.extra.push,
  });
  let streams: Compressed[];
  let usePlain: boolean;
  try {
    const oldMembers = indexTar(old);
    const newMembers = indexTar(neu);
    const progress = (done: number) => {
      abortCheck();
      options.onProgress?.({ done, total: neu.length });
    };
    if (oldMembers && newMembers) await planTar(w, old, neu, oldMembers, newMembers, matcher, progress);
    else await emitMatched(w, 0, old, neu, matcher);
    w.finish();
    abortCheck();
    if (w.written !== neu.length) {
      throw new NotsotufError(
        'PATCH_INVALID',
        `Internal error: the patch plan covers ${w.written} of ${neu.length} bytes.`,
      );
    }
    // The plain form is for bzip2's block sorting (LZMA on large plain diffs is slow and never won); a small one
    // tries every coder, like any small stream.
    const plainBytes = w.diffPlain?.view();
    let plain: Promise<Compressed> | undefined;
    if (plainBytes && plainBytes.length <= SMALL_STREAM) {
      const c = new StreamCompressor(lzma, 9);
      c.push(plainBytes);
      plain = c.finish();
    } else if (plainBytes) plain = Promise.resolve({ data: bzip2Compress(plainBytes), method: METHOD_BZIP2 });
    const [ops, runs, bytes, extra] = await Promise.all(all.map((c) => c.finish()));
    const plainResult = await plain;
    abortCheck();
    // The plain diff form when it is smaller (see format.ts); its runs stream is then empty.
    usePlain = plainResult !== undefined && plainResult.data.length < runs!.data.length + bytes!.data.length;
    streams = usePlain
      ? [ops!, { data: new Uint8Array(0), method: METHOD_BROTLI }, plainResult!, extra!]
      : [ops!, runs!, bytes!, extra!];
  } catch (err) {
    for (const c of all) c.destroy();
    throw err;
  }
  const header = encodeHeader({
    diffForm: usePlain ? DIFF_PLAIN : DIFF_RUNS,
    oldSize: old.length,
    newSize: neu.length,
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
  options.onProgress?.({ done: neu.length, total: neu.length });
  return { size };
}
