import type { ByteReader } from './byte-reader.js';

/**
 * The diff bytes of a patch, decoded from their run-length form (format.ts): pairs (zeros, others) from the runs
 * stream, the other bytes from the bytes stream. Zero runs cost nothing to apply: the old bytes stay as they are.
 */
export class DiffReader {
  private zeros = 0;
  private others = 0;

  /** @param runs the runs stream, or undefined for the plain form (every diff byte in `bytes`) */
  constructor(
    private readonly runs: ByteReader | undefined,
    private readonly bytes: ByteReader,
  ) {}

  /**
   * Adds the next `length` diff bytes onto piece[0…length), bytewise mod 256. Synchronous (undefined) while the
   * streams have the bytes buffered, which is nearly always; a promise when one must be refilled.
   */
  addInto(piece: Uint8Array, length: number): Promise<void> | undefined {
    const i = this.addBuffered(piece, 0, length);
    return i === length ? undefined : this.addRest(piece, i, length);
  }

  /** Adds what is buffered, from `i`; returns where it stopped. */
  private addBuffered(piece: Uint8Array, from: number, length: number): number {
    let i = from;
    while (i < length) {
      if (this.zeros > 0) {
        const n = Math.min(this.zeros, length - i);
        this.zeros -= n;
        i += n;
      } else if (this.others > 0) {
        const n = this.bytes.addIntoSync(piece, i, Math.min(this.others, length - i));
        if (n === 0) break;
        this.others -= n;
        i += n;
      } else if (!this.runs) {
        this.others = length - i;
      } else {
        const zeros = this.runs.varintSync();
        if (zeros < 0) break;
        const others = this.runs.varintSync();
        if (others < 0) {
          this.zeros = zeros; // the pair is split by a refill: finish it on the slow path
          this.others = -1;
          break;
        }
        this.zeros = zeros;
        this.others = others;
      }
    }
    return i;
  }

  private async addRest(piece: Uint8Array, from: number, length: number): Promise<void> {
    let i = from;
    while (i < length) {
      if (this.others === -1) this.others = await this.runs!.varint();
      else if (this.zeros === 0 && this.others === 0 && this.runs) {
        // A pair of zeros is read again at once; the runs stream is finite, so a hostile one just ends early.
        this.zeros = await this.runs.varint();
        this.others = await this.runs.varint();
      } else if (this.zeros === 0 && this.others > 0) {
        const d = await this.bytes.take(Math.min(this.others, length - i));
        for (let j = 0; j < d.length; j++) piece[i + j] = (piece[i + j]! + d[j]!) & 0xff;
        this.others -= d.length;
        i += d.length;
      }
      i = this.addBuffered(piece, i, length);
    }
  }

  /** True when every diff byte was used: no run left over, and both streams at their end. */
  async atEnd(): Promise<boolean> {
    return (
      this.zeros === 0 &&
      this.others === 0 &&
      (this.runs === undefined || (await this.runs.atEnd())) &&
      (await this.bytes.atEnd())
    );
  }
}
