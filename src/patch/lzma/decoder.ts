/**
 * A streaming LZMA decoder in pure TypeScript (the `.lzma` format of liblzma and `xz --format=lzma`), written from
 * the LZMA specification so clients need no native code. Memory: the dictionary window, at most the smaller of
 * the declared dictionary and the declared size, plus 30 KiB of probabilities and a small input window; the caller
 * also caps the dictionary. Output is yielded as views into the window, each valid until the next chunk is asked
 * for (the consumer copies what it keeps).
 */
import { ALONE_HEADER_SIZE, type LzmaProperties, lzmaInvalid, parseAloneHeader } from './format.js';
import { PROB_INIT, RangeDecoder } from './range-decoder.js';

export interface LzmaDecodeOptions {
  /** Largest dictionary accepted (PATCH_INVALID above): bounds the memory a hostile stream can demand. */
  readonly maxDictSize: number;
  /** Largest declared or actual output accepted. */
  readonly maxOutputLength: number;
}

const STATES = 12;
const POS_STATES_MAX = 16;
const LEN_LOW_BITS = 3;
const LEN_MID_BITS = 3;
const LEN_HIGH_BITS = 8;
const END_POS_MODEL_INDEX = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const MATCH_MIN_LEN = 2;
/** Input bytes one packet can consume at most (about 60 bits, each normalising at most once), with room to spare. */
const INPUT_MARGIN = 128;
const INPUT_WINDOW = 1 << 16;
const OUTPUT_CHUNK = 1 << 16;

/** The length coder: 2..273 as a choice of 8 low, 8 mid or 256 high lengths, per position state. */
class LengthDecoder {
  // choice, choice2, low[16][8], mid[16][8], high[256] as one array of bit-tree probabilities.
  private readonly probs = new Uint16Array(2 + POS_STATES_MAX * 16 + 256 * 2).fill(PROB_INIT);

  decode(rc: RangeDecoder, posState: number): number {
    const p = this.probs;
    if (rc.bit(p, 0) === 0) return rc.tree(p, 2 + posState * 8 - 1, LEN_LOW_BITS);
    if (rc.bit(p, 1) === 0) return 8 + rc.tree(p, 2 + POS_STATES_MAX * 8 + posState * 8 - 1, LEN_MID_BITS);
    return 16 + rc.tree(p, 2 + POS_STATES_MAX * 16 - 1, LEN_HIGH_BITS);
  }
}

/**
 * Copies `n` bytes from `distance` back to `at` in the circular window `w` (`at + n` within the window). A match
 * may overlap its own output (distance < n repeats a pattern), so only a source clear of the output, not wrapping,
 * is copied in one call; the rest byte by byte, as the format defines it.
 */
function copyMatch(w: Uint8Array, at: number, distance: number, n: number): void {
  let src = at - distance;
  if (src < 0) src += w.length;
  if (n >= 16 && distance >= n && src + n <= w.length) {
    w.copyWithin(at, src, src + n);
    return;
  }
  for (let i = 0; i < n; i++) {
    w[at + i] = w[src++]!;
    if (src === w.length) src = 0;
  }
}

