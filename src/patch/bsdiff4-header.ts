/**
 * The BSDIFF40 header (what tufup's bsdiff4 and Debian's bsdiff write): the 8-byte magic, then three 64-bit
 * integers: compressed control block length, compressed diff block length, new file size. Integers in bsdiff are
 * sign-magnitude, little-endian: the low 63 bits are the magnitude and the top bit of the last byte is the sign.
 */
import { patchInvalid } from './patch-errors.js';

export const BSDIFF4_MAGIC: Uint8Array = new TextEncoder().encode('BSDIFF40');
export const BSDIFF4_HEADER_SIZE = 32;
/** Larger new files are refused before any work: tufup archives are far smaller, and 2^40 keeps sums safe. */
export const MAX_NEW_SIZE = 2 ** 40;

export interface Bsdiff4Header {
  readonly controlLength: number;
  readonly diffLength: number;
  readonly newSize: number;
}

/** Writes `value` (a safe integer) as a bsdiff sign-magnitude int64 at `buf[offset..offset + 8)`. */
export function writeInt64(buf: Uint8Array, offset: number, value: number): void {
  let mag = Math.abs(value);
  for (let i = 0; i < 8; i++) {
    buf[offset + i] = mag % 256;
    mag = Math.floor(mag / 256);
  }
  if (value < 0) buf[offset + 7]! |= 0x80;
}

/**
 * Reads a sign-magnitude int64, or throws PATCH_INVALID naming `field` when its magnitude is 2^53 or more (no
 * valid patch comes near that, and beyond it arithmetic on JS numbers would silently round).
 */
export function readInt64(buf: Uint8Array, offset: number, field: string): number {
  const high = buf[offset + 7]! & 0x7f;
  if (high !== 0 || buf[offset + 6]! > 0x1f) throw patchInvalid(`bsdiff ${field} is out of range`, { field });
  let mag = 0;
  for (let i = 6; i >= 0; i--) mag = mag * 256 + buf[offset + i]!;
  // `+ 0` turns a negative zero (sign bit with zero magnitude) into 0.
  return (buf[offset + 7]! & 0x80 ? -mag : mag) + 0;
}

/** Whether `head` starts with the BSDIFF40 magic. */
export function hasBsdiff4Magic(head: Uint8Array): boolean {
  if (head.length < BSDIFF4_MAGIC.length) return false;
  for (let i = 0; i < BSDIFF4_MAGIC.length; i++) if (head[i] !== BSDIFF4_MAGIC[i]) return false;
  return true;
}

export function encodeHeader(header: Bsdiff4Header): Uint8Array {
  const out = new Uint8Array(BSDIFF4_HEADER_SIZE);
  out.set(BSDIFF4_MAGIC);
  writeInt64(out, 8, header.controlLength);
  writeInt64(out, 16, header.diffLength);
  writeInt64(out, 24, header.newSize);
  return out;
}

/**
 * Parses and checks a header against the patch file size (both compressed blocks lie inside the file, the extra
 * block takes the rest) and, when given, the size signed metadata expects. Throws PATCH_INVALID.
 */
export function parseHeader(head: Uint8Array, patchSize: number, expectedSize?: number): Bsdiff4Header {
  if (head.length < BSDIFF4_HEADER_SIZE || patchSize < BSDIFF4_HEADER_SIZE) {
    throw patchInvalid('bsdiff patch is shorter than its header', { patchSize });
  }
  if (!hasBsdiff4Magic(head)) throw patchInvalid('not a bsdiff patch (missing BSDIFF40 magic)');
  const controlLength = readInt64(head, 8, 'control block length');
  const diffLength = readInt64(head, 16, 'diff block length');
  const newSize = readInt64(head, 24, 'new file size');
  if (controlLength < 0 || diffLength < 0 || newSize < 0) {
    throw patchInvalid('bsdiff header has a negative length', { controlLength, diffLength, newSize });
  }
  if (BSDIFF4_HEADER_SIZE + controlLength + diffLength > patchSize) {
    throw patchInvalid('bsdiff block lengths point past the end of the patch', {
      controlLength,
      diffLength,
      patchSize,
    });
  }
  if (newSize > MAX_NEW_SIZE) throw patchInvalid('bsdiff new file size is too large', { newSize });
  if (expectedSize !== undefined && newSize !== expectedSize) {
    throw patchInvalid('the patch builds a file of another size than the release metadata says', {
      newSize,
      expectedSize,
    });
  }
  return { controlLength, diffLength, newSize };
}
