import type { MatchFinder } from '../bsdiff-core.js';
import { hashAt, roll, SEED } from './rolling-hash.js';

/** Most table slots: 2^25 Int32 = 128 MiB, enough for one slot per position of a 100 MB base. */
const MAX_BITS = 25;

/**
 * A bsdiff match finder on a rolling-hash index of the old file instead of a suffix array: each 12-byte window
 * of the old file is remembered at one slot (the last one written wins), and a lookup returns the exact match at
 * that slot. It misses some of the longest matches a suffix array finds, but bsdiff's alignment rule only needs
 * a match that beats the current alignment, and those it finds. Measured on node 20.18.0 → 20.18.1 (98 MB):
 * patch streams 1.36 MB vs 1.30 MB with the suffix array, in 10 s instead of 69 s, with 128 MiB instead of
 * ~900 MB of index.
 */
export class HashFinder implements MatchFinder {
  pos = 0;
  private readonly table: Int32Array;
  private readonly shift: number;
  /** Position whose window hash is in `hash` (−2: none yet), so consecutive lookups roll instead of rehashing. */
  private hashedAt = -2;
  private hash = 0;

  constructor(
    private readonly old: Uint8Array,
    private readonly next: Uint8Array,
  ) {
    const bits = Math.min(MAX_BITS, Math.max(10, Math.ceil(Math.log2(Math.max(1, old.length)))));
    this.shift = 32 - bits;
    this.table = new Int32Array(1 << bits).fill(-1);
    if (old.length < SEED) return;
    // Locals, not fields, in this loop over every byte of the base (about 15 % faster).
    const table = this.table;
    const shift = this.shift;
    const last = old.length - SEED;
    let h = hashAt(old, 0);
    for (let i = 0; i < last; i++) {
      table[h >>> shift] = i;
      h = roll(h, old[i]!, old[i + SEED]!);
    }
    table[h >>> shift] = last;
  }

  private hashOf(scan: number): number {
    const next = this.next;
    if (this.hashedAt === scan - 1) {
      this.hash = roll(this.hash, next[scan - 1]!, next[scan - 1 + SEED]!);
    } else if (this.hashedAt !== scan) this.hash = hashAt(next, scan);
    this.hashedAt = scan;
    return this.hash;
  }

  find(scan: number): number {
    const { old, next } = this;
    this.pos = 0;
    if (old.length < SEED || scan + SEED > next.length) return 0;
    const candidate = this.table[this.hashOf(scan) >>> this.shift]!;
    if (candidate < 0) return 0;
    const max = Math.min(old.length - candidate, next.length - scan);
    let len = 0;
    while (len < max && old[candidate + len] === next[scan + len]) len++;
    if (len < SEED) return 0; // a hash collision, or too short to be worth a control
    this.pos = candidate;
    return len;
  }
}
