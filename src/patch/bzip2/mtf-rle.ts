/**
 * bzip2's second stage: move-to-front over the BWT output, with runs of MTF zeros written as bijective base-2
 * numbers in the RUNA/RUNB digits, every other MTF index i as symbol i + 1, and EOB last.
 */

/** Zero-run digits: RUNA weighs 1 << k and RUNB 2 << k at digit k. */
export const RUNA = 0;
export const RUNB = 1;

export interface MtfSymbols {
  /** The symbols, EOB included. */
  readonly symbols: Uint16Array;
  readonly length: number;
  /** How often each symbol occurs (initial table sizing). */
  readonly freq: Int32Array;
  /** Alphabet size: used bytes + RUNA/RUNB + EOB - 1 (MTF index 0 never appears on its own). */
  readonly alphaSize: number;
}

/** Encodes the BWT output `last`; `seqOf` maps each used byte to its rank among the used bytes. */
export function mtfRleEncode(last: Uint8Array, seqOf: Uint8Array, nInUse: number): MtfSymbols {
  const alphaSize = nInUse + 2;
  const eob = nInUse + 1;
  // A run of z zeros takes at most z symbols, every other byte one symbol, plus EOB.
  const symbols = new Uint16Array(last.length + 1);
  const freq = new Int32Array(alphaSize);
  const order = new Uint8Array(nInUse);
  for (let i = 0; i < nInUse; i++) order[i] = i;
  let length = 0;
  let zeros = 0;
  const flushZeros = (): void => {
    // Bijective base 2, least significant digit first: z = sum of (digit + 1) << k.
    let z = zeros - 1;
    for (;;) {
      const digit = z & 1 ? RUNB : RUNA;
      symbols[length++] = digit;
      freq[digit]!++;
      if (z < 2) break;
      z = (z - 2) >> 1;
    }
    zeros = 0;
  };
  for (let i = 0; i < last.length; i++) {
    const v = seqOf[last[i]!]!;
    if (order[0] === v) {
      zeros++;
      continue;
    }
    if (zeros > 0) flushZeros();
    // Move v to the front. Short moves dominate; long ones (random data) are cheaper as one native memmove.
    let j: number;
    if (order[1] === v) {
      j = 1;
      order[1] = order[0]!;
    } else {
      j = order.indexOf(v);
      order.copyWithin(1, 0, j);
    }
    order[0] = v;
    symbols[length++] = j + 1;
    freq[j + 1]!++;
  }
  if (zeros > 0) flushZeros();
  symbols[length++] = eob;
  freq[eob]!++;
  return { symbols, length, freq, alphaSize };
}
