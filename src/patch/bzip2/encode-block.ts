/** Compresses one bzip2 block (already run-length coded by the encoder's first stage) into a BitWriter. */
import type { BitWriter } from './bit-writer.js';
import { bwtEncode } from './bwt.js';
import { BLOCK_MAGIC_HI, BLOCK_MAGIC_LO, GROUP_SIZE } from './format.js';
import { canonicalCodes } from './huffman.js';
import { mtfRleEncode } from './mtf-rle.js';
import { chooseTables } from './table-select.js';

/** Writes the block header, tables and coded symbols of a non-empty `block` whose finished CRC is `blockCrc`. */
export function encodeBlock(out: BitWriter, block: Uint8Array, blockCrc: number): void {
  const { last, origPtr } = bwtEncode(block);

  const inUse = new Uint8Array(256);
  for (let i = 0; i < block.length; i++) inUse[block[i]!] = 1;
  const seqOf = new Uint8Array(256);
  let nInUse = 0;
  for (let b = 0; b < 256; b++) if (inUse[b]) seqOf[b] = nInUse++;

  const mtf = mtfRleEncode(last, seqOf, nInUse);
  const { lengths, selectors } = chooseTables(mtf);

  out.bits(24, BLOCK_MAGIC_HI);
  out.bits(24, BLOCK_MAGIC_LO);
  out.uint32(blockCrc);
  out.bit(0); // not randomised: that obsolete mode was only ever written by bzip2 0.9.0
  out.bits(24, origPtr);
  writeByteMap(out, inUse);

  out.bits(3, lengths.length);
  out.bits(15, selectors.length);
  // Selectors are sent move-to-front coded, in unary: consecutive groups tend to reuse recent tables.
  const order = Uint8Array.from(lengths.keys());
  for (const sel of selectors) {
    let j = order.indexOf(sel);
    out.bits(j + 1, ((1 << j) - 1) << 1);
    for (; j > 0; j--) order[j] = order[j - 1]!;
    order[0] = sel;
  }
  // Code lengths as deltas from the previous symbol's: '10' adds one, '11' subtracts one, '0' ends the symbol.
  for (const table of lengths) {
    let cur = table[0]!;
    out.bits(5, cur);
    for (let s = 0; s < mtf.alphaSize; s++) {
      const len = table[s]!;
      for (; cur < len; cur++) out.bits(2, 2);
      for (; cur > len; cur--) out.bits(2, 3);
      out.bit(0);
    }
  }

  const codes = lengths.map((table) => canonicalCodes(table, mtf.alphaSize));
  const { symbols, length } = mtf;
  for (let g = 0; g < selectors.length; g++) {
    const table = lengths[selectors[g]!]!;
    const code = codes[selectors[g]!]!;
    const end = Math.min((g + 1) * GROUP_SIZE, length);
    for (let i = g * GROUP_SIZE; i < end; i++) {
      const sym = symbols[i]!;
      out.bits(table[sym]!, code[sym]!);
    }
  }
}

/** The used-byte map: 16 bits saying which 16-byte ranges are used, then 16 bits for each used range. */
function writeByteMap(out: BitWriter, inUse: Uint8Array): void {
  let ranges = 0;
  for (let r = 0; r < 16; r++) {
    for (let j = 0; j < 16; j++) if (inUse[r * 16 + j]) ranges |= 0x8000 >>> r;
  }
  out.bits(16, ranges);
  for (let r = 0; r < 16; r++) {
    if (!(ranges & (0x8000 >>> r))) continue;
    let bits = 0;
    for (let j = 0; j < 16; j++) if (inUse[r * 16 + j]) bits |= 0x8000 >>> j;
    out.bits(16, bits);
  }
}
