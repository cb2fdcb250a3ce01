import type { FileHandle } from 'node:fs/promises';
import { invalidPatch } from './format.js';

const BLOCK = 1 << 20;
const KEEP = 8;

/**
 * Reads the base file through a few cached 1 MiB blocks. Patches of native code are long runs of tiny
 * instructions that read nearby old bytes; one read syscall each would dominate applying them. Memory stays
 * bounded at KEEP blocks whatever the file size.
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
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, start);
    if (bytesRead !== length) throw invalidPatch('the base file changed while the patch was applied');
    if (this.blocks.size >= KEEP) this.blocks.delete(this.blocks.keys().next().value!);
    this.blocks.set(index, buf);
    return buf;
  }

  /** Copies old[position, position + length) into `into` (length ≤ into.length). */
  async read(into: Buffer, position: number, length: number): Promise<Buffer> {
    let done = 0;
    while (done < length) {
      const at = position + done;
      const block = await this.block(Math.floor(at / BLOCK));
      const offset = at % BLOCK;
      const n = Math.min(length - done, block.length - offset);
      block.copy(into, done, offset, offset + n);
      done += n;
    }
    return into.subarray(0, length);
  }
}
