import type { NotsotufError } from '../../core/errors.js';
import { patchInvalid } from '../patch-errors.js';

/**
 * notsotuf patch format, version 6 (codec name `notsotuf`; version 5 is version 6 without PAGES and DIGESTS,
 * version 4 is version 5 without PREDICT mode 2, version 3 is version 4 without PREDICT, version 2 is version 3
 * without FILTER; all are still read). A patch is written
 * as the lowest version that has what it uses (see formatVersion), so clients that read only older versions can
 * apply it whenever it does not need the newer one. Little-endian throughout.
 *
 * ```
 * offset  size  field
 * 0       16    magic "NOTSOTUF-PATCH" 0x00 0x06   (the last byte is the format version: 3 to 6, see above)
 * 16      8     oldSize   size of the base file the patch applies to
 * 24      8     newSize   size of the file it produces
 * 32      32    compressed length of each stream (uint64): ops, diff runs, diff bytes, extra
 * 64      4     how each stream is compressed: 0 brotli, 1 bzip2, 2 lzma (the smallest measured is chosen)
 * 68      1     diff form: 0 run-length coded (runs + bytes), 1 plain (the bytes stream holds every diff byte and
 *               the runs stream is empty: length 0, compression 0)
 * 69      3     reserved, 0
 * 72      ...   the four compressed streams, back to back, nothing after them
 * ```
 *
 * The ops stream is a sequence of instructions, each a kind byte and varints (LEB128, unsigned; the old offset
 * is a zigzag-encoded delta from the end of the previous old read, so nearby reads cost one or two bytes):
 * - `0` COPY   delta, length: copy `length` bytes of the old file from `oldPos + delta`
 * - `1` ADD    delta, length: old bytes plus `length` diff bytes, bytewise mod 256 (bsdiff's "diff")
 * - `2` INSERT length: `length` bytes of the extra stream
 * - `3` FILTER word, stride, length, delta, oldLength (version 3): the next `length` bytes of output, made by the
 *   instructions that follow, are in the filtered form of delta-filter.ts (words of `word` = 4 or 8 bytes minus
 *   the word `stride` bytes before; `stride` a multiple of `word`, at most 256) and are unfiltered as they are
 *   output. Those instructions read the filtered form of the old region [oldPos + delta, … + oldLength), and
 *   must stay inside it and end exactly at the region's end; no FILTER inside another. The old region's
 *   filtered form is computed from the region's own bytes (position 0 = its start). The creator puts tables of
 *   addresses here (ELF .eh_frame_hdr, .rela.dyn; see filter-regions.ts): moved code changes all their entries
 *   but not the differences between them.
 * - `4` PREDICT mode (version 4): `1` starts a predicted section, `0` ends it. In a section, the ADDs outside
 *   filtered regions take the diff of x86 branch and address fields against a prediction instead of the old
 *   bytes (rel32.ts): each ADD, in chunks of 256 KiB from its start, is scanned for such fields, and a field's
 *   four bytes are new = prediction + diff (bytewise mod 256) where other bytes are new = old + diff. The
 *   prediction maps the field's old target through the section's own ADD and COPY instructions outside filtered
 *   regions, so the applier reads a section's instructions (at most MAX_PREDICT_SECTION bytes) before it runs
 *   them. Sections do not nest, begin outside a filtered region, and end outside one.
 *   Mode `2` (version 5), followed by a varint `oldOrigin` (at most oldSize), starts a section predicted for arm64
 *   (arm64.ts): in each ADD chunk, the `B`/`BL` instructions and the `ADRP` + `ADD`/load/store pairs at
 *   multiples of 4 in the file are new = prediction + diff, 4 or 8 bytes each. Positions in that file count from
 *   the section's start in the new output and from `oldOrigin` in the base, since ADRP's pages are the file's.
 * - `5` PAGES pageShift, limit, types (version 6): from here, the next `limit` bytes of output are hashed in pages
 *   of 2^pageShift bytes (12 to 16; the last page may be shorter) with each hash type whose bit is set in
 *   `types` (PAGE_HASHES: 1 SHA-1, 2 SHA-256, 3 SHA-256 cut to 20 bytes, 4 SHA-384, the code directory hash types
 *   of Apple's code signatures). A PAGES replaces the one before it only once all of that one's bytes are output.
 * - `6` DIGESTS type, first, count (version 6): outputs the type-`type` digests of pages `first` … `first + count
 *   − 1` of the last PAGES, each of which must be complete, back to back. A signed Mach-O's code directory holds
 *   such a digest of every page of the file before it: the creator lets the applier recompute them from the
 *   output (a moved instruction changes its page's digest, which no diff can predict). PAGES and DIGESTS are not
 *   allowed inside a filtered region.
 *
 * The diff bytes of all ADDs, one sequence, are mostly zeros (an approximate match agrees on most bytes), so they
 * are stored run-length coded in two streams: the runs stream holds varint pairs (zeros, others): `zeros` zero
 * bytes, then `others` bytes taken from the diff bytes stream. Measured on the 183 MB benchmark pair: 4.7 MB
 * (LZMA) instead of 5.6 MB for the plain diff bytes with bzip2, and 5× faster to compress than LZMA on the plain
 * bytes. On small diffs bzip2's block sorting of the plain bytes can win (esbuild 0.23.0 → 0.23.1: 207 KB vs
 * 215 KB), so the creator may choose the plain form. The output is exactly `newSize` bytes; every stream must be
 * consumed to its end.
 *
 * LZMA streams are `.lzma` files (13-byte header with the exact uncompressed size, see ../lzma/format.ts) with a
 * dictionary of at most MAX_LZMA_DICT, so a client decodes four of them in bounded memory.
 */
