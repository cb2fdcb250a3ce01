import type { FileHandle } from 'node:fs/promises';
import { copyBytes } from './copy-bytes.js';

/**
 * Size of the pieces output is written in: 64 KiB applied as fast here as 256 KiB and 1 MiB, and its two buffers
 * hold 384 KiB less than 256 KiB ones.
 */
const PIECE = 1 << 16;

/**
 * Collects output into pieces and writes each out whole, from two reused buffers: one fills while the other is
 * being written (the write is on libuv's thread, so apply does not sit idle for it). Memory stays flat for any size.
 */
export class PieceWriter {
  private readonly buffers = [Buffer.allocUnsafe(PIECE), Buffer.allocUnsafe(PIECE)];
  private buf = this.buffers[0]!;
  private used = 0;
  /** The write of the other buffer, if one is under way. */
  private writing: Promise<void> | undefined;

  constructor(
    private readonly out: FileHandle,
    /** Sees every byte once, in order, before it is written (ApplyPatchOptions.onOutput). */
    private readonly onOutput?: (bytes: Uint8Array) => void | Promise<void>,
  ) {}

  /** Buffers `bytes` when they fit without a flush and returns true; otherwise does nothing (then call `push`). */
  pushSync(bytes: Uint8Array, length = bytes.length): boolean {
    if (this.used + length >= PIECE) return false;
    copyBytes(bytes, 0, this.buf, this.used, length);
    this.used += length;
    return true;
  }

  async push(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, PIECE - this.used);
      this.buf.set(bytes.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
      if (this.used === PIECE) await this.flush();
    }
  }

  /** Starts writing the buffered piece, once the piece before it is written, and goes on in the other buffer. */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const piece = this.buf.subarray(0, this.used);
    if (this.onOutput) await this.onOutput(piece);
    await this.settled();
    const writing = this.writeAll(piece);
    writing.catch(() => undefined); // awaited by the next flush or finish; an abandoned apply must not crash
    this.writing = writing;
    this.buf = this.buf === this.buffers[0] ? this.buffers[1]! : this.buffers[0]!;
    this.used = 0;
  }

  private async writeAll(piece: Buffer): Promise<void> {
    let done = 0;
    while (done < piece.length) {
      const { bytesWritten } = await this.out.write(piece, done, piece.length - done);
      done += bytesWritten;
    }
  }

  /** Waits for the write under way, if any (rethrowing its error). */
  private async settled(): Promise<void> {
    const writing = this.writing;
    this.writing = undefined;
    await writing;
  }

  /** Writes what is left and waits until every byte is written. */
  async finish(): Promise<void> {
    await this.flush();
    await this.settled();
  }

  /** Waits for a write under way to end, ignoring its error (before the file is closed after a failure). */
  async abandon(): Promise<void> {
    await this.writing?.catch(() => undefined);
  }
}
