import type { FileHandle } from 'node:fs/promises';
import { readFullySync } from '../file-io.js';
import { copyBytes } from './copy-bytes.js';
import { invalidPatch } from './format.js';

const BLOCK = 1 << 12;
const KEEP = 512;

/**
 * Reads the base file through cached 4 KiB blocks, 2 MiB in all whatever the file size. Patches of native code
 * are long runs of tiny instructions that read nearby old bytes, with jumps to wherever shifted code came from;
 * one read syscall per instruction would dominate applying them, and so would large blocks re-read on every far
 * jump (1 MiB blocks apply more than twice as slowly: docs/patch-formats.md, measurements). 8 MiB of 64 KiB
 * blocks was no faster than this once misses were read synchronously, and cost 6 MB of apply's peak memory. On a
 * fragmented alignment (turbo: 430,000 runs) nearly every far jump misses whatever the block size (177,000 misses
 * with 4, 8 or 16 KiB blocks), so small blocks copy less per miss: turbo applies in 2.1 s instead of 2.4 s.
 *
 * Misses are read synchronously (a positional read of at most one block). bsdiff patches of large bundles jump all
 * over the base: the 183 MB benchmark patch has 190,000 controls, mostly short adds at scattered positions. Through
 * the thread pool each miss cost a round trip (0.1–0.7 ms on the loaded benchmark machine): the apply spent 5–9 s
 * of its 14 s waiting for them, idle. A synchronous read of a page-cached block takes microseconds; the event loop
 * is held no longer than by decoding one bzip2 block.
 *
 * Eviction is CLOCK (a hit only sets a flag): an LRU kept by re-inserting into a Map on every hit allocated on
 * every instruction, 20 MB of garbage on that pair. Nothing is allocated on a hit.
 */
export class BlockCache {
  private readonly fd: number;
  /** Slot of each cached block. */
  private readonly slotOf = new Map<number, number>();
  private readonly buffers: Buffer[] = [];
  /** Block held by each slot, -1 when free. */
  private readonly owner = new Float64Array(KEEP).fill(-1);
  private readonly referenced = new Uint8Array(KEEP);
  private hand = 0;
  /** The last block asked for (most reads are near the one before). */
  private lastIndex = -1;
  private lastBuffer: Buffer = Buffer.alloc(0);

  constructor(
    fh: FileHandle,
    private readonly path: string,
    private readonly size: number,
  ) {
    this.fd = fh.fd;
  }

  private block(index: number): Buffer {
    if (index === this.lastIndex) return this.lastBuffer;
    const slot = this.slotOf.get(index);
    const buffer = slot === undefined ? this.load(index) : this.buffers[slot]!;
    if (slot !== undefined) this.referenced[slot] = 1;
    this.lastIndex = index;
    this.lastBuffer = buffer;
    return buffer;
  }

  private load(index: number): Buffer {
    while (this.referenced[this.hand] === 1) {
      this.referenced[this.hand] = 0;
      this.hand = (this.hand + 1) % KEEP;
    }
    const slot = this.hand;
    this.hand = (this.hand + 1) % KEEP;
    if (this.owner[slot]! >= 0) this.slotOf.delete(this.owner[slot]!);
    this.buffers[slot] ??= Buffer.allocUnsafeSlow(BLOCK);
    const buffer = this.buffers[slot];
    const start = index * BLOCK;
    const length = Math.min(BLOCK, this.size - start);
    if (readFullySync(this.fd, this.path, buffer, length, start) < length)
      throw invalidPatch('the base file changed while the patch was applied');
    this.owner[slot] = index;
    this.referenced[slot] = 1;
    this.slotOf.set(index, slot);
    return buffer;
  }

  /**
   * Copies old[position, position + length) into `into` (length ≤ into.length; the caller has checked that the
   * range lies in the file).
   */
  readSync(into: Uint8Array, position: number, length: number): void {
    let done = 0;
    while (done < length) {
      const at = position + done;
      const from = at % BLOCK;
      const n = Math.min(length - done, BLOCK - from);
      copyBytes(this.block(Math.floor(at / BLOCK)), from, into, done, n);
      done += n;
    }
  }
}