export const MAGIC = Buffer.from('NOTSOTUF-PATCH\u0000\u0006', 'latin1');
/** Format versions this code reads: 2 (no FILTER), 3 (no PREDICT), 4 (no arm64 PREDICT), 5 (no PAGES) and 6. */
export const READABLE_VERSIONS: readonly number[] = [2, 3, 4, 5, 6];

/**
 * The version a patch is written as: the lowest that has what it uses, so that clients which read only older
 * versions can still apply it (version 3 without PREDICT, 4 with x86 sections only, 5 with arm64 ones, 6 with
 * page digests).
 */
export function formatVersion(uses: {
  readonly x86: boolean;
  readonly arm64: boolean;
  readonly pages?: boolean;
}): number {
  return uses.pages ? 6 : uses.arm64 ? 5 : uses.x86 ? 4 : 3;
}
export const HEADER_SIZE = 72;
export const METHOD_BROTLI = 0;
export const METHOD_BZIP2 = 1;
export const METHOD_LZMA = 2;
export type StreamMethod = typeof METHOD_BROTLI | typeof METHOD_BZIP2 | typeof METHOD_LZMA;
export const STREAMS = ['ops', 'diff runs', 'diff bytes', 'extra'] as const;
export type StreamName = (typeof STREAMS)[number];
export const OP_COPY = 0;
export const OP_ADD = 1;
export const OP_INSERT = 2;
export const OP_FILTER = 3;
export const OP_PREDICT = 4;
export const OP_PAGES = 5;
export const OP_DIGESTS = 6;
/** The page hash types of PAGES and DIGESTS (Apple's CS_HASHTYPE_*): node's algorithm, and the digest's length. */
export const PAGE_HASHES: Readonly<Record<number, { readonly algorithm: string; readonly size: number }>> = {
  1: { algorithm: 'sha1', size: 20 },
  2: { algorithm: 'sha256', size: 32 },
  3: { algorithm: 'sha256', size: 20 },
  4: { algorithm: 'sha384', size: 48 },
};
export const MIN_PAGE_SHIFT = 12;
export const MAX_PAGE_SHIFT = 16;
export const PREDICT_END = 0;
export const PREDICT_X86 = 1;
export const PREDICT_ARM64 = 2;
/** Most bytes of instructions a predicted section may have (the applier holds them): 64 MiB. */
export const MAX_PREDICT_SECTION = 64 << 20;
/** Files above 2^40 bytes (1 TiB) are not app bundles; the bound keeps offsets in safe integers. */
export const MAX_FILE_SIZE = 2 ** 40;
/**
 * Largest LZMA dictionary a patch may use: 1 MiB. On the benchmark's streams 1, 2, 4 and 8 MiB give the same sizes
 * within 0.05 % (their redundancy is local), and each stream's decoder window is at most this big.
 */
