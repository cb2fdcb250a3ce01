import type { FileHandle } from 'node:fs/promises';
import { OutputWriter } from '../file-io.js';
import { copyBytes } from './copy-bytes.js';

/**
 * Size of the pieces output is written in: 64 KiB applied as fast here as 256 KiB and 1 MiB, and holds 192 KiB
 * less than a 256 KiB buffer.
 */
const PIECE = 1 << 16;

/**
 * Collects output into one reused buffer and writes each full piece synchronously (writeFullySync says why), so
 * memory stays flat for any size and apply never waits on the thread pool to write.
 */
export class PieceWriter extends OutputWriter {
  constructor(
    out: FileHandle,
    path: string,
    /** Sees every byte once, in order, before it is written (ApplyPatchOptions.onOutput). */
    onOutput?: (bytes: Uint8Array) => void | Promise<void>,
  ) {
    super(out, path, PIECE, onOutput);
  }

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

  /** Writes what is left. */
  async finish(): Promise<void> {
    await this.flush();
  }
}
