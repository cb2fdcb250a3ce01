/**
 * Parses one bzip2 block body (after its magic and CRC) into the inverse-BWT link table. Every count read from
 * the stream is range-checked before it sizes a loop or indexes an array, and nothing is allocated from it: all
 * buffers are sized by the stream's block size digit, itself checked to be 1..9.
 */
import type { BitWindow } from './bit-window.js';
import {
  bzip2Invalid,
  MAX_ALPHA_SIZE,
  MAX_CODE_LEN,
  MAX_GROUPS,
  MAX_RUN_WEIGHT,
  MAX_SELECTORS,
  MIN_GROUPS,
} from './format.js';
import { HuffmanDecoder, LOOKUP_BITS } from './huffman.js';
import { RUNB } from './mtf-rle.js';

export interface DecodedBlock {
  /** Bytes in the block (before the final run-length stage is undone). */
  readonly length: number;
  /** Entry of `tt` to start the output walk from. */
  readonly start: number;
}

/** Reusable decoding state for blocks of up to `blockMax` bytes. */
export class BlockDecoder {
  /**
   * Low 8 bits: the BWT output byte at each position; high 24 bits: the inverse-BWT link. One array, as in
   * bzip2, so a 900k block needs 3.6 MB. At least as long as the last block read.
   */
  tt: Uint32Array;
  private readonly tables = Array.from({ length: MAX_GROUPS }, () => new HuffmanDecoder());
  private readonly selectors = new Uint8Array(MAX_SELECTORS);
  private readonly lengths = new Uint8Array(MAX_ALPHA_SIZE);
  /** Occurrences of each byte value in the block, counted while decoding its symbols. */
  private readonly counts = new Int32Array(256);

  constructor(readonly blockMax: number) {
    // Grown on demand up to blockMax: most bsdiff control blocks are a few kB, not 900k.
    this.tt = new Uint32Array(Math.min(blockMax, 64 * 1024));
  }

  /** Makes room for `n` entries (n ≤ blockMax, checked by the caller). */
  private grow(n: number): Uint32Array {
    const grown = new Uint32Array(Math.min(Math.max(n, this.tt.length * 2), this.blockMax));
    grown.set(this.tt);
    this.tt = grown;
    return grown;
  }

  /** Reads the block body at the window's position. */
  read(win: BitWindow): DecodedBlock {
    if (win.bit() !== 0) {
      throw bzip2Invalid('randomised blocks (written only by bzip2 0.9.0, 1998) are not supported');
    }
    const origPtr = win.bits(24);
    if (origPtr >= this.blockMax) throw bzip2Invalid('origPtr is past the block size', { origPtr });

    const seqToByte = readByteMap(win);
    const nInUse = seqToByte.length;
    const alphaSize = nInUse + 2;

    const nGroups = win.bits(3);
    if (nGroups < MIN_GROUPS || nGroups > MAX_GROUPS) throw bzip2Invalid('bad table count', { nGroups });
    const nSelectors = win.bits(15);
    if (nSelectors < 1 || nSelectors > MAX_SELECTORS) {
      throw bzip2Invalid('bad selector count', { nSelectors });
    }
    this.readSelectors(win, nGroups, nSelectors);
    for (let t = 0; t < nGroups; t++) {
      readCodeLengths(win, this.lengths, alphaSize);
      this.tables[t]!.build(this.lengths, alphaSize);
    }
    const length = this.readSymbols(win, seqToByte, nSelectors);
    if (origPtr >= length) throw bzip2Invalid('origPtr is past the end of the block', { origPtr, length });
    return { length, start: this.linkInverseBwt(length, origPtr) };
  }

  /** Selectors are unary-coded move-to-front indices of the table each group of 50 symbols uses. */
  private readSelectors(win: BitWindow, nGroups: number, nSelectors: number): void {
    const order = [0, 1, 2, 3, 4, 5];
    for (let i = 0; i < nSelectors; i++) {
      let j = 0;
      while (win.bit() === 1) {
        if (++j >= nGroups) throw bzip2Invalid('a selector names a missing table');
      }
      const sel = order[j]!;
      for (; j > 0; j--) order[j] = order[j - 1]!;
      order[0] = sel;
      this.selectors[i] = sel;
    }
  }

