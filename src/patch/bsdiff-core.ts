/**
 * Colin Percival's bsdiff matcher ("Naive differences of executable code", 2003), written from the paper and the
 * format description, independent of any entropy coder so other codecs can reuse it.
 *
 * The new file is covered by a chain of controls. Each control says: "add" `addLength` bytes (new byte = diff
 * byte + old byte, so a region that matches approximately, e.g. code whose embedded addresses shifted, becomes
 * mostly zero diff bytes that compress well), then "copy" `copyLength` bytes of new data verbatim (extra bytes),
 * then move the old position by `seek`.
 *
 * How controls are found: scanning the new file, at each position the longest exact match in the old file is
 * looked up in the old file's suffix array. A match is only worth a new control when it beats the current
 * alignment (old position = new position + lastOffset) by more than 8 bytes; otherwise the scan moves on, so runs
 * of small differences stay inside one approximate region. When a new control is due, the previous match is
 * extended forwards and the new one backwards as far as "more than half the bytes agree" holds, and where the two
 * extensions overlap the split point that keeps the most agreeing bytes is chosen.
 *
 * One deliberate difference from the reference implementation: its binary search treats an old suffix that is a
 * prefix of the wanted string as "not smaller" and so can miss the longest match (long runs of equal bytes make it
 * find 1-byte matches and go quadratic). Here the search is an exact longest-match search, with the usual LCP
 * bounds so each step resumes comparing where both ends already agree. Patches stay in the same format.
 */

/** One bsdiff control triple, with where its data comes from. */
export interface BsdiffControl {
  /** Bytes produced as `new[newStart + i] = diff[i] + old[oldStart + i]`. */
  readonly addLength: number;
  /** Bytes then copied verbatim from `new[newStart + addLength ...]` (the extra stream). */
  readonly copyLength: number;
  /** Change applied to the old position after the add region (it may be negative). */
  readonly seek: number;
  readonly newStart: number;
  readonly oldStart: number;
}

/** What the matcher yields: controls in order, and progress ticks so callers can report and abort. */
export type BsdiffStep =
  | { readonly kind: 'control'; readonly control: BsdiffControl }
  | { readonly kind: 'progress'; readonly scanned: number };

/** A match beats the current alignment only when it is longer by more than this (bsdiff's constant). */
const MIN_GAIN = 8;
/** Progress ticks every this many scanned bytes of the new file. */
const PROGRESS_INTERVAL = 1 << 18;

/**
 * Where the scan looks up matches: `find(scan)` returns the length of a long exact match of `next[scan..]` in the
 * old file and sets `pos` to its old offset (0 when nothing is found). bsdiff's own finder is the longest match
 * by suffix array; a hash finder trades a little precision for much less time and memory.
 */
export interface MatchFinder {
  find(scan: number): number;
  readonly pos: number;
}

/**
 * Runs the matcher over `next` against `old`, looking matches up with `finder` (a SuffixArrayFinder for bsdiff's
 * exact behaviour). Yields every control; their add and copy lengths sum to `next.length`.
 */
