/**
 * The rolling hash both hash-based matchers index with: a polynomial hash of SEED bytes in 32-bit arithmetic,
 * moved one byte along in constant time.
 */

/** Bytes a seed match must agree on exactly (the window the hash covers). */
export const SEED = 12;
/** Base of the rolling hash (an odd 32-bit multiplier). */
const B = 0x01000193;

function power(base: number, exp: number): number {
  let r = 1;
  for (let i = 0; i < exp; i++) r = Math.imul(r, base);
  return r;
}
const B_POW_SEED = power(B, SEED);

/** The hash of buf[pos, pos + SEED). */
export function hashAt(buf: Uint8Array, pos: number): number {
  let h = 0;
  for (let i = 0; i < SEED; i++) h = (Math.imul(h, B) + buf[pos + i]!) | 0;
  return h;
}

/** The hash of the window one byte further: `out` leaves it, `inp` enters it. */
export function roll(h: number, out: number, inp: number): number {
  return (Math.imul(h, B) + inp - Math.imul(out, B_POW_SEED)) | 0;
}
