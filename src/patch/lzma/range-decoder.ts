import { lzmaInvalid } from './format.js';

/** Probabilities are 11-bit; each update moves them 1/32 of the way. */
const BIT_MODEL_TOTAL = 1 << 11;
const MOVE_BITS = 5;
const TOP = 2 ** 24;
export const PROB_INIT = BIT_MODEL_TOTAL >>> 1;

/**
 * LZMA's binary range decoder over an input window that the streaming front end refills. `range` and `code` are
 * uint32 values kept as plain numbers (never above 2^32), so no bit operation turns them negative.
 */
export class RangeDecoder {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  /** True once the source has no more bytes: then running out of input is a truncated stream. */
  ended = false;
  private range = 0xffffffff;
  private code = 0;

  private next(): number {
    if (this.pos >= this.buf.length) throw lzmaInvalid('the stream is truncated');
    return this.buf[this.pos++]!;
  }

  /** Reads the 5 initial bytes: a zero, then the first 32 bits of the code. */
  init(): void {
    if (this.next() !== 0) throw lzmaInvalid('the first byte of the range coder is not 0');
    this.code = 0;
    for (let i = 0; i < 4; i++) this.code = this.code * 256 + this.next();
    this.range = 0xffffffff;
    if (this.code === this.range) throw lzmaInvalid('corrupt range coder start');
  }

  /** True when the encoder's flush left the code at 0, as a complete stream does. */
  finishedCleanly(): boolean {
    return this.code === 0;
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((BIT_MODEL_TOTAL - p) >>> MOVE_BITS);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> MOVE_BITS);
      bit = 1;
    }
    if (this.range < TOP) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
    return bit;
  }

  /** `count` bits with fixed probability 1/2, most significant first (count ≤ 26). */
  direct(count: number): number {
    let result = 0;
    for (let i = 0; i < count; i++) {
      this.range = Math.floor(this.range / 2);
      let bit = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        bit = 1;
      }
      if (this.code === this.range) throw lzmaInvalid('corrupt direct bits');
      result = result * 2 + bit;
      if (this.range < TOP) {
        this.range *= 256;
        this.code = this.code * 256 + this.next();
      }
    }
    return result;
  }

  /** A `bits`-bit symbol from a bit tree whose probabilities start at `base` (index 1 is the root). */
  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  /** The same, least significant bit first (distance low bits and the align bits). */
  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let symbol = 0;
    for (let i = 0; i < bits; i++) {
      const bit = this.bit(probs, base + m);
      m = (m << 1) | bit;
      symbol |= bit << i;
    }
    return symbol;
  }
}