/** The decoder's model and window; `run` decodes until the window has a chunk to hand out. */
class LzmaState {
  readonly rc = new RangeDecoder();
  private readonly window: Uint8Array;
  private wpos = 0;
  /** Bytes output so far. */
  total = 0;
  private chunkStart = 0;
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /** Bytes of the current match still to copy after the window wrapped. */
  private pendingLen = 0;
  /** Set once the end marker was read. */
  sawEndMarker = false;
  private readonly isMatch = new Uint16Array(STATES * POS_STATES_MAX).fill(PROB_INIT);
  private readonly isRep = new Uint16Array(STATES).fill(PROB_INIT);
  private readonly isRepG0 = new Uint16Array(STATES).fill(PROB_INIT);
  private readonly isRepG1 = new Uint16Array(STATES).fill(PROB_INIT);
  private readonly isRepG2 = new Uint16Array(STATES).fill(PROB_INIT);
  private readonly isRep0Long = new Uint16Array(STATES * POS_STATES_MAX).fill(PROB_INIT);
  private readonly posSlot = new Uint16Array(4 * 64).fill(PROB_INIT);
  private readonly posDecoders = new Uint16Array(1 + FULL_DISTANCES - END_POS_MODEL_INDEX).fill(PROB_INIT);
  private readonly align = new Uint16Array(1 << ALIGN_BITS).fill(PROB_INIT);
  private readonly literal: Uint16Array;
  private readonly lenDecoder = new LengthDecoder();
  private readonly repLenDecoder = new LengthDecoder();
  private readonly posMask: number;
  private readonly lpMask: number;

  constructor(
    readonly props: LzmaProperties,
    windowSize: number,
    private readonly limit: number,
  ) {
    this.window = new Uint8Array(Math.max(1, windowSize));
    this.literal = new Uint16Array(0x300 << (props.lc + props.lp)).fill(PROB_INIT);
    this.posMask = (1 << props.pb) - 1;
    this.lpMask = (1 << props.lp) - 1;
  }

  /** Copies the pending match bytes; stops early (pendingLen > 0) when the window end is reached. */
  private copyPending(): void {
    const w = this.window;
    const wpos = this.wpos;
    const n = Math.min(this.pendingLen, w.length - wpos);
    copyMatch(w, wpos, this.rep0 + 1, n);
    this.wpos = wpos + n;
    this.total += n;
    this.pendingLen -= n;
  }

  private decodeDistance(len: number): number {
    const { rc } = this;
    const lenState = Math.min(len, 3);
    const slot = rc.tree(this.posSlot, lenState * 64, 6);
    if (slot < 4) return slot;
    const directBits = (slot >>> 1) - 1;
    // A shift, not `2 **`: Math.pow here was an eighth of decoding an incompressible stream. directBits ≤ 30.
    let dist = (2 | (slot & 1)) * (1 << directBits);
    if (slot < END_POS_MODEL_INDEX) return dist + rc.reverseTree(this.posDecoders, dist - slot, directBits);
    dist += rc.direct(directBits - ALIGN_BITS) * (1 << ALIGN_BITS);
    return dist + rc.reverseTree(this.align, 0, ALIGN_BITS);
  }

