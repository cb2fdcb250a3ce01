import { lzmaInvalid } from './format.js';

/** Probabilities are 11-bit; each update moves them 1/32 of the way. */
const BIT_MODEL_TOTAL = 1 << 11;
const MOVE_BITS = 5;
/** The range is normalised (shifted up a byte) when its top 8 bits are all 0: below 2^24. */
const TOP_SHIFT = 24;

/** `a < b` for uint32 values held as int32. */
function below(a: number, b: number): boolean {
  return (a ^ 0x80000000) < (b ^ 0x80000000);
}
export const PROB_INIT = BIT_MODEL_TOTAL >>> 1;

/**
 * LZMA's binary range decoder over an input window that the streaming front end refills. `range` and `code` are
 * uint32 values held as int32 (`| 0`): small integers to V8, so storing them in fields allocates no number boxes.
 * Unsigned comparisons flip the sign bit of both sides (`below`); a normalised range's top byte is nonzero.
 */
export class RangeDecoder {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  /** True once the source has no more bytes: then running out of input is a truncated stream. */
  ended = false;
  private range = -1;
  private code = 0;

  private next(): number {
    if (this.pos >= this.buf.length) throw lzmaInvalid('the stream is truncated');
    return this.buf[this.pos++]!;
  }

  /** Reads the 5 initial bytes: a zero, then the first 32 bits of the code. */
  init(): void {
    if (this.next() !== 0) throw lzmaInvalid('the first byte of the range coder is not 0');
    this.code = 0;
    for (let i = 0; i < 4; i++) this.code = (this.code << 8) | this.next();
    this.range = -1;
    if (this.code === this.range) throw lzmaInvalid('corrupt range coder start');
  }

  /** True when the encoder's flush left the code at 0, as a complete stream does. */
  finishedCleanly(): boolean {
    return this.code === 0;
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = Math.imul(this.range >>> 11, p);
    let bit: number;
    if (below(this.code, bound)) {
      this.range = bound;
      probs[i] = p + ((BIT_MODEL_TOTAL - p) >>> MOVE_BITS);
      bit = 0;
    } else {
      this.range = (this.range - bound) | 0;
      this.code = (this.code - bound) | 0;
      probs[i] = p - (p >>> MOVE_BITS);
      bit = 1;
    }
    if (this.range >>> TOP_SHIFT === 0) {
      this.range <<= 8;
      this.code = (this.code << 8) | this.next();
    }
    return bit;
  }

  /** `count` bits with fixed probability 1/2, most significant first (count ≤ 26). */
  direct(count: number): number {
    const buf = this.buf;
    let range = this.range;
    let code = this.code;
    let pos = this.pos;
    let result = 0;
    for (let i = 0; i < count; i++) {
      range >>>= 1;
      let bit = 0;
      if (!below(code, range)) {
        code = (code - range) | 0;
        bit = 1;
      }
      if (code === range) throw lzmaInvalid('corrupt direct bits');
      result = (result << 1) | bit;
      if (range >>> TOP_SHIFT === 0) {
        if (pos >= buf.length) throw lzmaInvalid('the stream is truncated');
        range <<= 8;
        code = (code << 8) | buf[pos++]!;
      }
    }
    this.range = range;
    this.code = code;
    this.pos = pos;
    return result;
  }

  /**
   * A literal byte from the 0x300 probabilities at `base`: plain, or, with `matchByte` (0–255; −1 for none), coded
   * against the byte at the last match distance until their first differing bit. The hottest loop of decoding, so
   * the coder's state is kept in locals here instead of going through `bit`. Its own loop, not `walk`'s: one loop
   * for both, with the match test on every tree bit, made turbo's apply 4–5 % slower.
   */
  literal(probs: Uint16Array, base: number, matchByte: number): number {
    const buf = this.buf;
    let range = this.range;
    let code = this.code;
    let pos = this.pos;
    let match = matchByte;
    let symbol = 1;
    while (symbol < 0x100) {
      let i = base + symbol;
      let matchBit = -1;
      if (match >= 0) {
        matchBit = (match >>> 7) & 1;
        match = (match << 1) & 0xff;
        i += (1 + matchBit) << 8;
      }
      const p = probs[i]!;
      const bound = Math.imul(range >>> 11, p);
      let bit = 0;
      if (below(code, bound)) {
        range = bound;
        probs[i] = p + ((BIT_MODEL_TOTAL - p) >>> MOVE_BITS);
      } else {
        range = (range - bound) | 0;
        code = (code - bound) | 0;
        probs[i] = p - (p >>> MOVE_BITS);
        bit = 1;
      }
      if (range >>> TOP_SHIFT === 0) {
        if (pos >= buf.length) throw lzmaInvalid('the stream is truncated');
        range <<= 8;
        code = (code << 8) | buf[pos++]!;
      }
      symbol = (symbol << 1) | bit;
      if (matchBit !== bit) match = -1;
    }
    this.range = range;
    this.code = code;
    this.pos = pos;
    return symbol & 0xff;
  }

  /** A `bits`-bit symbol from a bit tree whose probabilities start at `base` (index 1 is the root). */
  tree(probs: Uint16Array, base: number, bits: number): number {
    return this.walk(probs, base, bits, false);
  }

  /** The same, least significant bit first (distance low bits and the align bits). */
  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    return this.walk(probs, base, bits, true);
  }

  /** A bit-tree walk with the coder's state in locals (as `literal`): most packets take one or two. */
  private walk(probs: Uint16Array, base: number, bits: number, reverse: boolean): number {
    const buf = this.buf;
    let range = this.range;
    let code = this.code;
    let pos = this.pos;
    let m = 1;
    let symbol = 0;
    for (let k = 0; k < bits; k++) {
      const i = base + m;
      const p = probs[i]!;
      const bound = Math.imul(range >>> 11, p);
      let bit = 0;
      if (below(code, bound)) {
        range = bound;
        probs[i] = p + ((BIT_MODEL_TOTAL - p) >>> MOVE_BITS);
      } else {
        range = (range - bound) | 0;
        code = (code - bound) | 0;
        probs[i] = p - (p >>> MOVE_BITS);
        bit = 1;
      }
      if (range >>> TOP_SHIFT === 0) {
        if (pos >= buf.length) throw lzmaInvalid('the stream is truncated');
        range <<= 8;
        code = (code << 8) | buf[pos++]!;
      }
      m = (m << 1) | bit;
      symbol |= bit << k;
    }
    this.range = range;
    this.code = code;
    this.pos = pos;
    return reverse ? symbol : m - (1 << bits);
  }
}
