import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants } from 'node:zlib';
import { NotsotufError } from '../../core/errors.js';
import { bzip2Compress } from '../bzip2/index.js';
import type { CreatePatchOptions } from '../codec.js';
import { lzmaCompress } from '../lzma/encoder.js';
import {
  DIFF_PLAIN,
  DIFF_RUNS,
  encodeHeader,
  MAX_LZMA_DICT,
  METHOD_BROTLI,
  METHOD_BZIP2,
  METHOD_LZMA,
  type StreamMethod,
} from './format.js';
import { OpsWriter } from './ops-writer.js';
import { indexTar, type TarMember } from './tar-index.js';

const brotli = promisify(brotliCompress);

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
function planTar(
  w: OpsWriter,
  old: Uint8Array,
  neu: Uint8Array,
  oldMembers: TarMember[],
  newMembers: TarMember[],
  matcher: Matcher,
  progress: (done: number) => void,
): void {
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
      emitMatched(w, old, base.dataStart, oldData, data, matcher);
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

/** Emits `data` against `oldData` (which starts at `oldOffset` in the old file); bytes between matches are literal. */
function emitMatched(
  w: OpsWriter,
  old: Uint8Array,
  oldOffset: number,
  oldData: Uint8Array,
  data: Uint8Array,
  matcher: Matcher,
): void {
  let pos = 0;
  for (const m of matcher(oldData, data)) {
    if (m.newStart < pos || m.length <= 0) continue;
    w.insert(data.subarray(pos, m.newStart));
    w.approximate(old, oldOffset + m.oldStart, data.subarray(m.newStart, m.newStart + m.length));
    pos = m.newStart + m.length;
  }
  w.insert(data.subarray(pos));
}

/** Above this size brotli quality 11 (about 1 MB/s) costs minutes for a few percent; quality 10 is ~4× faster. */
const BROTLI_Q11_LIMIT = 4 << 20;
/** Streams up to this size also try brotli and bzip2 when LZMA is available: cheap, and they win on some. */
const SMALL_STREAM = 1 << 20;

interface Compressed {
  readonly data: Uint8Array;
  readonly method: StreamMethod;
}

/**
 * Compresses a stream with each candidate coder and keeps the smallest. LZMA (liblzma) wins on every stream of
 * the benchmark pairs, at a fraction of brotli 11's time (183 MB pair: ops 767 KB vs 748 KB brotli 11, extra
 * 1.46 MB vs 1.48 MB, diff runs and bytes 4.7 MB vs 5.6 MB bzip2); without liblzma, brotli and bzip2 as before.
 */
async function compress(bytes: Uint8Array, brotliQuality: number, tryAll = false): Promise<Compressed> {
  const viaLzma = await lzmaCompress(bytes, { dictSize: MAX_LZMA_DICT });
  const candidates: Compressed[] = viaLzma ? [{ data: viaLzma, method: METHOD_LZMA }] : [];
  if (!viaLzma || tryAll || bytes.length <= SMALL_STREAM) {
    // brotli runs on libuv's thread pool while bzip2 runs here: both at once.
    const quality = bytes.length > BROTLI_Q11_LIMIT ? Math.min(brotliQuality, 10) : brotliQuality;
    const pending = compressBrotli(bytes, quality);
    candidates.push({ data: bzip2Compress(bytes), method: METHOD_BZIP2 });
    candidates.push({ data: await pending, method: METHOD_BROTLI });
  }
  return candidates.reduce((best, c) => (c.data.length < best.data.length ? c : best));
}

async function compressBrotli(bytes: Uint8Array, quality: number): Promise<Buffer> {
  return brotli(bytes, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: quality,
      // 16 MiB window: the most a standard brotli decoder keeps in memory, so apply stays bounded.
      [zlibConstants.BROTLI_PARAM_LGWIN]: 24,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
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
  const w = new OpsWriter();
  const oldMembers = indexTar(old);
  const newMembers = indexTar(neu);
  const progress = (done: number) => {
    abortCheck();
    options.onProgress?.({ done, total: neu.length });
  };
  if (oldMembers && newMembers) planTar(w, old, neu, oldMembers, newMembers, matcher, progress);
  else emitMatched(w, old, 0, old, neu, matcher);
  w.finish();
  abortCheck();
  if (w.written !== neu.length) {
    throw new NotsotufError(
      'PATCH_INVALID',
      `Internal error: the patch plan covers ${w.written} of ${neu.length} bytes.`,
    );
  }
  // All at once: liblzma and brotli run on their own threads.
  const [ops, runs, bytes, extra, plain] = await Promise.all([
    compress(w.ops.view(), 11),
    compress(w.diffRuns.view(), 11),
    compress(w.diffBytes.view(), 9),
    compress(w.extra.view(), 11),
    w.diffPlain ? compress(w.diffPlain.view(), 9, true) : undefined,
  ]);
  abortCheck();
  // The plain diff form when it is smaller (see format.ts); its runs stream is empty.
  const usePlain = plain !== undefined && plain.data.length < runs.data.length + bytes.data.length;
  const streams: Compressed[] = usePlain
    ? [ops, { data: new Uint8Array(0), method: METHOD_BROTLI }, plain, extra]
    : [ops, runs, bytes, extra];
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
