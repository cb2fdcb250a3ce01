/**
 * The CRC-32 bzip2 uses: the same polynomial as zlib's (0x04c11db7) but processed most-significant bit first
 * ("big-endian", no bit reflection), so node:zlib's crc32 cannot be reused. Initial value and final xor are
 * 0xffffffff as in zlib.
 */

const TABLE: Uint32Array = (() => {
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

/** Adds `count` copies of `byte` to a running CRC (the encoder adds whole runs at once). */
export function crcUpdateRun(crc: number, byte: number, count: number): number {
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
