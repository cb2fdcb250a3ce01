import type { FileHandle } from 'node:fs/promises';
import { invalidPatch } from './format.js';

const BLOCK = 1 << 16;
const KEEP = 128;

/**
 * Reads the base file through cached 64 KiB blocks (2 MiB in all). Patches of native code are long runs of tiny
 * instructions that read nearby old bytes, with jumps to wherever shifted code came from; one read syscall per
 * instruction would dominate applying them, and so would large blocks re-read on every far jump (1 MiB blocks
 * apply more than twice as slowly: docs/patch-formats.md, measurements). Memory stays bounded at KEEP blocks
 * whatever the file size.
 */
export class BlockCache {
  private readonly blocks = new Map<number, Buffer>();

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  private async block(index: number): Promise<Buffer> {
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
    const { bytesRead } = await this.fh.read(block, 0, length, start);
    if (bytesRead !== length) throw invalidPatch('the base file changed while the patch was applied');
    this.blocks.set(index, block);
    return block;
  }

  /**
   * Copies old[position, position + length) into `into` when the one block it needs is cached and returns true;
   * otherwise copies nothing and returns false (then call `read`). Most reads of a patch of native code hit.
   */
  readSync(into: Uint8Array, position: number, length: number): boolean {
    const first = Math.floor(position / BLOCK);
    const block = this.blocks.get(first);
    if (!block || Math.floor((position + length - 1) / BLOCK) !== first) return false;
    const offset = position % BLOCK;
    block.copy(into, 0, offset, offset + length); // no view object per read: this runs once per instruction
    return true;
  }

  /** Copies old[position, position + length) into `into` (length ≤ into.length). */
  async read(into: Uint8Array, position: number, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const at = position + done;
      const block = await this.block(Math.floor(at / BLOCK));
      const offset = at % BLOCK;
      const n = Math.min(length - done, block.length - offset);
      block.copy(into, done, offset, offset + n);
      done += n;
    }
  }
}
