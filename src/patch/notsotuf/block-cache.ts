import type { FileHandle } from 'node:fs/promises';
import { readFullySync } from '../file-io.js';
import { copyBytes } from './copy-bytes.js';
import { invalidPatch } from './format.js';
import { IntMap } from './int-map.js';

const BLOCK = 1 << 12;
/** Blocks held at first: 1 MiB. */
const MIN_BLOCKS = 256;
/**
 * Blocks held at most once re-reads show the cache is too small: 4 MiB. It takes lcss from 23,000 misses to 7,000.
 * Turbo's fragmented alignment returns to 35 MB of the base: 16 MiB took it from 180,000 misses to 41,000, about
 * 0.2 s of a 2 s apply (bspatch: 3.5 s), and cost 12 MB of peak RSS; memory is the scarcer budget.
 */
const MAX_BLOCKS = 1024;

/** Bytes read through the cache per re-read, at most, for a round of misses to grow it (see CacheGrowth). */
const DENSE_REREADS = 256;

/**
 * Decides when the cache grows, from its misses and the bytes read (so it depends on the patch, not on timing). It
 * remembers the last MAX_BLOCKS blocks evicted: a miss on one of them is a re-read a larger cache would have saved.
 * After every `capacity` misses (a round), the cache doubles if in this round and the one before at least half of
 * them were such re-reads, coming at least one per DENSE_REREADS bytes read. One such round is a burst, not a
 * pattern: pe has one (132 re-reads of 256 misses) among sparse ones, and growing for it took 1 MiB to save 800
 * misses, about 2 ms. A patch that reads the base once in order, or jumps to new places each
 * time, has few and never grows; turbo's fragmented alignment, which returns to the same 35 MB over and over,
 * re-reads on nearly every miss (one per 150 bytes read) and grows to the most it may hold.
 * Sparse re-reads save too little to pay for the memory: a miss is one 4 KiB read from the page cache, about
 * 3 µs here. On the pe pair (one re-read per 6 KiB read) growing to 8 MiB saved 1,500 misses, about 5 ms.
 */
export class CacheGrowth {
  capacity = MIN_BLOCKS;
  /** Evicted blocks, oldest first, in a ring; `evictedAt` maps each to its latest entry (older ones are stale). */
  private readonly ring = new Float64Array(MAX_BLOCKS).fill(-1);
  private ringAt = 0;
  private readonly evictedAt = new IntMap(MAX_BLOCKS);
  private misses = 0;
  private rereads = 0;
  private bytesRead = 0;
  /** Whether the last round would have grown the cache. */
  private lastRoundDense = false;

  /** Counts bytes read through the cache, hits and misses alike. */
  read(length: number): void {
    this.bytesRead += length;
  }

  evicted(index: number): void {
    const stale = this.ring[this.ringAt]!;
    if (stale >= 0 && this.evictedAt.get(stale) === this.ringAt) this.evictedAt.delete(stale);
    this.ring[this.ringAt] = index;
    this.evictedAt.set(index, this.ringAt);
    this.ringAt = (this.ringAt + 1) % MAX_BLOCKS;
  }

  /** Counts a miss on block `index`; returns the capacity to use from now on. */
  missed(index: number): number {
    if (this.evictedAt.delete(index)) this.rereads++;
    if (++this.misses >= this.capacity) {
      const dense = 2 * this.rereads >= this.misses && this.bytesRead <= DENSE_REREADS * this.rereads;
      const grow = dense && this.lastRoundDense && this.capacity < MAX_BLOCKS;
      if (grow) this.capacity *= 2;
      // After growing, the next two rounds decide again (they are at the new size).
      this.lastRoundDense = dense && !grow;
      this.misses = 0;
      this.rereads = 0;
      this.bytesRead = 0;
    }
    return this.capacity;
  }
}

/**
 * Reads the base file through cached 4 KiB blocks: 1 MiB, growing to 4 MiB only while misses are mostly
 * frequent re-reads of blocks it evicted (CacheGrowth). Patches of native code are long runs of tiny instructions that
 * read nearby old bytes, with jumps to wherever shifted code came from; one read syscall per instruction would
 * dominate applying them, and so would large blocks re-read on every far jump (1 MiB blocks apply more than twice
 * as slowly: docs/patch-formats.md, measurements). On a fragmented alignment (turbo: 430,000 runs) far jumps
 * return to the same blocks again and again: at 2 MiB that was 177,000 misses, a read syscall each, with 4, 8 or
 * 16 KiB blocks alike, so blocks stay small (less copied per miss) and the cache grows instead (16 MiB: 41,000).
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
  private readonly slotOf = new IntMap(MAX_BLOCKS);
  private readonly buffers: Buffer[] = [];
  /** Block held by each slot, -1 when free. */
  private readonly owner = new Float64Array(MAX_BLOCKS).fill(-1);
  private readonly referenced = new Uint8Array(MAX_BLOCKS);
  private readonly growth = new CacheGrowth();
  private hand = 0;
  /** The last block asked for (most reads are near the one before). */
  private lastIndex = -1;
  private lastBuffer: Buffer = Buffer.alloc(0);

  /** Blocks held now (4 KiB each): what the cache costs in memory. */
  get heldBlocks(): number {
    return this.buffers.length;
  }

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
    const buffer = slot < 0 ? this.load(index) : this.buffers[slot]!;
    if (slot >= 0) this.referenced[slot] = 1;
    this.lastIndex = index;
    this.lastBuffer = buffer;
    return buffer;
  }

  /** A slot for a new block: a fresh one while the cache is below its capacity, else CLOCK's victim. */
  private freeSlot(): number {
    const used = this.buffers.length;
    if (used < this.growth.capacity) {
      this.buffers.push(Buffer.allocUnsafeSlow(BLOCK));
      return used;
    }
    while (this.referenced[this.hand] === 1) {
      this.referenced[this.hand] = 0;
      this.hand = (this.hand + 1) % used;
    }
    const slot = this.hand;
    this.hand = (this.hand + 1) % used;
    const evicted = this.owner[slot]!;
    this.slotOf.delete(evicted);
    this.growth.evicted(evicted);
    return slot;
  }

  private load(index: number): Buffer {
    this.growth.missed(index);
    const slot = this.freeSlot();
    const buffer = this.buffers[slot]!;
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
    this.growth.read(length);
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
