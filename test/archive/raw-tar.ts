/**
 * Builds tar files byte by byte for the extractor tests, independently of our writer (tar-format.ts), so that
 * hostile archives can say anything: any typeflag, `..` names, links anywhere, bad checksums, truncation.
 */

export interface RawMember {
  name: string;
  /** The typeflag character; default `'0'`. */
  type?: string;
  /** Data after the header; its length is the size unless `size` says otherwise. */
  data?: Buffer | string;
  /** The size field, when it must lie about the data. */
  size?: number;
  mode?: number;
  mtime?: number;
  linkname?: string;
  /** The ustar prefix field. */
  prefix?: string;
  /** Header magic: POSIX ustar (default), GNU (`ustar  \0`) or none (v7). */
  magic?: 'ustar' | 'gnu' | 'v7';
  /** Write the size field in GNU base-256 form. */
  base256Size?: boolean;
  /** Store a wrong checksum. */
  badChecksum?: boolean;
}

const BLOCK = 512;

/** One 512-byte header block. */
export function rawHeader(m: RawMember): Buffer {
  const data = m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data);
  const block = Buffer.alloc(BLOCK);
  putString(block, 0, 100, m.name);
  putOctal(block, 100, 8, m.mode ?? 0o644);
  putOctal(block, 108, 8, 0);
  putOctal(block, 116, 8, 0);
  const size = m.size ?? data.length;
  if (m.base256Size) {
    block[124] = 0x80;
    let n = size;
    for (let i = 135; i > 124; i--) {
      block[i] = n % 256;
      n = Math.floor(n / 256);
    }
  } else {
    putOctal(block, 124, 12, size);
  }
  putOctal(block, 136, 12, m.mtime ?? 1704110400);
  block.fill(0x20, 148, 156);
  block.write(m.type ?? '0', 156, 'latin1');
  putString(block, 157, 100, m.linkname ?? '');
  const magic = m.magic ?? 'ustar';
  if (magic === 'ustar') {
    block.write('ustar\u000000', 257, 'latin1');
    putString(block, 345, 155, m.prefix ?? '');
  } else if (magic === 'gnu') {
    block.write('ustar  \u0000', 257, 'latin1');
  }
  let sum = 0;
  for (const b of block) sum += b;
  if (m.badChecksum) sum += 1;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

/** Header, data and padding of one member. */
export function rawMember(m: RawMember): Buffer {
  const data = m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data);
  return Buffer.concat([rawHeader(m), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]);
}

/** A whole archive; with `end: false` the two zero blocks are left off (the file just ends). */
export function rawTar(members: RawMember[], options: { end?: boolean } = {}): Buffer {
  const parts = members.map(rawMember);
  if (options.end !== false) parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** The body of a PAX extended header. */
export function paxBody(records: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(records).map(([key, value]) => {
      const rest = Buffer.byteLength(` ${key}=${value}\n`);
      let len = rest + String(rest).length;
      while (String(len).length + rest !== len) len = String(len).length + rest;
      return Buffer.from(`${len} ${key}=${value}\n`);
    }),
  );
}

export const file = (
  name: string,
  data: string | Buffer = 'x',
  extra: Partial<RawMember> = {},
): RawMember => ({
  name,
  data,
  ...extra,
});
export const dir = (name: string, extra: Partial<RawMember> = {}): RawMember => ({
  name,
  type: '5',
  mode: 0o755,
  ...extra,
});
export const symlink = (name: string, target: string): RawMember => ({
  name,
  type: '2',
  linkname: target,
  mode: 0o777,
});
export const hardlink = (name: string, target: string): RawMember => ({ name, type: '1', linkname: target });
export const pax = (records: Record<string, string>): RawMember => ({
  name: '././@PaxHeader',
  type: 'x',
  data: paxBody(records),
});
export const gnuLongName = (name: string): RawMember => ({
  name: '././@LongLink',
  type: 'L',
  data: `${name}\u0000`,
  magic: 'gnu',
});
export const gnuLongLink = (target: string): RawMember => ({
  name: '././@LongLink',
  type: 'K',
  data: `${target}\u0000`,
  magic: 'gnu',
});

function putString(block: Buffer, offset: number, width: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > width) throw new RangeError(`${value} does not fit ${width} bytes`);
  bytes.copy(block, offset);
}

function putOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, 'latin1');
}
