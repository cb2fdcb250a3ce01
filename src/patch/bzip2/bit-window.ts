/**
 * MSB-first bit input over a sliding window of compressed bytes. The streaming decoder keeps at most
 * MAX_BLOCK_BYTES here: enough for any valid block, so decoding one block never has to wait for input.
 */
import { bzip2Invalid } from './format.js';

/** Zero bytes kept after the valid data, so 4-byte peeks near the end need no bounds checks. */
const SLACK = 4;

export class BitWindow {
  /** The buffered bytes are `buf[0..byteLength)`, followed by at least SLACK zero bytes. */
  buf: Uint8Array;
  byteLength = 0;
  /** Read position, in bits from the start of `buf`. */
  pos = 0;
  /** True once the source has no more bytes: running out of bits then means truncation. */
  ended = false;

  /**
   * @param capacity the most bytes the window ever holds. The buffer starts small and grows towards it, so
   * decoding a small stream (a typical control block) does not cost megabytes.
   */
  constructor(private readonly capacity: number) {
    this.buf = new Uint8Array(Math.min(capacity, 64 * 1024) + SLACK);
  }

  /** Bytes buffered and not yet (fully) consumed. */
  bufferedBytes(): number {
    return this.byteLength - (this.pos >>> 3);
  }

  /** Bytes from the read position, which must be on a byte boundary, to the end of the buffered data. */
  remainingBytes(): number {
    return this.byteLength - Math.ceil(this.pos / 8);
  }

  /** Room left for `append`. */
  freeBytes(): number {
    return this.capacity - this.byteLength;
  }

  /** Drops the consumed bytes so that up to the capacity can be appended again. */
  compact(): void {
    const drop = this.pos >>> 3;
    if (drop === 0) return;
    this.buf.copyWithin(0, drop, this.byteLength);
    this.byteLength -= drop;
    this.pos -= drop * 8;
  }

  /** Adds input bytes; the caller never appends more than `freeBytes()`. */
  append(chunk: Uint8Array): void {
    const need = this.byteLength + chunk.length + SLACK;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.min(Math.max(need, this.buf.length * 2), this.capacity + SLACK));
      grown.set(this.buf.subarray(0, this.byteLength));
      this.buf = grown;
    }
    this.buf.set(chunk, this.byteLength);
    this.byteLength += chunk.length;
    this.buf.fill(0, this.byteLength, this.byteLength + SLACK);
  }

  /** The next `n` (1..24) bits as an unsigned number. */
  bits(n: number): number {
    const p = this.pos;
    const v = (this.word(p) << (p & 7)) >>> (32 - n);
    this.advance(n);
    return v;
  }

  bit(): number {
    const p = this.pos;
    const v = (this.buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
    this.advance(1);
    return v;
  }

  /** The next 32 bits without consuming them, most significant first (at least 25 are real or zero padding). */
  peek32(): number {
    const p = this.pos;
    return (this.word(p) << (p & 7)) >>> 0;
  }

  /** The error for reading past the buffered data (truncated input, or a block larger than any valid one). */
  overrun(): Error {
    return this.ended
      ? bzip2Invalid('the data ends in the middle of a block (truncated)')
      : bzip2Invalid('a block is larger than any valid bzip2 block');
  }

  /** Consumes `n` bits, failing if that goes past the buffered data. */
  advance(n: number): void {
    this.pos += n;
    if (this.pos > this.byteLength * 8) throw this.overrun();
  }

  /** Skips to the next byte boundary (streams end byte-aligned). */
  alignToByte(): void {
    this.pos = (this.pos + 7) & ~7;
  }

  /** The byte at the (byte-aligned) read position plus `offset`, or -1 past the buffered data. */
  byteAt(offset: number): number {
    const i = (this.pos >>> 3) + offset;
    return i < this.byteLength ? this.buf[i]! : -1;
  }

  private word(p: number): number {
    const b = this.buf;
    const i = p >>> 3;
    return (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
  }
}
