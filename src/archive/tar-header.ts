/**
 * Pure decoders for tar header blocks and extension records: the reading side of tar-format.ts. No I/O; every
 * decoder returns a tagged result so that tar-reader.ts can say where in the file a problem was found.
 *
 * Names are decoded as strict UTF-8 (what Python's tarfile, and so tufup, writes): a name that is not valid
 * UTF-8 is refused rather than turned into replacement characters that no check ever saw.
 */
import { BLOCK_SIZE } from './tar-format.js';

/** A decoded value, or why the bytes could not be decoded. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The fields of one header block that extraction uses. */
export interface TarHeader {
  /** The member name; for POSIX ustar headers the prefix field is already joined in. */
  name: string;
  mode: number;
  size: number;
  mtime: number;
  /** The typeflag character; `'\0'` is the pre-POSIX form of `'0'`. */
  typeflag: string;
  linkname: string;
}

/** What a PAX extended header may override; other keys are ignored. */
export interface PaxOverrides {
  path?: string;
  linkpath?: string;
  size?: number;
  mtime?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True for an all-zero block: the end-of-archive marker. */
export function isZeroBlock(block: Uint8Array): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/** Decodes one 512-byte header block, verifying its checksum first. */
export function decodeHeader(block: Uint8Array): Decoded<TarHeader> {
  if (block.length !== BLOCK_SIZE) return fail('a header block is incomplete');
  const stored = decodeNumber(block.subarray(148, 156));
  if (stored === undefined || !checksumMatches(block, stored))
    return fail('a header checksum does not match');
  const mode = decodeNumber(block.subarray(100, 108));
  const size = decodeNumber(block.subarray(124, 136));
  const mtime = decodeNumber(block.subarray(136, 148));
  if (mode === undefined || mode < 0) return fail('a header has an invalid mode');
  if (size === undefined || size < 0) return fail('a header has an invalid size');
  if (mtime === undefined) return fail('a header has an invalid mtime');
  const name = decodeString(block.subarray(0, 100));
  const linkname = decodeString(block.subarray(157, 257));
  if (name === undefined || linkname === undefined) return fail('a header name is not valid UTF-8');
  let fullName = name;
  // Only POSIX ustar has a prefix field; GNU headers ("ustar  \0") keep other data in those bytes.
  if (ascii(block.subarray(257, 263)) === 'ustar\0') {
    const prefix = decodeString(block.subarray(345, 500));
    if (prefix === undefined) return fail('a header name is not valid UTF-8');
    if (prefix !== '') fullName = `${prefix}/${name}`;
  }
  const typeflag = String.fromCharCode(block[156]!);
  return { ok: true, value: { name: fullName, mode, size, mtime, typeflag, linkname } };
}

/**
 * A numeric header field: octal digits (leading spaces, ended by NUL or space, empty meaning 0), or GNU base-256
 * (first byte 0x80 for positive, 0xff for negative two's complement), as Python's tarfile reads them. Undefined
 * when the field is malformed or the value is not a safe integer.
 */
export function decodeNumber(field: Uint8Array): number | undefined {
  const first = field[0];
  if (first === 0x80 || first === 0xff) {
    // BigInt: a negative value's bytes exceed 2^53 before the sign is applied.
    let n = 0n;
    for (let i = 1; i < field.length; i++) n = n * 256n + BigInt(field[i]!);
    if (first === 0xff) n -= 256n ** BigInt(field.length - 1);
    const value = Number(n);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const end = field.indexOf(0);
  const text = ascii(end === -1 ? field : field.subarray(0, end)).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  const n = Number.parseInt(text, 8);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The records of a PAX extended header, `"<len> <key>=<value>\n"` each, where len counts the whole record in
 * bytes. Keeps `path`, `linkpath`, `size` and `mtime`; an empty value deletes the override (POSIX), so the
 * header field applies again. Any malformed record refuses the whole header.
 */
export function decodePaxRecords(data: Uint8Array): Decoded<PaxOverrides> {
  const out: PaxOverrides = {};
  let pos = 0;
  while (pos < data.length) {
    // Some writers pad the body with NULs; only a zero tail may follow the last record.
    if (isZeroBlock(data.subarray(pos))) break;
    const space = data.indexOf(0x20, pos);
    const digits = space === -1 ? '' : ascii(data.subarray(pos, space));
    if (!/^[1-9][0-9]{0,8}$/.test(digits)) return fail('a PAX record has an invalid length');
    const end = pos + Number(digits);
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) {
      return fail('a PAX record has an invalid length');
    }
    const eq = data.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1) return fail('a PAX record has no "=" separator');
    const key = decodeString(data.subarray(space + 1, eq), false);
    const raw = data.subarray(eq + 1, end - 1);
    pos = end;
    if (key !== 'path' && key !== 'linkpath' && key !== 'size' && key !== 'mtime') continue;
    const value = decodeString(raw, false);
    if (value === undefined) return fail(`the PAX ${key} is not valid UTF-8`);
    if (value === '') {
      delete out[key];
    } else if (key === 'path' || key === 'linkpath') {
      out[key] = value;
    } else if (key === 'size') {
      const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n)) return fail('the PAX size is not a valid number');
      out.size = n;
    } else {
      const n = /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) return fail('the PAX mtime is not a valid number');
      out.mtime = n;
    }
  }
  return { ok: true, value: out };
}

/** The name held by a GNU long name or long link (`L`/`K`) body: the bytes up to the first NUL. */
export function decodeGnuLongName(data: Uint8Array): Decoded<string> {
  const value = decodeString(data);
  return value === undefined ? fail('a GNU long name is not valid UTF-8') : { ok: true, value };
}

/** Header checksum: the unsigned (POSIX) or signed (old Sun tar) byte sum, with the checksum field as spaces. */
export function checksumMatches(block: Uint8Array, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte < 0x80 ? byte : byte - 0x100;
  }
  return stored === unsigned || stored === signed;
}

/** A string field up to its first NUL (or the whole slice when `nulTerminated` is false), strict UTF-8. */
function decodeString(bytes: Uint8Array, nulTerminated = true): string | undefined {
  const end = nulTerminated ? bytes.indexOf(0) : -1;
  try {
    return utf8.decode(end === -1 ? bytes : bytes.subarray(0, end));
  } catch {
    return undefined;
  }
}

function ascii(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
