import { createHash } from 'node:crypto';
import { readFullySync } from '../file-io.js';
import { patchIoError } from '../patch-errors.js';
import type { OpenInput } from './match-protocol.js';
import type { ByteSource } from './tar-index.js';

/** Bytes hashed per read: large enough for few syscalls, small enough not to matter in memory. */
const HASH_CHUNK = 4 << 20;

/**
 * Positional reads of an open file into one reused buffer: the patch planner holds one changed file of each tar
 * at a time instead of both tars, so memory follows the largest file, not the release. A slice is valid until
 * the next read.
 */
export class FileSlices implements ByteSource {
  private buffer = new Uint8Array(0);

  readonly size: number;

  /** @param file the open file, which a worker thread may read as well (see match-ahead.ts) */
  constructor(readonly file: OpenInput) {
    this.size = file.size;
  }

  read(start: number, length: number): Uint8Array {
    if (start < 0 || length < 0 || start + length > this.size)
      throw new RangeError(`read of ${length} bytes at ${start} outside a file of ${this.size}`);
    if (this.buffer.length < length) {
      this.buffer = new Uint8Array(0); // let the old one go before the new one is made
      this.buffer = new Uint8Array(length);
    }
    const out = this.buffer.subarray(0, length);
    if (readFullySync(this.file.fd, this.file.path, out, length, start) < length)
      throw patchIoError('read', this.file.path, new Error('file ended early (changed while reading?)'));
    return out;
  }

  /** sha256 (hex) of bytes [start, start + length), read in chunks. */
  sha256(start: number, length: number): string {
    const hash = createHash('sha256');
    for (let at = start; at < start + length; at += HASH_CHUNK)
      hash.update(this.read(at, Math.min(HASH_CHUNK, start + length - at)));
    return hash.digest('hex');
  }
}