  /**
   * Decodes packets until a chunk is ready (window end, chunk size, or the declared size), the input runs low
   * (returns false: refill and call again), or the stream ends. Returns true when a chunk or the end is reached.
   * The window position, state and distances live in locals for the loop (stored back on every exit): as fields
   * they were read and written per packet (turbo's literal-heavy extra stream decoded 11 % faster this way).
   */
  run(): boolean {
    const { rc, props } = this;
    const w = this.window;
    if (this.pendingLen > 0) this.copyPending();
    const stop = Math.min(w.length, this.chunkStart + OUTPUT_CHUNK);
    // The declared size ends the loop; without one, only the end marker does (-1 is never reached).
    const end = props.size ?? -1;
    const limit = props.size ?? this.limit;
    const { isMatch, isRep, isRepG0, isRepG1, isRepG2, isRep0Long, literal, posMask, lpMask } = this;
    const lc = props.lc;
    let wpos = this.wpos;
    let total = this.total;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    let ready = true;
    while (wpos < stop && total !== end) {
      if (!rc.ended && rc.buf.length - rc.pos < INPUT_MARGIN) {
        ready = false;
        break;
      }
      const posState = total & posMask;
      if (rc.bit(isMatch, (state << 4) + posState) === 0) {
        const prev = total > 0 ? w[wpos > 0 ? wpos - 1 : w.length - 1]! : 0;
        const base = 0x300 * (((total & lpMask) << lc) + (prev >>> (8 - lc)));
        let matchByte = -1;
        if (state >= 7) {
          const at = wpos - rep0 - 1;
          matchByte = w[at < 0 ? at + w.length : at]!;
        }
        w[wpos++] = rc.literal(literal, base, matchByte);
        total++;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (rc.bit(isRep, state) === 0) {
        len = this.lenDecoder.decode(rc, posState);
        state = state < 7 ? 7 : 10;
        const dist = this.decodeDistance(len);
        if (dist === 0xffffffff) {
          this.sawEndMarker = true;
          break;
        }
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        rep0 = dist;
      } else {
        if (total === 0) throw lzmaInvalid('a repeated match before any data');
        if (rc.bit(isRepG0, state) === 0) {
          if (rc.bit(isRep0Long, (state << 4) + posState) === 0) {
            state = state < 7 ? 9 : 11;
            const at = wpos - rep0 - 1;
            w[wpos++] = w[at < 0 ? at + w.length : at]!;
            total++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(isRepG1, state) === 0) dist = rep1;
          else {
            if (rc.bit(isRepG2, state) === 0) dist = rep2;
            else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        len = this.repLenDecoder.decode(rc, posState);
        state = state < 7 ? 8 : 11;
      }
      if (rep0 >= total || rep0 >= w.length) {
        throw lzmaInvalid('a match reaches before the start of the data or the dictionary');
      }
      const length = len + MATCH_MIN_LEN;
      if (total + length > limit) throw lzmaInvalid('a match reaches past the declared size');
      // The part that fits before the window's end now; the rest waits in pendingLen until it wraps.
      const n = Math.min(length, w.length - wpos);
      copyMatch(w, wpos, rep0 + 1, n);
      wpos += n;
      total += n;
      if (n < length) {
        this.pendingLen = length - n;
        break;
      }
    }
    this.wpos = wpos;
    this.total = total;
    this.state = state;
    this.rep0 = rep0;
    this.rep1 = rep1;
    this.rep2 = rep2;
    this.rep3 = rep3;
    return ready;
  }

  /** Decodes one packet that must be the end marker (a match at distance 2^32 - 1). */
  expectEndMarker(): void {
    const { rc } = this;
    const posState = this.total & this.posMask;
    const s = this.state;
    if (rc.bit(this.isMatch, (s << 4) + posState) === 0 || rc.bit(this.isRep, s) !== 0) {
      throw lzmaInvalid('data after the end of the stream');
    }
    const len = this.lenDecoder.decode(rc, posState);
    if (this.decodeDistance(len) !== 0xffffffff) throw lzmaInvalid('data after the end of the stream');
    this.sawEndMarker = true;
  }

  atEnd(): boolean {
    return this.sawEndMarker || (this.props.size !== undefined && this.total === this.props.size);
  }

  /** The bytes decoded since the last chunk, then wraps the window when full. */
  takeChunk(): Uint8Array {
    const chunk = this.window.subarray(this.chunkStart, this.wpos);
    if (this.wpos === this.window.length) this.wpos = 0;
    this.chunkStart = this.wpos;
    return chunk;
  }
}

/** Moves unread input to the front of the input window (reused, so no garbage per refill) and tops it up. */
async function refill(rc: RangeDecoder, source: AsyncIterator<Uint8Array>, pending: { rest: Uint8Array }) {
  const leftLength = rc.buf.length - rc.pos;
  let buf: Uint8Array;
  if (rc.buf.byteOffset === 0 && rc.buf.buffer.byteLength >= INPUT_WINDOW) {
    // rc.buf is a prefix view of our own window: move the unread bytes to its front.
    buf = new Uint8Array(rc.buf.buffer, 0, INPUT_WINDOW);
    buf.copyWithin(0, rc.pos, rc.buf.length);
  } else {
    buf = new Uint8Array(INPUT_WINDOW);
    buf.set(rc.buf.subarray(rc.pos));
  }
  let used = leftLength;
  while (used < buf.length && !rc.ended) {
    if (pending.rest.length === 0) {
      const r = await source.next();
      if (r.done) {
        rc.ended = true;
        break;
      }
      pending.rest = r.value;
      continue;
    }
    const n = Math.min(pending.rest.length, buf.length - used);
    buf.set(pending.rest.subarray(0, n), used);
    pending.rest = pending.rest.subarray(n);
    used += n;
  }
  rc.buf = buf.subarray(0, used);
  rc.pos = 0;
}

/**
 * Decompresses a `.lzma` stream from chunks, yielding output chunks (views into the dictionary window, valid
 * until the next one is requested). Throws PATCH_INVALID on any malformed, truncated or over-limit input, and on
 * bytes after the end of the stream.
 */
export async function* lzmaDecompressStream(
  source: AsyncIterable<Uint8Array>,
  options: LzmaDecodeOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const pending = { rest: new Uint8Array(0) };
  try {
    const decoder = await start(iterator, pending, options);
    const { rc } = decoder;
    for (;;) {
      const ready = decoder.run();
      if (!ready) {
        await refill(rc, iterator, pending);
        continue;
      }
      const chunk = decoder.takeChunk();
      if (chunk.length > 0) {
        if (decoder.total > options.maxOutputLength) throw lzmaInvalid('the output is longer than allowed');
        yield chunk;
      }
      if (decoder.atEnd()) break;
    }
    // An end marker before the declared size is corrupt data (liblzma agrees), not a shorter valid stream.
    if (decoder.props.size !== undefined && decoder.total !== decoder.props.size) {
      throw lzmaInvalid(`the stream ends after ${decoder.total} of its declared ${decoder.props.size} bytes`);
    }
    await finish(decoder, iterator, pending);
  } finally {
    await iterator.return?.();
  }
}

async function start(
  iterator: AsyncIterator<Uint8Array>,
  pending: { rest: Uint8Array },
  options: LzmaDecodeOptions,
): Promise<LzmaState> {
  const probe = new RangeDecoder();
  await refill(probe, iterator, pending);
  if (probe.buf.length < ALONE_HEADER_SIZE) throw lzmaInvalid('the header is truncated');
  const props = parseAloneHeader(probe.buf, options.maxOutputLength);
  if (props.dictSize > options.maxDictSize) {
    throw lzmaInvalid(`its dictionary of ${props.dictSize} bytes is above the limit ${options.maxDictSize}`);
  }
  // The window never needs to be larger than the data, nor than 4 KiB less than liblzma's smallest dictionary.
  const windowSize = Math.max(4096, Math.min(props.dictSize, props.size ?? props.dictSize));
  const decoder = new LzmaState(props, windowSize, options.maxOutputLength);
  decoder.rc.buf = probe.buf;
  decoder.rc.pos = ALONE_HEADER_SIZE;
  decoder.rc.ended = probe.ended;
  if (decoder.rc.buf.length - decoder.rc.pos < INPUT_MARGIN && !decoder.rc.ended) {
    await refill(decoder.rc, iterator, pending);
  }
  decoder.rc.init();
  return decoder;
}

/**
 * After the declared size: an end marker may follow (liblzma writes one when it did not know the size). Then the
 * range coder must have flushed to 0 and no input may remain.
 */
async function finish(
  decoder: LzmaState,
  iterator: AsyncIterator<Uint8Array>,
  pending: { rest: Uint8Array },
): Promise<void> {
  const { rc } = decoder;
  if (!rc.ended) await refill(rc, iterator, pending);
  // Not yet at the input's end: only an end marker may be left.
  if (!decoder.sawEndMarker && rc.pos < rc.buf.length) decoder.expectEndMarker();
  if (!rc.finishedCleanly()) throw lzmaInvalid('the stream does not end cleanly');
  if (rc.pos !== rc.buf.length || !rc.ended) throw lzmaInvalid('data after the end of the stream');
}