  /**
   * Decodes symbols until EOB into tt's low bytes (undoing RUNA/RUNB and move-to-front), counting each byte value
   * for the inverse BWT; returns the count of bytes.
   *
   * The hot loop of the decoder, so the bit reader is inlined: `bits` holds the next `nBits` (25..32 after a
   * refill) input bits in its low bits, refilled a byte at a time from the window's buffer, and each symbol is one
   * lookup-table read (codes up to LOOKUP_BITS long) or the canonical walk. The window keeps SLACK zero bytes after
   * its data, and the position consumed is checked against the data's end after every symbol, so the refill never
   * reads more than 4 bytes past the data and a code never decodes from bits past it.
   */
  private readSymbols(win: BitWindow, seqToByte: Uint8Array, nSelectors: number): number {
    let tt = this.tt;
    const counts = this.counts;
    counts.fill(0);
    const blockMax = this.blockMax;
    const eob = seqToByte.length + 1;
    const mtf = Uint8Array.from(seqToByte);
    const selectors = this.selectors;
    const tables = this.tables;
    const buf = win.buf;
    const endBits = win.byteLength * 8;
    // Bit reader state: next byte to load, and the loaded-but-unread bits.
    let next = win.pos >>> 3;
    let bits = 0;
    let nBits = 0;
    const skip = win.pos & 7;
    if (skip !== 0) {
      bits = buf[next++]!;
      nBits = 8 - skip;
    }
    let n = 0;
    let group = -1;
    let left = 0;
    let table = tables[0]!;
    let lookup = table.lookup;
    let runLength = 0;
    let runWeight = 1;
    for (;;) {
      if (left === 0) {
        if (++group >= nSelectors) throw bzip2Invalid('more symbols than selectors');
        table = tables[selectors[group]!]!;
        lookup = table.lookup;
        left = 50;
      }
      left--;
      while (nBits <= 24) {
        bits = (bits << 8) | buf[next++]!;
        nBits += 8;
      }
      // The next 32 bits, most significant first (garbage above nBits shifted out, zeros below).
      const top = (bits << (32 - nBits)) >>> 0;
      let e = lookup[top >>> (32 - LOOKUP_BITS)]!;
      if (e === 0) e = table.decodeLong(top);
      nBits -= e & 31;
      if (next * 8 - nBits > endBits) throw win.overrun();
      const sym = e >>> 5;
      if (sym <= RUNB) {
        // RUNA (0) or RUNB (1). Bounded before the multiplication can grow: a run longer than a block is
        // malformed anyway.
        if (runWeight >= MAX_RUN_WEIGHT) throw bzip2Invalid('a zero run is longer than a block');
        runLength += (sym + 1) * runWeight;
        runWeight <<= 1;
        continue;
      }
      if (runLength > 0) {
        if (runLength > blockMax - n) throw bzip2Invalid('the block is longer than its declared size');
        if (n + runLength > tt.length) tt = this.grow(n + runLength);
        const b = mtf[0]!;
        tt.fill(b, n, n + runLength);
        counts[b]! += runLength;
        n += runLength;
        runLength = 0;
        runWeight = 1;
      }
      if (sym === eob) break;
      if (n >= blockMax) throw bzip2Invalid('the block is longer than its declared size');
      if (n >= tt.length) tt = this.grow(n + 1);
      // sym - 1 is the MTF index (1..nInUse-1; the decoder table has no larger symbols).
      const j = sym - 1;
      const b = mtf[j]!;
      // Short moves dominate; long ones (random data) are cheaper as one native memmove.
      if (j < 16) for (let k = j; k > 0; k--) mtf[k] = mtf[k - 1]!;
      else mtf.copyWithin(1, 0, j);
      mtf[0] = b;
      counts[b]!++;
      tt[n++] = b;
    }
    win.pos = next * 8 - nBits;
    return n;
  }

  /**
   * Turns tt's bytes into the inverse-BWT walk: for the i-th occurrence of byte c in the last column, the row
   * it continues to is (rows before c's bucket) + i. Returns the first link to follow for the block's first byte.
   */
  private linkInverseBwt(n: number, origPtr: number): number {
    const tt = this.tt;
    // The byte counts come from readSymbols; they become each byte's first row.
    const next = this.counts;
    let sum = 0;
    for (let c = 0; c < 256; c++) {
      const count = next[c]!;
      next[c] = sum;
      sum += count;
    }
    for (let i = 0; i < n; i++) {
      const c = tt[i]! & 0xff;
      tt[next[c]!++]! |= i << 8;
    }
    return tt[origPtr]! >>> 8;
  }
}

/** The used-byte map: which of the 256 byte values occur, in increasing order. */
function readByteMap(win: BitWindow): Uint8Array {
  const ranges = win.bits(16);
  const used: number[] = [];
  for (let r = 0; r < 16; r++) {
    if (!(ranges & (0x8000 >>> r))) continue;
    const bits = win.bits(16);
    for (let j = 0; j < 16; j++) if (bits & (0x8000 >>> j)) used.push(r * 16 + j);
  }
  if (used.length === 0) throw bzip2Invalid('a block uses no byte values');
  return Uint8Array.from(used);
}

/** Delta-coded code lengths; each must stay within 1..20 at every step, as bzip2 checks. */
function readCodeLengths(win: BitWindow, out: Uint8Array, alphaSize: number): void {
  let cur = win.bits(5);
  for (let s = 0; s < alphaSize; s++) {
    for (;;) {
      if (cur < 1 || cur > MAX_CODE_LEN) throw bzip2Invalid('a Huffman code length is out of range');
      if (win.bit() === 0) break;
      cur += win.bit() === 0 ? 1 : -1;
    }
    out[s] = cur;
  }
}
