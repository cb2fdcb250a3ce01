import type { Match, Matcher } from './matcher.js';
import { hashAt, roll, SEED } from './rolling-hash.js';
import { giveBackTable, takeTable } from './table-pool.js';

/** Exact bytes a match at a new offset needs (the current offset needs only SEED): short matches cost more than they save. */
// Measured on typescript 5.5 → 5.6: 12 → 294 KB, 24 → 186 KB, 48 → 162 KB, 96 → 165 KB.
const ACCEPT = 48;
/** How far an approximate extension looks past its best point before giving up. */
const EXTEND_PATIENCE = 256;

function exactForward(old: Uint8Array, o: number, neu: Uint8Array, n: number): number {
  let len = 0;
  const max = Math.min(old.length - o, neu.length - n);
  while (len < max && old[o + len] === neu[n + len]) len++;
  return len;
}

/**
 * bsdiff's criterion for how far an approximate match reaches: the length that maximises
 * 2 × (bytes equal) − (bytes covered), so sparse differences (shifted addresses in native code, edited numbers in
 * text) stay inside a match while a misaligned stretch ends it.
 */
function extendForward(old: Uint8Array, o: number, neu: Uint8Array, n: number, limit: number): number {
  let score = 0;
  let best = 0;
  let bestLen = 0;
  const max = Math.min(old.length - o, limit - n);
  for (let i = 0; i < max; i++) {
    score += old[o + i] === neu[n + i] ? 1 : -1;
    if (score > best) {
      best = score;
      bestLen = i + 1;
    } else if (i - bestLen > EXTEND_PATIENCE) break;
  }
  return bestLen;
}

function extendBackward(old: Uint8Array, o: number, neu: Uint8Array, n: number, floor: number): number {
  let score = 0;
  let best = 0;
  let bestLen = 0;
  const max = Math.min(o, n - floor);
  for (let i = 1; i <= max; i++) {
    score += old[o - i] === neu[n - i] ? 1 : -1;
    if (score > best) {
      best = score;
      bestLen = i;
    } else if (i - bestLen > EXTEND_PATIENCE) break;
  }
  return bestLen;
}

/**
 * A fast bsdiff-class matcher: a rolling-hash index of the old file finds exact seeds of 12 bytes, which grow
 * exactly and then approximately (bsdiff's criterion) in both directions. The offset of the last match is tried
 * first at every position, so code whose addresses shifted keeps matching at its new offset. Linear time; memory
 * is one Int32Array slot per 1–4 bytes of the old file.
 */
export const hashMatcher: Matcher = (old, neu) => matchByHash(old, neu, ACCEPT);

function matchByHash(old: Uint8Array, neu: Uint8Array, accept: number): Match[] {
  const matches: Match[] = [];
  if (old.length < SEED || neu.length < SEED) return matches;
  const step = old.length > 64 << 20 ? 4 : old.length > 16 << 20 ? 2 : 1;
  // About one slot per indexed position: 128 MiB of table for a 100 MB base at most.
  const bits = Math.min(25, Math.max(12, Math.ceil(Math.log2(old.length / step))));
  const shift = 32 - bits;
  const table = takeTable(1 << bits);
  let h = hashAt(old, 0);
  for (let i = 0; ; i++) {
    if (i % step === 0) table[h >>> shift] = i;
    if (i + SEED >= old.length) break;
    h = roll(h, old[i]!, old[i + SEED]!);
  }

  let pos = 0;
  let lastEnd = 0;
  let lastOffset = 0;
  let hasOffset = false;
  h = hashAt(neu, 0);
  while (pos + SEED <= neu.length) {
    let bestOld = -1;
    let bestLen = 0;
    if (hasOffset) {
      const o = pos + lastOffset;
      if (o >= 0 && o < old.length) {
        const len = exactForward(old, o, neu, pos);
        if (len >= SEED) {
          bestOld = o;
          bestLen = len;
        }
      }
    }
    const c = table[h >>> shift]!;
    if (c >= 0 && c !== bestOld) {
      const len = exactForward(old, c, neu, pos);
      if (len > bestLen && len >= SEED) {
        bestOld = c;
        bestLen = len;
      }
    }
    if (bestLen < (bestOld === pos + lastOffset && hasOffset ? SEED : accept)) {
      if (pos + SEED >= neu.length) break;
      h = roll(h, neu[pos]!, neu[pos + SEED]!);
      pos++;
      continue;
    }
    // Grow the seed: exactly backwards, then approximately both ways.
    let start = pos;
    let oStart = bestOld;
    while (start > lastEnd && oStart > 0 && old[oStart - 1] === neu[start - 1]) {
      start--;
      oStart--;
    }
    const back = extendBackward(old, oStart, neu, start, lastEnd);
    start -= back;
    oStart -= back;
    let end = pos + bestLen;
    end += extendForward(old, bestOld + bestLen, neu, end, neu.length);
    matches.push({ newStart: start, oldStart: oStart, length: end - start });
    lastOffset = oStart - start;
    hasOffset = true;
    lastEnd = end;
    pos = end;
    if (pos + SEED <= neu.length) h = hashAt(neu, pos);
  }
  giveBackTable(table);
  return matches;
}
