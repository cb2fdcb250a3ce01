/**
 * Suffix arrays by induced sorting (SA-IS: Nong, Zhang & Chan, "Two Efficient Algorithms for Linear Time Suffix
 * Array Construction", 2009). Linear time, and the reduced problem of each recursion level lives inside the output
 * array, so the extra memory is a type bit per input byte plus the bucket arrays: under 0.2 bytes per input byte at
 * the top level (256 buckets), and at most ~4.2 bytes per input byte in the worst case of the first recursion
 * (two int arrays of up to n/2 buckets). bsdiff's own qsufsort needs 8 bytes per input byte and O(n log n) time,
 * which is what made it slow on 100 MB tars.
 *
 * The text is treated as followed by a virtual sentinel smaller than every byte, so a suffix that is a prefix of
 * another sorts first, and the empty suffix is not part of the result.
 */

type Text = Uint8Array | Int32Array;

/**
 * The suffix array of `text`: the start offsets of all its non-empty suffixes in lexicographic (unsigned byte)
 * order. Throws RangeError when `text` is 2^31 bytes or longer (the entries are 32-bit).
 */
export function buildSuffixArray(text: Uint8Array): Int32Array {
  if (text.length >= 2 ** 31) throw new RangeError('buildSuffixArray: input longer than 2^31 - 1 bytes');
  const sa = new Int32Array(text.length);
  sais(text, sa, text.length, 256);
  return sa;
}

/** Sorts the suffixes of `t[0..n)` (values in `[0, k)`) into `sa[0..n)`. */
function sais(t: Text, sa: Int32Array, n: number, k: number): void {
  if (n === 0) return;
  if (n === 1) {
    sa[0] = 0;
    return;
  }
  const stype = suffixTypes(t, n);
  const counts = countSymbols(t, n, k, new Int32Array(k));
  const bkt = new Int32Array(k);

  // Stage 1: sort the LMS substrings by inducing from their unsorted positions at the bucket ends.
  sa.fill(0, 0, n);
  bucketBounds(k, counts, bkt, true);
  for (let i = 1; i < n; i++) {
    if (isLms(stype, i)) sa[--bkt[t[i]!]!] = i;
  }
  induce(t, sa, n, k, counts, bkt);

  // Move the sorted LMS positions to the front.
  let n1 = 0;
  for (let i = 0; i < n; i++) {
    const p = sa[i]!;
    if (p > 0 && isLms(stype, p)) sa[n1++] = p;
  }

  // Name each LMS substring by its rank among distinct ones. LMS positions are at least 2 apart, so p >> 1 gives
  // each its own slot in the free upper part of sa, kept in text order.
  sa.fill(-1, n1, n);
  let names = 0;
  let prev = -1;
  for (let i = 0; i < n1; i++) {
    const pos = sa[i]!;
    if (prev < 0 || !sameLmsSubstring(t, stype, n, prev, pos)) {
      names++;
      prev = pos;
    }
    sa[n1 + (pos >> 1)] = names - 1;
  }
  for (let i = n - 1, j = n - 1; i >= n1; i--) {
    const v = sa[i]!;
    if (v >= 0) sa[j--] = v;
  }

  // Stage 2: sort the reduced string (the names in text order) recursively, or directly if the names are unique.
  const s1 = sa.subarray(n - n1, n);
  const sa1 = sa.subarray(0, n1);
  if (names < n1) sais(s1, sa1, n1, names);
  else for (let i = 0; i < n1; i++) sa1[s1[i]!] = i;

  // Map reduced ranks back to text positions: s1 is reused to list the LMS positions in text order.
  for (let i = 1, j = 0; i < n; i++) {
    if (isLms(stype, i)) s1[j++] = i;
  }
  for (let i = 0; i < n1; i++) sa1[i] = s1[sa1[i]!]!;

  // Stage 3: place the now fully sorted LMS suffixes at their bucket ends (largest first, so no slot is
  // overwritten before it is read) and induce every other suffix from them.
  sa.fill(0, n1, n);
  bucketBounds(k, counts, bkt, true);
  for (let i = n1 - 1; i >= 0; i--) {
    const j = sa[i]!;
    sa[i] = 0;
    sa[--bkt[t[j]!]!] = j;
  }
  induce(t, sa, n, k, counts, bkt);
}

