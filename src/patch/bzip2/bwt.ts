/**
 * The Burrows-Wheeler transform as bzip2 defines it: the last column of the sorted cyclic rotations of a block,
 * plus the row of the unrotated block (origPtr).
 *
 * Rotations are sorted with a plain suffix array, without doubling the block: the block is first rotated to its
 * least rotation, which is a power of a Lyndon word, and for such a string the order of the suffixes (a suffix
 * that is a prefix of another sorting first) agrees with the order of the rotations wherever the rotations differ.
 * Rows of equal rotations end with the same byte, so their relative order does not change the output.
 */
import { buildSuffixArray } from '../suffix-array.js';

export interface BwtResult {
  /** The last column, one byte per rotation. */
  readonly last: Uint8Array;
  /** Row of the sorted rotations that holds the block itself. */
  readonly origPtr: number;
}

/** Transforms a non-empty block. */
export function bwtEncode(block: Uint8Array): BwtResult {
  const n = block.length;
  const r = leastRotation(block);
  let text = block;
  if (r !== 0) {
    text = new Uint8Array(n);
    text.set(block.subarray(r));
    text.set(block.subarray(0, r), n - r);
  }
  const sa = buildSuffixArray(text);
  // The unrotated block starts at offset n - r of the rotated text.
  const start = r === 0 ? 0 : n - r;
  const last = new Uint8Array(n);
  let origPtr = -1;
  for (let k = 0; k < n; k++) {
    const p = sa[k]!;
    last[k] = text[p === 0 ? n - 1 : p - 1]!;
    if (p === start) origPtr = k;
  }
  return { last, origPtr };
}

/**
 * Start of the lexicographically least rotation (the smallest one if several are equal), in linear time: two
 * candidate starts race, and a mismatch after k equal bytes rules out the k + 1 starts of the loser.
 */
export function leastRotation(s: Uint8Array): number {
  const n = s.length;
  let i = 0;
  let j = 1;
  let k = 0;
  while (i < n && j < n && k < n) {
    const a = s[(i + k) % n]!;
    const b = s[(j + k) % n]!;
    if (a === b) {
      k++;
      continue;
    }
    if (a > b) i += k + 1;
    else j += k + 1;
    if (i === j) j++;
    k = 0;
  }
  return Math.min(i, j);
}
