/**
 * The word delta filter of filtered regions (format.ts, FILTER): a table of little-endian words of `word` bytes
 * whose entries grow steadily (addresses, offsets) is stored as each word minus the word `stride` bytes before it,
 * modulo 2^(8·word). When code moves, every entry of such a table changes, but the differences between entries
 * stay what they were, so the filtered tables of two releases match where the raw ones do not (.eh_frame_hdr of
 * @swc/core 1.7.26 → 1.7.28: 46 KB instead of 204 KB of LZMA output).
 *
 * Positions are relative to the region start. The first `stride` bytes, and a last partial word, pass unchanged.
 * The arithmetic is byte by byte with a carry inside each word, so both directions stream in any chunk sizes.
 */

export interface DeltaFilter {
  /** Word size in bytes: 4 or 8. */
  readonly word: number;
  /** Distance in bytes to the word subtracted: a multiple of `word`, at most MAX_STRIDE. */
  readonly stride: number;
}

export const MAX_STRIDE = 256;

/** True when `filter` is one this format defines. */
export function isValidFilter(filter: DeltaFilter): boolean {
  const { word, stride } = filter;
  return (word === 4 || word === 8) && stride > 0 && stride <= MAX_STRIDE && stride % word === 0;
}

/** Bytes at the end of a region of `length` that are not in a whole word, and pass unchanged. */
function wholeWordsEnd(length: number, word: number): number {
  return length - (length % word);
}

/**
 * Filters `raw[from, to)` of a region whose bytes are `raw` (relative position 0 = raw[0]) into `out` (from
 * out[0]). Reads raw[from − stride …] back to the start of each word, which the caller must provide.
 */
export function filterRange(
  raw: Uint8Array,
  rawOffset: number,
  regionLength: number,
  filter: DeltaFilter,
  from: number,
  to: number,
  out: Uint8Array,
): void {
  const { word, stride } = filter;
  const end = wholeWordsEnd(regionLength, word);
  // Start at the beginning of the word that holds `from`, to know the borrow.
  let borrow = 0;
  for (let r = from - (from % word); r < to; r++) {
    const j = r % word;
    if (j === 0) borrow = 0;
    const x = raw[r - rawOffset]!;
    let y: number;
    if (r < stride || r >= end) y = x;
    else {
      const d = x - raw[r - stride - rawOffset]! - borrow;
      borrow = d < 0 ? 1 : 0;
      y = d & 0xff;
    }
    if (r >= from) out[r - from] = y;
  }
}

/** The filtered form of a whole region. */
export function filterRegion(raw: Uint8Array, filter: DeltaFilter): Uint8Array {
  const out = new Uint8Array(raw.length);
  filterRange(raw, 0, raw.length, filter, 0, raw.length, out);
  return out;
}

/** Turns filtered bytes back into the region's bytes, in order, chunk by chunk; keeps only the last `stride` bytes. */
export class DeltaUnfilter {
  private readonly history: Uint8Array;
  private readonly end: number;
  private pos = 0;
  private carry = 0;

  constructor(
    private readonly filter: DeltaFilter,
    readonly length: number,
  ) {
    this.history = new Uint8Array(filter.stride);
    this.end = wholeWordsEnd(length, filter.word);
  }

  /** Bytes still to come. */
  get remaining(): number {
    return this.length - this.pos;
  }

  /** Unfilters `bytes[0, count)` in place (the caller checks `count` against `remaining`). */
  unfilterInPlace(bytes: Uint8Array, count: number): void {
    this.carry = unfilterLoop(bytes, count, this.history, this.filter, this.end, this.pos, this.carry);
    this.pos += count;
  }
}

/**
 * DeltaUnfilter's loop, a function of its arguments that touches no object fields. V8 optimizes a long first call
 * while it runs (on-stack replacement); a field stored after the loop had no type feedback yet, so that code
 * deoptimized as the loop ended, again and again, and libvips' apply spent 90 ms here instead of 8 in some runs.
 * Returns the carry; word and history positions are counted rather than taken modulo per byte.
 */
function unfilterLoop(
  bytes: Uint8Array,
  count: number,
  history: Uint8Array,
  filter: DeltaFilter,
  end: number,
  start: number,
  carryIn: number,
): number {
  const { word, stride } = filter;
  let carry = carryIn;
  let inWord = start % word;
  let slot = start % stride;
  for (let i = 0, pos = start; i < count; i++, pos++) {
    if (inWord === 0) carry = 0;
    let x = bytes[i]!;
    if (pos >= stride && pos < end) {
      const sum = x + history[slot]! + carry;
      carry = sum >> 8;
      x = sum & 0xff;
      bytes[i] = x;
    }
    history[slot] = x;
    if (++inWord === word) inWord = 0;
    if (++slot === stride) slot = 0;
  }
  return carry;
}