/**
 * Suffix types as a bit set (bit i set when suffix i is S-type, i.e. smaller than suffix i + 1). A bit set rather
 * than a byte per suffix: the LMS tests read it at random positions, and an eighth of the size stays in cache.
 * The last suffix is L-type because the virtual sentinel after it is smaller than everything.
 */
function suffixTypes(t: Text, n: number): Uint8Array {
  const bits = new Uint8Array((n >>> 3) + 1);
  let nextS = false;
  for (let i = n - 2; i >= 0; i--) {
    const a = t[i]!;
    const b = t[i + 1]!;
    nextS = a < b || (a === b && nextS);
    if (nextS) bits[i >>> 3]! |= 1 << (i & 7);
  }
  return bits;
}

function isS(stype: Uint8Array, i: number): boolean {
  return (stype[i >>> 3]! & (1 << (i & 7))) !== 0;
}

/** A leftmost-S position: S-type with an L-type suffix just before it. */
function isLms(stype: Uint8Array, i: number): boolean {
  return i > 0 && isS(stype, i) && !isS(stype, i - 1);
}

function countSymbols(t: Text, n: number, k: number, out: Int32Array): Int32Array {
  out.fill(0, 0, k);
  for (let i = 0; i < n; i++) out[t[i]!]!++;
  return out;
}

/** Bucket starts (or ends) into `out`. */
function bucketBounds(k: number, counts: Int32Array, out: Int32Array, ends: boolean): void {
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const c = counts[i]!;
    sum += c;
    out[i] = ends ? sum : sum - c;
  }
}

/**
 * Induces L-type suffixes left to right, then S-type suffixes right to left, from the seeds `sa` holds.
 *
 * No type array is read here: when a suffix j is written, the type of j - 1 is decided from t[j - 1] and t[j]
 * (adjacent, so one cache miss instead of two) and stored as the sign of the entry (~j: "do not induce from this
 * one in the current pass"). Each pass flips the signs it consumes so the next pass sees its own marks, and the
 * S pass leaves every entry non-negative. This is the trick of Yuta Mori's sais; on large inputs the random reads
 * dominate, so it nearly halves the time.
 */
function induce(t: Text, sa: Int32Array, n: number, k: number, counts: Int32Array, bkt: Int32Array): void {
  bucketBounds(k, counts, bkt, false);
  // The sentinel suffix sorts first, and the suffix before it (n - 1) is L-type: it starts the L pass. An L-type
  // j has an S-type j - 1 exactly when t[j - 1] < t[j].
  const last = n - 1;
  const cLast = t[last]!;
  sa[bkt[cLast]!++] = t[last - 1]! < cLast ? ~last : last;
  for (let i = 0; i < n; i++) {
    let j = sa[i]!;
    sa[i] = ~j;
    if (j > 0) {
      j--;
      const c = t[j]!;
      sa[bkt[c]!++] = j > 0 && t[j - 1]! < c ? ~j : j;
    }
  }
  // An S-type j has an L-type j - 1 exactly when t[j - 1] > t[j].
  bucketBounds(k, counts, bkt, true);
  for (let i = n - 1; i >= 0; i--) {
    let j = sa[i]!;
    if (j > 0) {
      j--;
      const c = t[j]!;
      sa[--bkt[c]!] = j === 0 || t[j - 1]! > c ? ~j : j;
    } else {
      sa[i] = ~j;
    }
  }
}

/** Whether the LMS substrings at `a` and `b` are equal (same symbols and types up to and including the next LMS). */
function sameLmsSubstring(t: Text, stype: Uint8Array, n: number, a: number, b: number): boolean {
  for (let d = 0; ; d++) {
    const pa = a + d;
    const pb = b + d;
    // Only the last LMS substring reaches the sentinel, and the sentinel is unique.
    if (pa === n || pb === n) return false;
    if (t[pa] !== t[pb] || isS(stype, pa) !== isS(stype, pb)) return false;
    // Types matched at d - 1 and d, so either both or neither are LMS positions.
    if (d > 0 && isLms(stype, pa)) return true;
  }
}