export const MAX_LZMA_DICT = 1 << 20;

export const DIFF_RUNS = 0;
export const DIFF_PLAIN = 1;
export type DiffForm = typeof DIFF_RUNS | typeof DIFF_PLAIN;

export interface PatchHeader {
  /** Format version (the magic's last byte); decodeHeader fills it, encodeHeader writes it (default: the current one). */
  readonly version?: number;
  readonly diffForm: DiffForm;
  readonly oldSize: number;
  readonly newSize: number;
  /** Compressed length of each stream, in STREAMS order. */
  readonly lengths: readonly [number, number, number, number];
  readonly methods: readonly [StreamMethod, StreamMethod, StreamMethod, StreamMethod];
}

export function invalidPatch(message: string, cause?: unknown): NotsotufError {
  return patchInvalid(`Invalid notsotuf patch: ${message}.`, {}, cause);
}

function readSize(buf: Buffer, offset: number, field: string): number {
  const value = buf.readBigUInt64LE(offset);
  if (value > BigInt(MAX_FILE_SIZE)) throw invalidPatch(`${field} ${value} is out of range`);
  return Number(value);
}

export function encodeHeader(h: PatchHeader): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(buf, 0);
  if (h.version !== undefined) buf[MAGIC.length - 1] = h.version;
  buf.writeBigUInt64LE(BigInt(h.oldSize), 16);
  buf.writeBigUInt64LE(BigInt(h.newSize), 24);
  for (const [i, length] of h.lengths.entries()) buf.writeBigUInt64LE(BigInt(length), 32 + 8 * i);
  buf.set(h.methods, 64);
  buf[68] = h.diffForm;
  return buf;
}

function readMethod(buf: Buffer, offset: number): StreamMethod {
  const m = buf[offset];
  if (m !== METHOD_BROTLI && m !== METHOD_BZIP2 && m !== METHOD_LZMA) {
    throw invalidPatch(`unknown stream compression ${m}`);
  }
  return m;
}

/** Parses and checks a header against the patch file's size: the streams must fill the file exactly. */
export function decodeHeader(buf: Buffer, fileSize: number): PatchHeader {
  if (buf.length >= MAGIC.length && buf.subarray(0, MAGIC.length - 1).equals(MAGIC.subarray(0, -1))) {
    const version = buf[MAGIC.length - 1]!;
    if (!READABLE_VERSIONS.includes(version)) {
      throw invalidPatch(
        `format version ${version} is not supported (this notsotuf reads versions ${READABLE_VERSIONS.join(', ')})`,
      );
    }
  }
  if (buf.length < HEADER_SIZE || !buf.subarray(0, MAGIC.length - 1).equals(MAGIC.subarray(0, -1))) {
    throw invalidPatch('wrong magic or truncated header');
  }
  const sizes = STREAMS.map((name, i) => readSize(buf, 32 + 8 * i, `${name} length`));
  const header: PatchHeader = {
    version: buf[MAGIC.length - 1]!,
    diffForm: buf[68] === DIFF_PLAIN ? DIFF_PLAIN : DIFF_RUNS,
    oldSize: readSize(buf, 16, 'oldSize'),
    newSize: readSize(buf, 24, 'newSize'),
    lengths: [sizes[0]!, sizes[1]!, sizes[2]!, sizes[3]!],
    methods: [readMethod(buf, 64), readMethod(buf, 65), readMethod(buf, 66), readMethod(buf, 67)],
  };
  if (buf[68] !== DIFF_RUNS && buf[68] !== DIFF_PLAIN) throw invalidPatch(`unknown diff form ${buf[68]}`);
  if (buf[69] !== 0 || buf.readUInt16LE(70) !== 0) throw invalidPatch('the reserved header bytes are not 0');
  if (buf[68] === DIFF_PLAIN && (header.lengths[1] !== 0 || header.methods[1] !== 0)) {
    throw invalidPatch('a plain diff with a runs stream');
  }
  if (HEADER_SIZE + sizes.reduce((a, b) => a + b, 0) !== fileSize) {
    throw invalidPatch('stream lengths do not add up to the file size');
  }
  return header;
}

/** Appends an unsigned LEB128 varint. */
export function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

export function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}
