/**
 * Pure encoders for the POSIX tar format (ustar headers plus PAX extended headers where ustar falls short).
 * Everything here is deterministic: the same member always encodes to the same bytes.
 */

/** Size of one tar block. */
export const BLOCK_SIZE = 512;
/** Default record size of GNU tar and Python's tarfile (20 blocks); archives are padded to a multiple of it. */
export const RECORD_SIZE = 10240;
/** Largest value of a 12-byte octal field (11 digits): sizes and mtimes beyond need PAX. */
export const MAX_OCTAL_11 = 0o77777777777;

/** Name of the PAX extended header pseudo-member; the same fixed name Python's tarfile writes. */
const PAX_HEADER_NAME = '././@PaxHeader';
const NAME_LEN = 100;
const PREFIX_LEN = 155;
const LINKNAME_LEN = 100;

/** A tar member as this writer emits it. */
export interface TarMember {
  /** The name in the archive, e.g. `./`, `./dir/`, `./file` (see {@link tarNameFor}). */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  /** Seconds since the epoch, an integer from 0 to {@link MAX_OCTAL_11}. */
  mtime: number;
  linkname?: string;
}

type TypeFlag = '0' | '2' | '5' | 'x';
const TYPE_FLAGS: Record<TarMember['type'], TypeFlag> = { file: '0', symlink: '2', dir: '5' };

/**
 * The tar name for a scanned archive path. Directories get a trailing slash (`.` becomes `./`), as GNU tar and
 * Python's tarfile write them; both read such a name back as the directory, and old readers that ignore the
 * typeflag still see a directory.
 */
export function tarNameFor(path: string, type: TarMember['type']): string {
  return type === 'dir' ? `${path}/` : path;
}

/** All header blocks for one member: a PAX header first when ustar cannot hold it exactly, then the ustar header. */
export function encodeMemberHeader(member: TarMember): Buffer {
  const records: Array<[string, string]> = [];
  let name = member.name;
  let prefix = '';
  const split = isAscii(member.name) ? splitUstarName(member.name) : undefined;
  if (split === undefined) {
    records.push(['path', member.name]);
    name = truncateUtf8(member.name, NAME_LEN);
  } else {
    [prefix, name] = split;
  }
  let linkname = member.linkname ?? '';
  if (!isAscii(linkname) || Buffer.byteLength(linkname) > LINKNAME_LEN) {
    records.push(['linkpath', linkname]);
    linkname = truncateUtf8(linkname, LINKNAME_LEN);
  }
  let size = member.size;
  if (size > MAX_OCTAL_11) {
    records.push(['size', String(size)]);
    size = 0;
  }
  const ustar = encodeUstarHeader({
    ...member,
    name,
    prefix,
    linkname,
    size,
    typeflag: TYPE_FLAGS[member.type],
  });
  if (records.length === 0) return ustar;
  const body = encodePaxRecords(records);
  const pax = encodeUstarHeader({
    name: PAX_HEADER_NAME,
    prefix: '',
    linkname: '',
    mode: 0o644,
    size: body.length,
    mtime: member.mtime,
    typeflag: 'x',
  });
  return Buffer.concat([pax, body, padding(body.length), ustar]);
}

/** Fields of one raw ustar header block; strings must already fit their fields. */
export interface UstarFields {
  name: string;
  prefix: string;
  linkname: string;
  mode: number;
  size: number;
  mtime: number;
  typeflag: TypeFlag;
}

/** One 512-byte ustar header (`ustar\0` magic, `00` version), owner root:root (uid/gid 0). */
export function encodeUstarHeader(f: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, 0, NAME_LEN, f.name);
  writeOctal(block, 100, 8, f.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, f.size);
  writeOctal(block, 136, 12, f.mtime);
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  block.write(f.typeflag, 156, 'ascii');
  writeString(block, 157, LINKNAME_LEN, f.linkname);
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  writeString(block, 265, 32, 'root'); // uname, as tufup writes
  writeString(block, 297, 32, 'root'); // gname
  writeOctal(block, 329, 8, 0); // devmajor
  writeOctal(block, 337, 8, 0); // devminor
  writeString(block, 345, PREFIX_LEN, f.prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  // Six digits, NUL, space: the form GNU tar and Python's tarfile write.
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** The body of a PAX extended header: `"<len> <key>=<value>\n"` records, where len counts the whole record. */
export function encodePaxRecords(records: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts = records.map(([key, value]) => {
    const rest = Buffer.byteLength(` ${key}=${value}\n`);
    let len = rest + String(rest).length;
    // Adding the length's own digits can add a digit to the length; settle on the fixed point.
    while (String(len).length + rest !== len) len = String(len).length + rest;
    return Buffer.from(`${len} ${key}=${value}\n`, 'utf8');
  });
  return Buffer.concat(parts);
}

/**
 * Splits an ASCII name into ustar prefix and name fields, or undefined when it cannot be done. Uses the shortest
 * prefix that works, as GNU tar and Python's tarfile do.
 */
export function splitUstarName(name: string): [prefix: string, name: string] | undefined {
  if (name.length <= NAME_LEN) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    if (i > PREFIX_LEN) return undefined;
    const rest = name.slice(i + 1);
    if (rest.length <= NAME_LEN && rest.length > 0) return [name.slice(0, i), rest];
  }
  return undefined;
}

/** Zero bytes that pad `size` bytes of data up to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE);
}

/** Two zero blocks ending the archive, plus zeros up to a whole record, for an archive of `written` bytes so far. */
export function endOfArchive(written: number): Buffer {
  const end = written + 2 * BLOCK_SIZE;
  return Buffer.alloc(2 * BLOCK_SIZE + ((RECORD_SIZE - (end % RECORD_SIZE)) % RECORD_SIZE));
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (!Number.isSafeInteger(value) || value < 0 || digits.length > width - 1) {
    throw new RangeError(`Value ${value} does not fit a ${width}-byte tar field.`);
  }
  block.write(`${digits.padStart(width - 1, '0')}\0`, offset, 'ascii');
}

function writeString(block: Buffer, offset: number, width: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > width)
    throw new RangeError(`${JSON.stringify(value)} does not fit a ${width}-byte tar field.`);
  bytes.copy(block, offset);
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

/** The longest prefix of `s` whose UTF-8 form fits `max` bytes, never cutting a character in half. */
function truncateUtf8(s: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}
