/**
 * Constants of the bzip2 format (as written by bzip2 1.0.x / libbzip2, which Python's bz2 module, and so tufup's
 * bsdiff4, uses). Every limit the decoder enforces is listed here with the reason it is safe.
 */
import type { NotsotufError } from '../../core/index.js';
import { patchInvalid } from '../patch-errors.js';

/** 'B', 'Z', 'h': the stream signature, followed by the block size digit '1'..'9'. */
export const STREAM_MAGIC = [0x42, 0x5a, 0x68] as const;
/** Block header magic: the BCD digits of pi, split in two 24-bit halves for the bit reader. */
export const BLOCK_MAGIC_HI = 0x314159;
export const BLOCK_MAGIC_LO = 0x265359;
/** End-of-stream magic: the BCD digits of sqrt(pi). */
export const EOS_MAGIC_HI = 0x177245;
export const EOS_MAGIC_LO = 0x385090;

/** A block holds at most `level * BLOCK_UNIT` bytes after the first run-length stage. */
export const BLOCK_UNIT = 100_000;
/**
 * The encoder stops filling a block 19 bytes short of the limit, as bzip2 does: a pending run can add up to 5
 * bytes when it is flushed, and the decoder rejects blocks over the limit.
 */
export const ENCODER_BLOCK_SLACK = 19;

/** Symbols coded with one Huffman table before the next selector. */
export const GROUP_SIZE = 50;
export const MIN_GROUPS = 2;
export const MAX_GROUPS = 6;
/** 256 byte values (at most 255 MTF positions used) + RUNA + RUNB + EOB - 1 = 258. */
export const MAX_ALPHA_SIZE = 258;
/** The format caps code lengths at 20 bits. */
export const MAX_CODE_LEN = 20;
/** bzip2's encoder uses at most 17; so do we (shorter codes also keep the decoder's bit peeks small). */
export const ENCODER_MAX_CODE_LEN = 17;
/**
 * ceil((900000 + 1) / 50) rounded up as libbzip2 does. A block cannot need more selectors, and bzip2 1.0.8 reads
 * no more than this (CVE-2019-12900 was an overflow past this array).
 */
export const MAX_SELECTORS = 18_002;
/** A zero run (RUNA/RUNB digits) can never exceed a block; bzip2 rejects the run once its digit weight reaches 2^21. */
export const MAX_RUN_WEIGHT = 2 * 1024 * 1024;

/**
 * The most compressed bytes one valid block can take: every symbol of a full 900k block at 20 bits, plus the
 * headers, 18002 selectors of at most 6 bits and 6 tables of 258 code lengths at up to 41 bits each. The streaming
 * decoder buffers this much before decoding a block, so a block that needs more is malformed, not truncated.
 */
export const MAX_BLOCK_BYTES = Math.ceil((9 * BLOCK_UNIT * MAX_CODE_LEN + 200_000) / 8) + 1024;

/** The NotsotufError every malformed-stream check throws. */
export function bzip2Invalid(message: string, details: Record<string, unknown> = {}): NotsotufError {
  return patchInvalid(`bzip2 stream: ${message}`, details);
}
