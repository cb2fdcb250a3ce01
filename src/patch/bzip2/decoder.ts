/**
 * The bzip2 decompressor (client side, pure TypeScript): stream and block framing, the final run-length stage and
 * both CRCs. Memory is bounded by the block size, whatever the input: one window of compressed bytes (enough for
 * the largest valid block), the 3.6 MB link table of a 900k block, and one output chunk.
 *
 * The core is a synchronous generator that yields output chunks, or NEED_INPUT before each block and stream
 * header; the async and sync front ends answer NEED_INPUT by filling the window. Concatenated streams (as
 * `bzip2` writes for concatenated inputs, and Python's bz2.decompress accepts) decode as one output.
 */
import { BitWindow } from './bit-window.js';
import { CRC_INIT, TABLE as CRC_TABLE, combineStreamCrc, crcFinal, crcUpdateRun } from './crc32.js';
import { BlockDecoder } from './decode-block.js';
import {
  BLOCK_MAGIC_HI,
  BLOCK_MAGIC_LO,
  BLOCK_UNIT,
  bzip2Invalid,
  EOS_MAGIC_HI,
  EOS_MAGIC_LO,
  MAX_BLOCK_BYTES,
  STREAM_MAGIC,
} from './format.js';

export interface Bzip2DecodeOptions {
  /** Fail (PATCH_INVALID) once the output would exceed this many bytes. Default: unlimited. */
  readonly maxOutputLength?: number;
  /** Size of the yielded output chunks. Default 64 KiB. */
  readonly chunkSize?: number;
  /**
   * Reuse two output buffers instead of allocating each chunk, for consumers that are done with a chunk before
   * they ask for the next one (a yielded chunk is then overwritten two chunks later). Cuts garbage, and so peak
   * memory, when streaming large outputs. Default false.
   */
  readonly reuseBuffers?: boolean;
}

const NEED_INPUT = Symbol('need input');
type CoreEvent = Uint8Array | typeof NEED_INPUT;

const DEFAULT_CHUNK = 64 * 1024;

function* decodeCore(win: BitWindow, options: Bzip2DecodeOptions): Generator<CoreEvent, void, undefined> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  const buffers = options.reuseBuffers ? [new Uint8Array(chunkSize), new Uint8Array(chunkSize)] : null;
  let decoder: BlockDecoder | null = null;
  for (let streams = 0; ; streams++) {
    yield NEED_INPUT;
    if (streams > 0 && win.ended && win.remainingBytes() === 0) return;
    if (
      win.byteAt(0) !== STREAM_MAGIC[0] ||
      win.byteAt(1) !== STREAM_MAGIC[1] ||
      win.byteAt(2) !== STREAM_MAGIC[2]
    ) {
      throw streams === 0
        ? bzip2Invalid('missing BZh signature')
        : bzip2Invalid('unexpected data after the end of the stream');
    }
    const level = win.byteAt(3) - 0x30;
    if (win.byteAt(3) < 0 || level < 1 || level > 9) throw bzip2Invalid('bad block size digit');
    win.advance(32);
    const blockMax = level * BLOCK_UNIT;
    // Reuse the 3.6 MB table across concatenated streams when it is large enough.
    if (decoder === null || decoder.blockMax !== blockMax) decoder = new BlockDecoder(blockMax);

    let streamCrc = 0;
    for (;;) {
      yield NEED_INPUT;
      const hi = win.bits(24);
      const lo = win.bits(24);
      const storedCrc = win.bits(16) * 0x10000 + win.bits(16);
      if (hi === EOS_MAGIC_HI && lo === EOS_MAGIC_LO) {
        if (storedCrc !== streamCrc) throw bzip2Invalid('stream CRC mismatch');
        win.alignToByte();
        break;
      }
      if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO) throw bzip2Invalid('bad block header magic');
      const block = decoder.read(win);
      const crc = yield* blockOutput(decoder.tt, block.start, block.length, chunkSize, buffers);
      if (crc !== storedCrc) throw bzip2Invalid('block CRC mismatch', { expected: storedCrc, actual: crc });
      streamCrc = combineStreamCrc(streamCrc, crc);
    }
  }
}

/**
 * Walks the inverse BWT and undoes stage-1 run-length coding (after 4 equal bytes, the next byte is a repeat
 * count), yielding full chunks. Returns the block CRC. The output of one block is at most 51 times its length
 * (a count of 255 per 5 bytes), and it is streamed, never held.
 */
