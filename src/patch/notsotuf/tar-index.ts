import { checksumMatches } from '../../archive/tar-header.js';
/** One member of a tar: where its header bytes start and where its content lies. */
export interface TarMember {
  readonly path: string;
  /** Offset of the first header block of this member (PAX/GNU extension headers included). */
  readonly headerStart: number;
  readonly dataStart: number;
  readonly dataSize: number;
}

const BLOCK = 512;

function field(buf: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && buf[end] !== 0) end++;
  return Buffer.from(buf.subarray(offset, end)).toString('utf8');
}

function octal(buf: Uint8Array, offset: number, length: number): number | undefined {
  // GNU base-256 for sizes over 8 GiB: high bit of the first byte set.
  if ((buf[offset]! & 0x80) !== 0) {
    let n = buf[offset]! & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + buf[offset + i]!;
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const text = field(buf, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

function paxPath(records: string): string | undefined {
  let path: string | undefined;
  for (const line of records.split('\n')) {
    const m = /^\d+ path=(.*)$/s.exec(line);
    if (m) path = m[1];
  }
  return path;
}

/** Random access to a file's bytes: a buffer, or positional reads of an open file (see file-slices.ts). */
export interface ByteSource {
  readonly size: number;
  /** Bytes [start, start + length), which must lie inside the file; valid until the next read. */
  read(start: number, length: number): Uint8Array;
}

/** A buffer as a ByteSource. */
export function bufferSource(buf: Uint8Array): ByteSource {
  return { size: buf.length, read: (start, length) => buf.subarray(start, start + length) };
}

const ZERO_BLOCK = new Uint8Array(BLOCK);

/** A PAX or GNU long-name record larger than this is not a record a packer writes: not a tar for us. */
const MAX_NAME_RECORD = 1 << 20;

/**
 * Lists the members of an uncompressed tar (ustar, PAX and GNU long names), only as far as a patch needs: paths
 * and byte ranges. Reads only header blocks (and PAX/GNU name records), so a large tar on disk is indexed
 * without reading its contents. Returns undefined for anything that is not a well-formed tar; the caller then
 * diffs the file as a whole, so this parser never has to be trusted for correctness, only for good matches.
 */
export function indexTar(source: ByteSource): TarMember[] | undefined {
  const members: TarMember[] = [];
  let pos = 0;
  let pendingPath: string | undefined;
  let headerStart = 0;
  while (pos + BLOCK <= source.size) {
    const block = source.read(pos, BLOCK);
    if (Buffer.compare(block, ZERO_BLOCK) === 0) return members;
    // Without the checksum the start of an executable can pass for a header: a PE file has NULs where the size
    // is kept, and its code was then matched as nonsense members (a correct patch 19 times bsdiff's size).
    const stored = octal(block, 148, 8);
    if (stored === undefined || !checksumMatches(block, stored)) return undefined;
    const size = octal(block, 124, 12);
    if (size === undefined) return undefined;
    const type = String.fromCharCode(block[156] ?? 0);
    const dataStart = pos + BLOCK;
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (next > source.size) return undefined;
    if (type === 'x' || type === 'L') {
      if (size > MAX_NAME_RECORD) return undefined;
      const text = Buffer.from(source.read(dataStart, size)).toString('utf8');
      pendingPath = type === 'x' ? (paxPath(text) ?? pendingPath) : text.replace(/\0+$/, '');
    } else if (type === 'g') {
      // a global header describes no member
    } else {
      const prefix = field(block, 345, 155);
      const name = field(block, 0, 100);
      const path = pendingPath ?? (prefix ? `${prefix}/${name}` : name);
      members.push({ path, headerStart, dataStart, dataSize: size });
      pendingPath = undefined;
      headerStart = next;
    }
    pos = next;
  }
  return undefined;
}
