/**
 * bzip2's Huffman coding: length-limited code lengths for the encoder, canonical code assignment (shorter codes
 * first, then by symbol: the order bzip2's decoder assumes), and the decoder's table.
 */
import type { BitWindow } from './bit-window.js';
import { bzip2Invalid, MAX_ALPHA_SIZE, MAX_CODE_LEN } from './format.js';

/**
 * Writes Huffman code lengths for `freq[0..n)` into `out`, none longer than `maxLen`. Every symbol gets a code,
 * even unused ones: bzip2 tables have no "absent" length. When the tree is too deep, frequencies are halved
 * (keeping them ≥ 1) and the tree rebuilt, as bzip2 does; a few rounds are enough since maxLen ≥ 17 and n ≤ 258.
 */
export function codeLengths(freq: ArrayLike<number>, n: number, maxLen: number, out: Uint8Array): void {
  const weight = new Float64Array(n);
  for (let i = 0; i < n; i++) weight[i] = Math.max(freq[i] ?? 0, 1);
  while (treeDepths(weight, n, out) > maxLen) {
    for (let i = 0; i < n; i++) weight[i] = 1 + Math.floor(weight[i]! / 2);
  }
}

/** Builds a Huffman tree over `weight`, writes each leaf's depth into `out`, and returns the largest depth. */
function treeDepths(weight: Float64Array, n: number, out: Uint8Array): number {
  if (n === 1) {
    out[0] = 1;
    return 1;
  }
  const nodes = 2 * n - 1;
  const w = new Float64Array(nodes);
  // Subtree height breaks ties between equal weights: merging shallow subtrees first keeps the tree flatter.
  const h = new Uint16Array(nodes);
  const parent = new Int32Array(nodes);
  w.set(weight.subarray(0, n));
  const less = (a: number, b: number): boolean => w[a]! < w[b]! || (w[a] === w[b] && h[a]! < h[b]!);
  const heap = new Int32Array(n);
  let size = 0;
  const push = (node: number): void => {
    let i = size++;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!less(node, heap[up]!)) break;
      heap[i] = heap[up]!;
      i = up;
    }
    heap[i] = node;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap[--size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && less(heap[child + 1]!, heap[child]!)) child++;
      if (!less(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  };
  for (let i = 0; i < n; i++) push(i);
  let next = n;
  while (size > 1) {
    const a = pop();
    const b = pop();
    w[next] = w[a]! + w[b]!;
    h[next] = 1 + Math.max(h[a]!, h[b]!);
    parent[a] = next;
    parent[b] = next;
    push(next++);
  }
  // Parents always have larger indices than their children, so one backwards pass sets every depth.
  const depth = new Uint16Array(nodes);
  let max = 0;
  for (let i = nodes - 2; i >= 0; i--) {
    depth[i] = depth[parent[i]!]! + 1;
    if (i < n && depth[i]! > max) max = depth[i]!;
  }
  for (let i = 0; i < n; i++) out[i] = depth[i]!;
  return max;
}

/** Canonical codes for `lengths[0..n)`: by increasing length, and by symbol within a length. */
export function canonicalCodes(lengths: Uint8Array, n: number): Int32Array {
  const codes = new Int32Array(n);
  let code = 0;
  for (let len = 1; len <= MAX_CODE_LEN; len++) {
    for (let s = 0; s < n; s++) if (lengths[s] === len) codes[s] = code++;
    code <<= 1;
  }
  return codes;
}

/** Bits of the first-level lookup table: codes up to this long decode with one table read. */
export const LOOKUP_BITS = 10;
const LOOKUP_SIZE = 1 << LOOKUP_BITS;

