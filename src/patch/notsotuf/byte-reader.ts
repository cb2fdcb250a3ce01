import { copyBytes } from './copy-bytes.js';
import { invalidPatch } from './format.js';

/**
 * Pulls bytes from an async chunk source (a decompressing stream) on demand, so a patch is applied with a
 * bounded amount of it in memory. Every read checks that the source has the bytes; running dry is PATCH_INVALID.
 */
export class ByteReader {
  private readonly source: AsyncIterator<Buffer>;
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private ended = false;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly name: string,
  ) {
    this.source = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return false;
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      this.chunk = next.value;
      this.pos = 0;
    }
    return true;
  }

  /** The next byte when it is already buffered, else -1 (then call `byte()`): no promise per byte on the hot path. */
  byteSync(): number {
    return this.pos < this.chunk.length ? this.chunk[this.pos++]! : -1;
  }

  /**
   * A varint when all its bytes are already buffered, else -1 (nothing consumed; then call `varint()`). Values
   * up to 2^49 take this path (7 bytes); larger ones, valid or not, go the checked slow way.
   */
  varintSync(): number {
    const { chunk } = this;
    let value = 0;
    let scale = 1;
    for (let p = this.pos; p < chunk.length && p - this.pos < 7; p++) {
      const b = chunk[p]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        this.pos = p + 1;
        return value;
      }
      scale *= 0x80;
    }
    return -1;
  }

  /**
   * Copies up to `max` buffered bytes to target[at…] and returns how many: 0 when none are buffered (then `take`
   * refills). No view object is made: this runs once per INSERT instruction.
   */
  copyIntoSync(target: Uint8Array, at: number, max: number): number {
    const n = Math.min(max, this.chunk.length - this.pos);
    if (n <= 0) return 0;
    copyBytes(this.chunk, this.pos, target, at, n);
    this.pos += n;
    return n;
  }

  /**
   * Adds (bytewise mod 256) up to `max` buffered bytes onto target[at…] and returns how many: 0 when none are
   * buffered (then `take` refills). No view object is made: this runs once per ADD instruction.
   */
  addIntoSync(target: Uint8Array, at: number, max: number): number {
    const { chunk } = this;
    const n = Math.min(max, chunk.length - this.pos);
    for (let j = 0; j < n; j++) target[at + j] = (target[at + j]! + chunk[this.pos + j]!) & 0xff;
    this.pos += n;
    return n;
  }

  async byte(): Promise<number> {
    if (!(await this.fill())) throw invalidPatch(`the ${this.name} stream ends early`);
    return this.chunk[this.pos++]!;
  }

  /** An unsigned LEB128 varint, at most 2^53 - 1 (7 groups of 7 bits, then at most 4 more bits). */
  async varint(): Promise<number> {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = await this.byte();
      value += (b & 0x7f) * scale;
      if (value > Number.MAX_SAFE_INTEGER) break;
      if ((b & 0x80) === 0) return value;
      scale *= 0x80;
    }
    throw invalidPatch(`a number in the ${this.name} stream is too large`);
  }

  /** Up to `max` bytes (at least one) as a view into the current chunk; the caller copies it before reading more. */
  async take(max: number): Promise<Buffer> {
    if (!(await this.fill())) throw invalidPatch(`the ${this.name} stream ends early`);
    const n = Math.min(max, this.chunk.length - this.pos);
    const out = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Stops the source early (closes its file and decoder) when the patch is abandoned. */
  async close(): Promise<void> {
    this.ended = true;
    await this.source.return?.();
  }

  /** True when the source has no bytes left (a finished stream must be fully consumed, nothing trailing). */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }
}
