/**
 * Chooses bzip2's Huffman tables: the symbols are cut into groups of 50, each group is coded with one of 2..6
 * tables, and a few rounds of "pick the cheapest table per group, then rebuild each table from the groups that
 * picked it" refine them (a k-means over groups; bzip2 runs 4 rounds too).
 */

import { ENCODER_MAX_CODE_LEN, GROUP_SIZE } from './format.js';
import { codeLengths } from './huffman.js';
import type { MtfSymbols } from './mtf-rle.js';

const REFINE_ROUNDS = 4;
/** Cost given to symbols outside a starting table's range: such a table is not meant to code them. */
const OUTSIDE_COST = 15;

export interface TableChoice {
  /** Code lengths of each table, `alphaSize` entries each. */
  readonly lengths: Uint8Array[];
  /** Table used by each group of 50 symbols. */
  readonly selectors: Uint8Array;
}

/** More tables pay off only once there are enough symbols to amortise sending them (bzip2's thresholds). */
function tableCount(n: number): number {
  if (n < 200) return 2;
  if (n < 600) return 3;
  if (n < 1200) return 4;
  if (n < 2400) return 5;
  return 6;
}

export function chooseTables(mtf: MtfSymbols): TableChoice {
  const { symbols, length, freq, alphaSize } = mtf;
  const nTables = tableCount(length);
  const lengths = Array.from({ length: nTables }, () => new Uint8Array(alphaSize));
  seedTables(lengths, freq, length, alphaSize);

  const nSelectors = Math.ceil(length / GROUP_SIZE);
  const selectors = new Uint8Array(nSelectors);
  const tableFreq = Array.from({ length: nTables }, () => new Int32Array(alphaSize));
  const cost = new Int32Array(nTables);
  // Costs of two tables packed in one int (a group costs at most 50 * 17 < 2^16 per table), as bzip2 does: the
  // per-group scoring is the encoder's hottest loop after the BWT.
  const pairs = Math.ceil(nTables / 2);
  const packed = new Int32Array(alphaSize * 3);
  for (let round = 0; round < REFINE_ROUNDS; round++) {
    for (let s = 0; s < alphaSize; s++) {
      for (let p = 0; p < pairs; p++) {
        packed[s * 3 + p] = lengths[2 * p]![s]! | ((lengths[2 * p + 1]?.[s] ?? 0) << 16);
      }
    }
    for (const f of tableFreq) f.fill(0);
    for (let g = 0; g < nSelectors; g++) {
      const start = g * GROUP_SIZE;
      const end = Math.min(start + GROUP_SIZE, length);
      let c01 = 0;
      let c23 = 0;
      let c45 = 0;
      for (let i = start; i < end; i++) {
        const at = symbols[i]! * 3;
        c01 += packed[at]!;
        c23 += packed[at + 1]!;
        c45 += packed[at + 2]!;
      }
      cost[0] = c01 & 0xffff;
      cost[1] = c01 >>> 16;
      if (nTables > 2) cost[2] = c23 & 0xffff;
      if (nTables > 3) cost[3] = c23 >>> 16;
      if (nTables > 4) cost[4] = c45 & 0xffff;
      if (nTables > 5) cost[5] = c45 >>> 16;
      let best = 0;
      for (let t = 1; t < nTables; t++) if (cost[t]! < cost[best]!) best = t;
      selectors[g] = best;
      const f = tableFreq[best]!;
      for (let i = start; i < end; i++) f[symbols[i]!]!++;
    }
    for (let t = 0; t < nTables; t++) {
      codeLengths(tableFreq[t]!, alphaSize, ENCODER_MAX_CODE_LEN, lengths[t]!);
    }
  }
  return { lengths, selectors };
}

/**
 * Starting tables: the alphabet is cut into nTables contiguous ranges of roughly equal total frequency (MTF
 * output is skewed towards small symbols, so the ranges differ a lot in width), each table cheap inside its range.
 */
function seedTables(lengths: Uint8Array[], freq: Int32Array, total: number, alphaSize: number): void {
  const nTables = lengths.length;
  let remaining = total;
  let start = 0;
  for (let part = nTables; part > 0; part--) {
    const target = remaining / part;
    let end = start - 1;
    let taken = 0;
    while (taken < target && end < alphaSize - 1) taken += freq[++end]!;
    // Like bzip2, give back the last symbol on every other middle range so rounding does not always favour
    // the lower tables.
    if (end > start && part !== nTables && part !== 1 && (nTables - part) % 2 === 1) taken -= freq[end--]!;
    const table = lengths[part - 1]!;
    for (let v = 0; v < alphaSize; v++) table[v] = v >= start && v <= end ? 0 : OUTSIDE_COST;
    start = end + 1;
    remaining -= taken;
  }
}
