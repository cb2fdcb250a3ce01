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

/**
 * A decoding table for one canonical code. Lengths come from the stream, so the code may be incomplete or
 * oversubscribed: a bit pattern that matches no code is rejected, and every table index stays in range
 * whatever the lengths (it is below the count of codes of that length).
 */
export class HuffmanDecoder {
  private minLen = 0;
  private maxLen = 0;
  /** Largest code of each length (codes of a length are consecutive), or one less than the first if none. */
  private readonly limit = new Int32Array(MAX_CODE_LEN + 1);
  /** Code minus `base[len]` is the index into `perm` of a code of that length. */
  private readonly base = new Int32Array(MAX_CODE_LEN + 1);
  /** Symbols in canonical order. */
  private readonly perm = new Uint16Array(MAX_ALPHA_SIZE);

  /** Rebuilds the table for `lengths[0..n)` (each 1..20, as the block parser guarantees). */
  build(lengths: Uint8Array, n: number): void {
    const count = new Int32Array(MAX_CODE_LEN + 1);
    let minLen = MAX_CODE_LEN;
    let maxLen = 1;
    for (let s = 0; s < n; s++) {
      const len = lengths[s]!;
      count[len]!++;
      if (len < minLen) minLen = len;
      if (len > maxLen) maxLen = len;
    }
    let p = 0;
    for (let len = minLen; len <= maxLen; len++) {
      for (let s = 0; s < n; s++) if (lengths[s] === len) this.perm[p++] = s;
    }
    let code = 0;
    let index = 0;
    for (let len = 1; len <= MAX_CODE_LEN; len++) {
      const c = count[len]!;
      this.limit[len] = code + c - 1;
      this.base[len] = code - index;
      index += c;
      code = (code + c) << 1;
    }
    this.minLen = minLen;
    this.maxLen = maxLen;
  }

  /** Reads one symbol. */
  decode(win: BitWindow): number {
    const v = win.peek24();
    let len = this.minLen;
    let code = v >>> (24 - len);
    while (code > this.limit[len]!) {
      if (++len > this.maxLen) throw bzip2Invalid('a Huffman code matches no symbol');
      code = v >>> (24 - len);
    }
    win.advance(len);
    return this.perm[code - this.base[len]!]!;
  }
}
