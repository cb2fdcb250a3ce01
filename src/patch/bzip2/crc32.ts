/**
 * The CRC-32 bzip2 uses: the same polynomial as zlib's (0x04c11db7) but processed most-significant bit first
 * ("big-endian", no bit reflection), so node:zlib's crc32 cannot be reused. Initial value and final xor are
 * 0xffffffff as in zlib.
 */

/** The byte-at-a-time table: TABLE[i] is the CRC register change for top byte i (the decoder's walk inlines it). */
export const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** The value a block CRC starts from. */
export const CRC_INIT = 0xffffffff;

/** Adds `data[start..end)` to a running (not yet finalised) CRC. */
export function crcUpdate(crc: number, data: Uint8Array, start = 0, end = data.length): number {
  let c = crc;
  for (let i = start; i < end; i++) c = (c << 8) ^ TABLE[(c >>> 24) ^ data[i]!]!;
  return c >>> 0;
}

/**
 * Run tables: for m = 4, 8, …, 128 (RUN_STEPS[k] = 4 << k), what m bytes do to the register. The update is linear
 * over GF(2) in the register and the data, so m copies of byte b turn c into A^m(c) ^ R_m(b), where A^m is m
 * zero-byte steps (applied to each byte of c through four tables) and R_m(b) is m copies of b from a zero register.
 * A run of n bytes then costs one group of five lookups per set bit of n (≥ 4) instead of n dependent steps: the
 * decoder's output is mostly long runs (4 of every 5 bytes on a bsdiff diff block).
 */
const RUN_STEPS = 6;
const RUN_ZERO: Uint32Array[] = [];
const RUN_BYTE: Uint32Array[] = [];

/** A^m(x) for any register x, from the m-step zero tables (A^m is linear: one lookup per byte of x). */
function zeroSteps(zero: Uint32Array, x: number): number {
  return (
    (zero[x & 0xff]! ^
      zero[256 + ((x >>> 8) & 0xff)]! ^
      zero[512 + ((x >>> 16) & 0xff)]! ^
      zero[768 + (x >>> 24)]!) >>>
    0
  );
}

// m = 4 step by step, then each table from the one before by doubling: A^2m = A^m ∘ A^m and
// R_2m(b) = A^m(R_m(b)) ^ R_m(b). A few thousand lookups at import instead of m steps per entry (the step-by-step
// build made 300,000 interpreted steps whose boxed numbers grew node's heap by megabytes at startup).
for (let k = 0; k < RUN_STEPS; k++) {
  const zero = new Uint32Array(4 * 256);
  const byte = new Uint32Array(256);
  const prevZero = RUN_ZERO[k - 1];
  const prevByte = RUN_BYTE[k - 1];
  for (let i = 0; i < 256; i++) {
    for (let j = 0; j < 4; j++) {
      let c = i << (8 * j);
      if (prevZero) c = zeroSteps(prevZero, zeroSteps(prevZero, c));
      else for (let s = 0; s < 4; s++) c = (c << 8) ^ TABLE[c >>> 24]!;
      zero[j * 256 + i] = c >>> 0;
    }
    let c = 0;
    if (prevZero && prevByte) c = zeroSteps(prevZero, prevByte[i]!) ^ prevByte[i]!;
    else for (let s = 0; s < 4; s++) c = (c << 8) ^ TABLE[(c >>> 24) ^ i]!;
    byte[i] = c >>> 0;
  }
  RUN_ZERO.push(zero);
  RUN_BYTE.push(byte);
}

/** Adds `count` copies of `byte` to a running CRC (the encoder adds whole runs at once, the decoder its repeats). */
export function crcUpdateRun(crc: number, byte: number, count: number): number {
  let c = crc;
  let n = count;
  for (let k = RUN_STEPS - 1; k >= 0; k--) {
    const m = 4 << k;
    while (n >= m) {
      const z = RUN_ZERO[k]!;
      c = z[c & 0xff]! ^ z[256 + ((c >>> 8) & 0xff)]! ^ z[512 + ((c >>> 16) & 0xff)]! ^ z[768 + (c >>> 24)]!;
      c ^= RUN_BYTE[k]![byte]!;
      n -= m;
    }
  }
  for (; n > 0; n--) c = (c << 8) ^ TABLE[(c >>> 24) ^ byte]!;
  return c >>> 0;
}

/** The reference: `count` single steps (tests compare crcUpdateRun with it). */
export function crcUpdateRunSlow(crc: number, byte: number, count: number): number {
  let c = crc;
  for (let i = 0; i < count; i++) c = (c << 8) ^ TABLE[(c >>> 24) ^ byte]!;
  return c >>> 0;
}

/** The finished CRC of a block, as stored in the block header. */
export function crcFinal(crc: number): number {
  return ~crc >>> 0;
}

/** Folds a block CRC into the stream CRC (rotate left by one, then xor), as stored after the last block. */
export function combineStreamCrc(streamCrc: number, blockCrc: number): number {
  return (((streamCrc << 1) | (streamCrc >>> 31)) ^ blockCrc) >>> 0;
}
