import { NotsotufError } from '../../core/errors.js';

/**
 * notsotuf patch format, version 1 (codec name `notsotuf`). Little-endian throughout.
 *
 * ```
 * offset  size  field
 * 0       16    magic "NOTSOTUF-PATCH" 0x00 0x01   (the last byte is the format version)
 * 16      8     oldSize   size of the base file the patch applies to
 * 24      8     newSize   size of the file it produces
 * 32      8     opsLength     compressed length of the ops stream
 * 40      8     diffLength    compressed length of the diff stream
 * 48      8     extraLength   compressed length of the extra stream
 * 56      1     opsMethod     how each stream is compressed: 0 brotli, 1 bzip2 (the smaller one is chosen)
 * 57      1     diffMethod
 * 58      1     extraMethod
 * 59      1     reserved, 0
 * 60      ...   ops, diff, extra: the three compressed streams, back to back, nothing after them
 * ```
 *
 * brotli (a 16 MiB window at most) wins on text and literals; bzip2's block sorting wins on the diff bytes of
 * shifted native code (measured: esbuild 0.23.0 → 0.23.1 diff stream, brotli 273 KB, bzip2 240 KB).
 *
 * The ops stream is a sequence of instructions, each a kind byte and varints (LEB128, unsigned; the old offset
 * is a zigzag-encoded delta from the end of the previous old read, so nearby reads cost one or two bytes):
 * - `0` COPY   delta, length: copy `length` bytes of the old file from `oldPos + delta`
 * - `1` ADD    delta, length: old bytes plus `length` bytes of the diff stream, bytewise mod 256 (bsdiff's "diff")
 * - `2` INSERT length: `length` bytes of the extra stream
 * The output is exactly `newSize` bytes; every stream must be consumed to its end.
 */
export const MAGIC = Buffer.from('NOTSOTUF-PATCH\u0000\u0001', 'latin1');
export const HEADER_SIZE = 60;
export const METHOD_BROTLI = 0;
export const METHOD_BZIP2 = 1;
export type StreamMethod = typeof METHOD_BROTLI | typeof METHOD_BZIP2;
export const OP_COPY = 0;
export const OP_ADD = 1;
export const OP_INSERT = 2;
/** Files above 2^40 bytes (1 TiB) are not app bundles; the bound keeps offsets in safe integers. */
export const MAX_FILE_SIZE = 2 ** 40;

export interface PatchHeader {
  readonly oldSize: number;
  readonly newSize: number;
  readonly opsLength: number;
  readonly diffLength: number;
  readonly extraLength: number;
  readonly methods: readonly [StreamMethod, StreamMethod, StreamMethod];
}

export function invalidPatch(message: string, cause?: unknown): NotsotufError {
  return new NotsotufError('PATCH_INVALID', `Invalid notsotuf patch: ${message}.`, {
    ...(cause === undefined ? {} : { cause }),
    hint: 'The patch is damaged or not made for this file; download the full archive instead.',
  });
}

function readSize(buf: Buffer, offset: number, field: string): number {
  const value = buf.readBigUInt64LE(offset);
  if (value > BigInt(MAX_FILE_SIZE)) throw invalidPatch(`${field} ${value} is out of range`);
  return Number(value);
}

export function encodeHeader(h: PatchHeader): Buffer {
  const buf = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(buf, 0);
  buf.writeBigUInt64LE(BigInt(h.oldSize), 16);
  buf.writeBigUInt64LE(BigInt(h.newSize), 24);
  buf.writeBigUInt64LE(BigInt(h.opsLength), 32);
  buf.writeBigUInt64LE(BigInt(h.diffLength), 40);
  buf.writeBigUInt64LE(BigInt(h.extraLength), 48);
  buf.set(h.methods, 56);
  return buf;
}

function readMethod(buf: Buffer, offset: number): StreamMethod {
  const m = buf[offset];
  if (m !== METHOD_BROTLI && m !== METHOD_BZIP2) throw invalidPatch(`unknown stream compression ${m}`);
  return m;
}

/** Parses and checks a header against the patch file's size: the three streams must fill the file exactly. */
export function decodeHeader(buf: Buffer, fileSize: number): PatchHeader {
  if (buf.length < HEADER_SIZE || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw invalidPatch('wrong magic or truncated header');
  }
  const header: PatchHeader = {
    oldSize: readSize(buf, 16, 'oldSize'),
    newSize: readSize(buf, 24, 'newSize'),
    opsLength: readSize(buf, 32, 'opsLength'),
    diffLength: readSize(buf, 40, 'diffLength'),
    extraLength: readSize(buf, 48, 'extraLength'),
    methods: [readMethod(buf, 56), readMethod(buf, 57), readMethod(buf, 58)],
  };
  if (buf[59] !== 0) throw invalidPatch('the reserved header byte is not 0');
  if (HEADER_SIZE + header.opsLength + header.diffLength + header.extraLength !== fileSize) {
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
