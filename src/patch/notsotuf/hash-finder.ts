import type { MatchFinder } from '../bsdiff-core.js';
import { hashAt, roll, SEED } from './rolling-hash.js';
import { giveBackTable, takeTable } from './table-pool.js';

/** Most table slots: 2^25 Int32 = 128 MiB (see tableBits). */
const MAX_BITS = 25;
/** Up to this many slots (2^24, 64 MiB), a table has about one slot per byte of the base. */
const FULL_TABLE_BITS = 24;
/**
 * A bucket is 8 Int32 words, half a cache line: 6 slots for positions, then 6 tag bytes (8 more bits of each
 * slot's window hash, so most candidates that are other windows are told apart without reading the old file).
 * One lookup touches one cache line; a window repeated in the old file keeps up to 6 of its positions.
 */
const BUCKET_BITS = 3;
const WAYS = 6;
/** Byte offset of the tags in a bucket. */
const TAGS = WAYS * 4;
/**
 * Windows looked up for one scan position: at the position itself and 8 and 24 bytes further. A candidate from a
 * later window is checked from the scan position (its old offset minus the probe), so a long match is found even
 * when its first window is common code whose bucket holds other occurrences.
 */
const PROBE_1 = 8;
const PROBE_2 = 24;

/**
 * Slots of the index for a base of `size` bytes, as a power of two: about one per byte up to 2^24 (64 MiB), then
 * one per 2–4 bytes up to 2^25. A halved table costs little on large files and more on small ones
 * (docs/patch-formats.md, measurements), so small bases keep a full table while large ones, which a second thread
 * may be matching at the same time, keep memory in check.
 */
export function tableBits(size: number): number {
  const full = Math.ceil(Math.log2(Math.max(1, size)));
  const half = Math.max(FULL_TABLE_BITS, Math.floor(Math.log2(Math.max(1, size / 2))));
  return Math.max(10, Math.min(MAX_BITS, full, half));
}

/** Spreads a rolling hash over all bits (the polynomial hash's top bits are weak): the top ones pick the bucket. */
function mix(hash: number): number {
  return Math.imul(hash, 0x9e3779b1);
}

/** The slot a position takes in its bucket: spread by a hash of the position, as code and data are aligned. */
function slotOf(position: number): number {
  return ((Math.imul(position, 0x2545f491) >>> 16) * WAYS) >>> 16;
}

/**
 * A bsdiff match finder on a rolling-hash index of the old file instead of a suffix array: each 12-byte window
 * of the old file goes to a bucket of 8 slots (the slot picked by its position, so a repeated window keeps a spread
 * of its occurrences), and a lookup returns the longest exact match among the candidates of three windows.
 * bsdiff's alignment rule needs a match that beats the current alignment, and nearly all of those are found.
 * Patches are within 1 % of the suffix array's at a fraction of its time, with 128 MiB of index at most
 * (docs/patch-formats.md, measurements).
 */
export class HashFinder implements MatchFinder {
  pos = 0;
  private readonly table: Int32Array;
  /** The same memory as bytes, for the tags. */
  private readonly tags: Uint8Array;
  private readonly shift: number;
  /** Position whose window hashes are in `h0`, `h1`, `h2` (−2: none yet), so consecutive lookups roll them. */
  private hashedAt = -2;
  private h0 = 0;
  private h1 = 0;
  private h2 = 0;

  constructor(
    private readonly old: Uint8Array,
    private readonly next: Uint8Array,
  ) {
    const bits = tableBits(old.length);
    this.shift = 32 - (bits - BUCKET_BITS);
    this.table = takeTable(1 << bits);
    this.tags = new Uint8Array(this.table.buffer, this.table.byteOffset, this.table.byteLength);
    if (old.length < SEED) return;
    // Locals, not fields, in this loop over every byte of the base: measurably faster (docs/patch-formats.md).
    const table = this.table;
    const tags = this.tags;
    const shift = this.shift;
    const last = old.length - SEED;
    let h = hashAt(old, 0);
    for (let i = 0; ; i++) {
      const m = mix(h);
      const bucket = (m >>> shift) << BUCKET_BITS;
      const slot = slotOf(i);
      table[bucket + slot] = i;
      tags[bucket * 4 + TAGS + slot] = m >>> (shift - 8);
      if (i === last) break;
      h = roll(h, old[i]!, old[i + SEED]!);
    }
  }

  /** Brings the three window hashes to `scan` (rolling from the previous position when it is the one before). */
  private hashTo(scan: number): void {
    const next = this.next;
    if (this.hashedAt === scan) return;
    if (this.hashedAt === scan - 1) {
      const p = scan - 1;
      this.h0 = roll(this.h0, next[p]!, next[p + SEED]!);
      if (p + PROBE_1 + SEED < next.length)
        this.h1 = roll(this.h1, next[p + PROBE_1]!, next[p + PROBE_1 + SEED]!);
      if (p + PROBE_2 + SEED < next.length)
        this.h2 = roll(this.h2, next[p + PROBE_2]!, next[p + PROBE_2 + SEED]!);
    } else {
      this.h0 = hashAt(next, scan);
      if (scan + PROBE_1 + SEED <= next.length) this.h1 = hashAt(next, scan + PROBE_1);
      if (scan + PROBE_2 + SEED <= next.length) this.h2 = hashAt(next, scan + PROBE_2);
    }
    this.hashedAt = scan;
  }

  /** The longest match from `scan` among the bucket's candidates for the window at `scan + probe`. */
  private best(hash: number, probe: number, scan: number, bestLen: number): number {
    const { old, next, table, tags, shift } = this;
    const m = mix(hash);
    const bucket = (m >>> shift) << BUCKET_BITS;
    const tagAt = bucket * 4 + TAGS;
    const tag = (m >>> (shift - 8)) & 0xff;
    for (let k = 0; k < WAYS; k++) {
      if (tags[tagAt + k] !== tag) continue;
      const c = table[bucket + k]! - probe;
      if (c < 0) continue; // an empty slot (−1) or a window too close to the start
      const max = Math.min(old.length - c, next.length - scan);
      // Only a match longer than the best so far matters: it must agree at the best length first.
      if (max <= bestLen || old[c + bestLen] !== next[scan + bestLen]) continue;
      let len = 0;
      while (len < max && old[c + len] === next[scan + len]) len++;
      if (len > bestLen) {
        bestLen = len;
        this.pos = c;
      }
    }
    return bestLen;
  }

  /** Gives the index table back for the next file; the finder must not be used afterwards. */
  release(): void {
    giveBackTable(this.table);
  }

  find(scan: number): number {
    this.pos = 0;
    if (this.old.length < SEED || scan + SEED > this.next.length) return 0;
    this.hashTo(scan);
    let len = this.best(this.h0, 0, scan, 0);
    if (scan + PROBE_1 + SEED <= this.next.length) len = this.best(this.h1, PROBE_1, scan, len);
    if (scan + PROBE_2 + SEED <= this.next.length) len = this.best(this.h2, PROBE_2, scan, len);
    if (len < SEED) {
      this.pos = 0;
      return 0; // a hash collision, or too short to be worth a control
    }
    return len;
  }
}
