import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { invalidPatch } from './format.js';

const BLOCK = 1 << 16;
const KEEP = 128;

/**
 * Reads the base file through cached 64 KiB blocks (8 MiB in all). Patches of native code are long runs of tiny
 * instructions that read nearby old bytes, with jumps to wherever shifted code came from; one read syscall per
 * instruction would dominate applying them, and so would large blocks re-read on every far jump (1 MiB blocks
 * apply more than twice as slowly: docs/patch-formats.md, measurements). Memory stays bounded at KEEP blocks
 * whatever the file size.
 *
 * Misses are read synchronously (a positional read of at most 64 KiB). bsdiff patches of large bundles jump all
 * over the base: the 183 MB benchmark patch has 190,000 controls, mostly short adds at scattered positions, and
 * misses this cache about 44,000 times. Through the thread pool each miss cost a round trip (0.1–0.7 ms on the
 * loaded benchmark machine): the apply spent 5–9 s of its 14 s waiting for them, idle. A synchronous read of a
 * page-cached block takes tens of microseconds; the event loop is held no longer than by decoding one bzip2 block.
 */
export class BlockCache {
  private readonly blocks = new Map<number, Buffer>();
  private readonly fd: number;

  constructor(
    fh: FileHandle,
    private readonly size: number,
  ) {
    this.fd = fh.fd;
  }

  private block(index: number): Buffer {
    const hit = this.blocks.get(index);
    if (hit) {
      // Map keeps insertion order: re-insert to mark as recently used.
      this.blocks.delete(index);
      this.blocks.set(index, hit);
      return hit;
    }
    const start = index * BLOCK;
    const length = Math.min(BLOCK, this.size - start);
    // Reuse the least recently used block's memory rather than leave it to the garbage collector.
    let buf: Buffer = Buffer.allocUnsafe(0);
    if (this.blocks.size >= KEEP) {
      const [oldest, spare] = this.blocks.entries().next().value!;
      this.blocks.delete(oldest);
      buf = spare;
    }
    if (buf.length < length) buf = Buffer.allocUnsafeSlow(BLOCK);
    // The same view object when it fits (all blocks but the last): a new one per miss would be garbage that
    // survives in the cache, and survivors are what make V8 grow its young generation (apply's peak memory).
    const block = buf.length === length ? buf : Buffer.from(buf.buffer, buf.byteOffset, length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, block, done, length - done, start + done);
      if (n === 0) throw invalidPatch('the base file changed while the patch was applied');
      done += n;
    }
    this.blocks.set(index, block);
    return block;
  }

  /**
   * Copies old[position, position + length) into `into` (length ≤ into.length) and returns true. (It used to
   * return false on a miss, for the caller to await `read`; misses are now read here.)
   */
  readSync(into: Uint8Array, position: number, length: number): boolean {
    if (length <= 0) return true;
    const first = Math.floor(position / BLOCK);
    const offset = position % BLOCK;
    if (offset + length <= BLOCK) {
      // One block: no view object per read, as this runs once per instruction.
      this.block(first).copy(into, 0, offset, offset + length);
      return true;
    }
    let done = 0;
    while (done < length) {
      const at = position + done;
      const block = this.block(Math.floor(at / BLOCK));
      const from = at % BLOCK;
      const n = Math.min(length - done, block.length - from);
      block.copy(into, done, from, from + n);
      done += n;
    }
    return true;
  }

  /** Copies old[position, position + length) into `into` (length ≤ into.length). */
  async read(into: Uint8Array, position: number, length: number): Promise<void> {
    this.readSync(into, position, length);
  }
}
