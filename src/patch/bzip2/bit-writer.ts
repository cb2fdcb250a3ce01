/** MSB-first bit output into a growable byte buffer, as bzip2 packs everything. */
export class BitWriter {
  private buf: Uint8Array;
  private length = 0;
  /** Pending bits not yet forming a whole byte, in the low `pending` bits. */
  private acc = 0;
  private pending = 0;

  constructor(initialCapacity = 1 << 16) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Writes the low `n` bits of `value`, most significant first; `n` ≤ 24 so the accumulator stays in 32 bits. */
  bits(n: number, value: number): void {
    this.acc = (this.acc << n) | value;
    this.pending += n;
    while (this.pending >= 8) {
      this.pending -= 8;
      this.byte((this.acc >>> this.pending) & 0xff);
    }
    this.acc &= (1 << this.pending) - 1;
  }

  bit(value: number): void {
    this.bits(1, value);
  }

  /** A 32-bit value (CRCs), in two halves because `bits` takes at most 24. */
  uint32(value: number): void {
    this.bits(16, value >>> 16);
    this.bits(16, value & 0xffff);
  }

  /** Pads with zero bits to the next byte boundary (end of stream). */
  alignToByte(): void {
    if (this.pending > 0) this.bits(8 - this.pending, 0);
  }

  /** Removes and returns the whole bytes written so far; a partial byte stays pending. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    return out;
  }

  private byte(b: number): void {
    if (this.length === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = b;
  }
}