function* blockOutput(
  tt: Uint32Array,
  start: number,
  length: number,
  chunkSize: number,
  buffers: Uint8Array[] | null,
): Generator<Uint8Array, number, undefined> {
  const walk = new Unrle(tt, start, length);
  for (let i = 0; ; i++) {
    const out = buffers === null ? new Uint8Array(chunkSize) : buffers[i & 1]!;
    const n = walk.fill(out);
    if (n === 0) return crcFinal(walk.crc);
    yield n === chunkSize ? out : out.subarray(0, n);
  }
}

/**
 * The output walk as a resumable state machine (a plain loop optimises better than one inside a generator). The
 * block CRC is computed in the same loop: the walk is a chain of dependent, cache-missing loads from `tt`, and the
 * CRC's table lookups overlap with them instead of costing a second pass over the output.
 */
class Unrle {
  /** Running (not finalised) CRC of the bytes written so far. */
  crc = CRC_INIT;
  private prev = -1;
  private same = 0;
  /** Repeats of `prev` still owed from a count byte that did not fit in the last chunk. */
  private owed = 0;

  constructor(
    private readonly tt: Uint32Array,
    private pos: number,
    private left: number,
  ) {}

  /** Fills `out` as far as the block allows; returns the bytes written (0 once the block is done). */
  fill(out: Uint8Array): number {
    const tt = this.tt;
    const size = out.length;
    let o = 0;
    let { pos, left, prev, same, owed } = this;
    // Kept as a signed 32-bit value in the loop (a small integer for V8, never a heap number).
    let crc = this.crc | 0;
    for (;;) {
      if (owed > 0) {
        const n = Math.min(owed, size - o);
        out.fill(prev, o, o + n);
        crc = crcUpdateRun(crc, prev, n) | 0;
        o += n;
        owed -= n;
        if (owed > 0) break;
        prev = -1;
      }
      if (left === 0 || o === size) break;
      const e = tt[pos]!;
      const b = e & 0xff;
      pos = e >>> 8;
      left--;
      if (same === 4) {
        // b is a repeat count for prev; the run state restarts after it.
        owed = b;
        same = 0;
        if (b === 0) prev = -1;
        continue;
      }
      if (b === prev) same++;
      else {
        prev = b;
        same = 1;
      }
      out[o++] = b;
      crc = (crc << 8) ^ CRC_TABLE[(crc >>> 24) ^ b]!;
    }
    this.crc = crc >>> 0;
    this.pos = pos;
    this.left = left;
    this.prev = prev;
    this.same = same;
    this.owed = owed;
    return o;
  }
}

/**
 * Decompresses a stream of compressed chunks, yielding decompressed chunks (fresh arrays the caller may keep).
 * Throws NotsotufError PATCH_INVALID on any malformed, truncated or CRC-failing input, or on trailing data that is
 * not another bzip2 stream.
 */
export async function* bzip2DecompressStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: Bzip2DecodeOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const iterator =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const win = new BitWindow(MAX_BLOCK_BYTES);
  let pending: Uint8Array | null = null;
  const limit = options.maxOutputLength ?? Number.POSITIVE_INFINITY;
  let total = 0;
  const core = decodeCore(win, options);
  try {
    for (let ev = core.next(); !ev.done; ev = core.next()) {
      if (ev.value !== NEED_INPUT) {
        total += ev.value.length;
        if (total > limit) throw bzip2Invalid('the output is longer than allowed', { limit });
        yield ev.value;
        continue;
      }
      // Top the window up to the largest block size, taking only part of a big chunk when needed.
      win.compact();
      while (!win.ended && win.freeBytes() > 0) {
        if (pending === null || pending.length === 0) {
          const r = await iterator.next();
          if (r.done) {
            win.ended = true;
            break;
          }
          pending = r.value;
          continue;
        }
        const take = Math.min(pending.length, win.freeBytes());
        win.append(pending.subarray(0, take));
        pending = pending.subarray(take);
      }
    }
  } finally {
    await iterator.return?.();
  }
}

/**
 * Decompresses a whole in-memory bzip2 input (one or more concatenated streams). Throws NotsotufError
 * PATCH_INVALID on malformed input or when the output would exceed `maxOutputLength`.
 */
export function bzip2Decompress(data: Uint8Array, options: Bzip2DecodeOptions = {}): Uint8Array {
  const win = new BitWindow(data.length);
  win.append(data);
  win.ended = true;
  const limit = options.maxOutputLength ?? Number.POSITIVE_INFINITY;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const ev of decodeCore(win, { ...options, reuseBuffers: false })) {
    if (ev === NEED_INPUT) continue;
    total += ev.length;
    if (total > limit) throw bzip2Invalid('the output is longer than allowed', { limit });
    parts.push(ev);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
