import type { NotsotufError } from '../../core/errors.js';
import { patchInvalid } from '../patch-errors.js';

/**
 * The `.lzma` ("LZMA_Alone") header, 13 bytes: one properties byte `(pb * 5 + lp) * 9 + lc`, the dictionary size
 * (uint32 LE) and the uncompressed size (uint64 LE, all ones when unknown: the data then ends with an end
 * marker). It is what `xz --format=lzma` and liblzma's alone encoder write.
 */
export const ALONE_HEADER_SIZE = 13;
/** Literal coder contexts are 0x300 << (lc + lp) probabilities; LZMA2's limit lc + lp ≤ 4 keeps that at 24 KiB. */
const MAX_LC_PLUS_LP = 4;

export interface LzmaProperties {
  readonly lc: number;
  readonly lp: number;
  readonly pb: number;
  readonly dictSize: number;
  /** Bytes the stream decodes to, or undefined when it ends with an end marker instead. */
  readonly size: number | undefined;
}

export function lzmaInvalid(message: string, cause?: unknown): NotsotufError {
  return patchInvalid(`Invalid LZMA stream: ${message}.`, {}, cause);
}

/** Parses an alone header; `maxSize` bounds the declared uncompressed size (larger is PATCH_INVALID). */
export function parseAloneHeader(head: Uint8Array, maxSize: number): LzmaProperties {
  if (head.length < ALONE_HEADER_SIZE) throw lzmaInvalid('the header is truncated');
  let d = head[0]!;
  if (d >= 9 * 5 * 5) throw lzmaInvalid('bad properties byte');
  const lc = d % 9;
  d = Math.floor(d / 9);
  const lp = d % 5;
  const pb = Math.floor(d / 5);
  if (lc + lp > MAX_LC_PLUS_LP) throw lzmaInvalid(`lc + lp = ${lc + lp} is above ${MAX_LC_PLUS_LP}`);
  const view = new DataView(head.buffer, head.byteOffset, ALONE_HEADER_SIZE);
  const dictSize = view.getUint32(1, true);
  const low = view.getUint32(5, true);
  const high = view.getUint32(9, true);
  let size: number | undefined;
  if (low !== 0xffffffff || high !== 0xffffffff) {
    size = high * 2 ** 32 + low;
    if (size > maxSize) throw lzmaInvalid(`declared size ${size} is above the limit ${maxSize}`);
  }
  return { lc, lp, pb, dictSize, size };
}

/** Writes an alone header for the given properties. */
export function encodeAloneHeader(p: LzmaProperties): Uint8Array {
  const head = new Uint8Array(ALONE_HEADER_SIZE);
  const view = new DataView(head.buffer);
  head[0] = (p.pb * 5 + p.lp) * 9 + p.lc;
  view.setUint32(1, p.dictSize, true);
  if (p.size === undefined) head.fill(0xff, 5);
  else {
    view.setUint32(5, p.size % 2 ** 32, true);
    view.setUint32(9, Math.floor(p.size / 2 ** 32), true);
  }
  return head;
}