/**
 * A decoding table for one canonical code. Lengths come from the stream, so the code may be incomplete or
 * oversubscribed: a bit pattern that matches no code is rejected, and every table index stays in range
 * whatever the lengths (it is below the count of codes of that length).
 *
 * Decoding is defined by the canonical walk: the symbol is found at the first length whose prefix of the input is
 * at most the largest code of that length (`limit`). The lookup table holds, for each LOOKUP_BITS-bit pattern, the
 * result of that walk when it ends at a length ≤ LOOKUP_BITS (packed as symbol << 5 | length), or 0 when it does
 * not; then the walk goes on from LOOKUP_BITS + 1 (`decodeLong`). Both give the same answer for every input.
 */
export class HuffmanDecoder {
  maxLen = 0;
  /** Largest code of each length (codes of a length are consecutive), or one less than the first if none. */
  readonly limit = new Int32Array(MAX_CODE_LEN + 2);
  /** Code minus `base[len]` is the index into `perm` of a code of that length. */
  readonly base = new Int32Array(MAX_CODE_LEN + 2);
  /** Symbols in canonical order. */
  readonly perm = new Uint16Array(MAX_ALPHA_SIZE);
  /** symbol << 5 | length for patterns whose walk ends within LOOKUP_BITS bits; 0 otherwise. */
  readonly lookup = new Uint16Array(LOOKUP_SIZE);
  private readonly count = new Int32Array(MAX_CODE_LEN + 1);

  /** Rebuilds the table for `lengths[0..n)` (each 1..20, as the block parser guarantees). */
  build(lengths: Uint8Array, n: number): void {
    const count = this.count;
    count.fill(0);
    let maxLen = 1;
    for (let s = 0; s < n; s++) {
      const len = lengths[s]!;
      count[len]!++;
      if (len > maxLen) maxLen = len;
    }
    // perm by (length, symbol): a counting sort, offsets first.
    const offset = new Int32Array(MAX_CODE_LEN + 2);
    for (let len = 1; len <= MAX_CODE_LEN; len++) offset[len + 1] = offset[len]! + count[len]!;
    for (let s = 0; s < n; s++) this.perm[offset[lengths[s]!]!++] = s;
    const lookup = this.lookup;
    lookup.fill(0);
    let code = 0;
    let index = 0;
    for (let len = 1; len <= MAX_CODE_LEN; len++) {
      const c = count[len]!;
      const last = code + c - 1;
      this.limit[len] = last;
      this.base[len] = code - index;
      if (len <= LOOKUP_BITS) {
        // Patterns whose len-bit prefix is in [code, last] end the walk here (shorter prefixes were all below
        // their limits' successors, so none of these matched earlier). Codes past 2^len (oversubscribed) match
        // no len-bit prefix.
        const shift = LOOKUP_BITS - len;
        const end = Math.min(last, (1 << len) - 1);
        for (let k = code; k <= end; k++) {
          const entry = (this.perm[k - code + index]! << 5) | len;
          lookup.fill(entry, k << shift, (k + 1) << shift);
        }
      }
      index += c;
      code = (code + c) << 1;
    }
    // No length past the longest can match (its limit is below its first code); guard the walk's end.
    this.limit[MAX_CODE_LEN + 1] = -1;
    this.maxLen = maxLen;
  }

  /**
   * The symbol and length (symbol << 5 | length) of a pattern the lookup table does not resolve, given the next 32
   * bits (at least 21 of them real input, the rest zero); throws when no code matches.
   */
  decodeLong(top32: number): number {
    for (let len = LOOKUP_BITS + 1; len <= this.maxLen; len++) {
      const code = top32 >>> (32 - len);
      if (code <= this.limit[len]!) return (this.perm[code - this.base[len]!]! << 5) | len;
    }
    throw bzip2Invalid('a Huffman code matches no symbol');
  }

  /** Reads one symbol (the block decoder inlines this; kept for tests and small uses). */
  decode(win: BitWindow): number {
    const top = win.peek32();
    let e = this.lookup[top >>> (32 - LOOKUP_BITS)]!;
    if (e === 0) e = this.decodeLong(top);
    win.advance(e & 31);
    return e >>> 5;
  }
}