export function* bsdiffSteps(
  old: Uint8Array,
  next: Uint8Array,
  finder: MatchFinder,
): Generator<BsdiffStep, void, undefined> {
  const oldSize = old.length;
  const newSize = next.length;
  const matcher = finder;
  let scan = 0;
  let len = 0;
  let pos = 0;
  let lastScan = 0;
  let lastPos = 0;
  let lastOffset = 0;
  let nextTick = PROGRESS_INTERVAL;

  while (scan < newSize) {
    // oldScore: how many bytes of the candidate match [scan, scan + len) already agree at the current alignment.
    let oldScore = 0;
    scan += len;
    let counted = scan;
    for (; scan < newSize; scan++) {
      if (scan >= nextTick) {
        yield { kind: 'progress', scanned: scan };
        nextTick = scan + PROGRESS_INTERVAL;
      }
      len = matcher.find(scan);
      pos = matcher.pos;
      for (; counted < scan + len; counted++) {
        if (counted + lastOffset < oldSize && old[counted + lastOffset] === next[counted]) oldScore++;
      }
      // Stop on a match that the current alignment already explains entirely (skip over it), or one clearly
      // better than it (start a new control).
      if ((len === oldScore && len !== 0) || len > oldScore + MIN_GAIN) break;
      if (scan + lastOffset < oldSize && old[scan + lastOffset] === next[scan]) oldScore--;
    }
    if (len === oldScore && scan !== newSize) continue;

    // Extend the previous match forwards while more than half of the bytes agree; keep the best such length.
    let lenf = 0;
    {
      let s = 0;
      let best = 0;
      for (let i = 0; lastScan + i < scan && lastPos + i < oldSize; ) {
        if (old[lastPos + i] === next[lastScan + i]) s++;
        i++;
        if (s * 2 - i > best * 2 - lenf) {
          best = s;
          lenf = i;
        }
      }
    }
    // Extend the new match backwards the same way (not at the end of the file: there is no new match there).
    let lenb = 0;
    if (scan < newSize) {
      let s = 0;
      let best = 0;
      for (let i = 1; scan >= lastScan + i && pos >= i; i++) {
        if (old[pos - i] === next[scan - i]) s++;
        if (s * 2 - i > best * 2 - lenb) {
          best = s;
          lenb = i;
        }
      }
    }
    // Where the extensions overlap, split at the point that keeps the most agreeing bytes on either side.
    if (lastScan + lenf > scan - lenb) {
      const overlap = lastScan + lenf - (scan - lenb);
      let s = 0;
      let best = 0;
      let split = 0;
      for (let i = 0; i < overlap; i++) {
        if (next[lastScan + lenf - overlap + i] === old[lastPos + lenf - overlap + i]) s++;
        if (next[scan - lenb + i] === old[pos - lenb + i]) s--;
        if (s > best) {
          best = s;
          split = i + 1;
        }
      }
      lenf += split - overlap;
      lenb -= split;
    }

    yield {
      kind: 'control',
      control: {
        addLength: lenf,
        copyLength: scan - lenb - (lastScan + lenf),
        seek: pos - lenb - (lastPos + lenf),
        newStart: lastScan,
        oldStart: lastPos,
      },
    };
    lastScan = scan - lenb;
    lastPos = pos - lenb;
    lastOffset = pos - scan;
  }
}

/** Longest prefix of `next[scan..]` that occurs in `old`, by binary search over old's suffix array (from buildSuffixArray). */
export class SuffixArrayFinder implements MatchFinder {
  /** Old offset of the last match found. */
  pos = 0;

  constructor(
    private readonly old: Uint8Array,
    private readonly sa: Int32Array,
    private readonly next: Uint8Array,
  ) {}

  /** Returns the match length and sets `pos`. */
  find(scan: number): number {
    const { sa, next } = this;
    const n = sa.length;
    if (n === 0 || scan >= next.length) {
      this.pos = 0;
      return 0;
    }
    let lo = 0;
    let hi = n - 1;
    let lcpLo = this.lcp(sa[lo]!, scan, 0);
    let lcpHi = this.lcp(sa[hi]!, scan, 0);
    const want = next.length - scan;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      const p = sa[mid]!;
      // Every suffix between lo and hi shares at least min(lcpLo, lcpHi) bytes with the pattern.
      const l = this.lcp(p, scan, Math.min(lcpLo, lcpHi));
      if (l === want) {
        this.pos = p;
        return l;
      }
      // An old suffix that ends first (is a prefix of the pattern) sorts before it.
      if (p + l === this.old.length || this.old[p + l]! < next[scan + l]!) {
        lo = mid;
        lcpLo = l;
      } else {
        hi = mid;
        lcpHi = l;
      }
    }
    if (lcpLo >= lcpHi) {
      this.pos = sa[lo]!;
      return lcpLo;
    }
    this.pos = sa[hi]!;
    return lcpHi;
  }

  /** Common prefix length of old[p..] and next[s..], known to be at least `from`. */
  private lcp(p: number, s: number, from: number): number {
    const { old, next } = this;
    const max = Math.min(old.length - p, next.length - s);
    let k = from;
    while (k < max && old[p + k] === next[s + k]) k++;
    return k;
  }
}
