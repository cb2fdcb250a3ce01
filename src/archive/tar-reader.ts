/**
 * A streaming tar reader over a file handle: headers are read block by block and member data in bounded chunks,
 * so memory stays small whatever the archive size. Understands ustar, PAX extended headers (`path`, `linkpath`,
 * `size`, `mtime`), GNU long names and links (`L`/`K`) and base-256 numbers, which covers what Python's tarfile
 * (tufup), GNU tar and our own writer produce.
 *
 * The reader only reports what the archive says (raw paths included); deciding whether a member is safe to
 * extract is extract-tar.ts's job.
 */
import type { FileHandle } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';
import { BLOCK_SIZE } from './tar-format.js';
import {
  type Decoded,
  decodeGnuLongName,
  decodeHeader,
  decodePaxRecords,
  isZeroBlock,
  type PaxOverrides,
} from './tar-header.js';

/** One member of a tar, as its headers describe it. */
export interface TarEntry {
  /** The member name exactly as stored (PAX or GNU long name applied), not yet checked or normalised. */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  /** The raw typeflag character (`'0'`, `'5'`, `'3'`, ...; `'\0'` for old-style regular files). */
  readonly typeflag: string;
  /** Mode bits as stored, setuid/setgid/sticky included. */
  readonly mode: number;
  /** Bytes of data that follow the header; 0 for links, directories and devices. */
  readonly size: number;
  /** Seconds since the epoch (may be fractional when set by PAX). */
  readonly mtime: number;
  /** Link target for symlinks, target member name for hardlinks, else empty. */
  readonly linkname: string;
  /** Offset of the member's first header block (extension headers included). */
  readonly headerOffset: number;
  /** Offset of the member's data in the file. */
  readonly dataOffset: number;
}

/** Options for {@link readTarEntries}. */
export interface ReadTarOptions {
  /** Bytes of the file that make up the archive; nothing at or past this offset is read. */
  size: number;
  /** The file's path, for error messages. */
  path?: string;
}

/** Largest PAX or GNU long-name body accepted: far above any real name, small enough to hold in memory. */
export const MAX_EXTENSION_SIZE = 1024 * 1024;
/** Default chunk size for {@link readTarEntryData}. */
export const DEFAULT_DATA_CHUNK = 64 * 1024;

/** Types whose size field describes no data (POSIX ustar; Python's tarfile skips no data for them either). */
const NO_DATA_TYPES = new Set(['1', '2', '3', '4', '5', '6']);

/**
 * Yields the members of the tar in `file`, in archive order. Ends at the first zero block, or at end of file when
 * it falls right after a complete member. Extension headers (`x`, `L`, `K`) are applied to the member they
 * precede; PAX global headers (`g`) are skipped.
 *
 * @throws NotsotufError ARCHIVE_INVALID for a bad checksum, malformed field, truncated header or data, or an
 *   extension header with no member after it; IO_ERROR when the file cannot be read.
 */
export async function* readTarEntries(file: FileHandle, options: ReadTarOptions): AsyncGenerator<TarEntry> {
  const { size: limit } = options;
  const block = Buffer.alloc(BLOCK_SIZE);
  let pos = 0;
  let headerOffset = 0;
  let pax: PaxOverrides = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  const pending = () => Object.keys(pax).length > 0 || longName !== undefined || longLink !== undefined;

  for (;;) {
    if (pos >= limit) {
      if (pending()) throw invalid(options, pos, 'the archive ends after an extension header');
      return;
    }
    if (pos + BLOCK_SIZE > limit) throw invalid(options, pos, 'the archive ends inside a header');
    await readExactly(file, block, pos, options);
    if (isZeroBlock(block)) {
      if (pending()) throw invalid(options, pos, 'an extension header is not followed by a member');
      return;
    }
    const header = check(decodeHeader(block), options, pos);
    const dataOffset = pos + BLOCK_SIZE;
    const { typeflag } = header;

    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (header.size > MAX_EXTENSION_SIZE) {
        throw invalid(options, pos, `an extension header is larger than ${MAX_EXTENSION_SIZE} bytes`);
      }
      const end = dataOffset + padded(header.size);
      if (end > limit) throw invalid(options, pos, 'the archive ends inside an extension header');
      const body = Buffer.alloc(header.size);
      await readExactly(file, body, dataOffset, options);
      if (typeflag === 'x') pax = { ...pax, ...check(decodePaxRecords(body), options, pos) };
      else if (typeflag === 'L') longName = check(decodeGnuLongName(body), options, pos);
      else if (typeflag === 'K') longLink = check(decodeGnuLongName(body), options, pos);
      // 'g' (PAX global header): its defaults are deliberately not applied.
      pos = end;
      continue;
    }

    const path = pax.path ?? longName ?? header.name;
    // An old-style member named `…/` is a directory and, as in Python's tarfile, carries no data.
    const noData = NO_DATA_TYPES.has(typeflag) || entryType(typeflag, path) === 'dir';
    const size = noData ? 0 : (pax.size ?? header.size);
    const end = dataOffset + padded(size);
    if (end > limit) throw invalid(options, pos, `the data of ${JSON.stringify(path)} is truncated`);
    yield {
      path,
      type: entryType(typeflag, path),
      typeflag,
      mode: header.mode,
      size,
      mtime: pax.mtime ?? header.mtime,
      linkname: pax.linkpath ?? longLink ?? header.linkname,
      headerOffset,
      dataOffset,
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    pos = end;
    headerOffset = end;
  }
}

/**
 * Streams the data of `entry` (from {@link readTarEntries} on the same file) in chunks of at most `chunkSize`
 * bytes. Each chunk is a fresh buffer, so a consumer may keep it.
 *
 * @throws NotsotufError ARCHIVE_INVALID when the file is shorter than the header said; IO_ERROR on read errors.
 */
export async function* readTarEntryData(
  file: FileHandle,
  entry: TarEntry,
  options: { chunkSize?: number; path?: string } = {},
): AsyncGenerator<Buffer> {
  const chunkSize = options.chunkSize ?? DEFAULT_DATA_CHUNK;
  const end = entry.dataOffset + entry.size;
  for (let pos = entry.dataOffset; pos < end; pos += chunkSize) {
    const chunk = Buffer.alloc(Math.min(chunkSize, end - pos));
    await readExactly(file, chunk, pos, options);
    yield chunk;
  }
}

function entryType(typeflag: string, path: string): TarEntry['type'] {
  switch (typeflag) {
    case '0':
    case '7': // contiguous file: a regular file everywhere but on one long-gone system
      return 'file';
    case '\0':
      // Pre-POSIX archives mark directories only by the trailing slash.
      return path.endsWith('/') ? 'dir' : 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'dir';
    default:
      return 'other';
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
}

/** Fills `buf` from `position`; a short read means the file is shorter than the archive claims. */
async function readExactly(
  file: FileHandle,
  buf: Buffer,
  position: number,
  options: { path?: string },
): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.read(buf, done, buf.length - done, position + done));
    } catch (err) {
      throw new NotsotufError('IO_ERROR', `Could not read the archive${where(options)}.`, {
        cause: err,
        ...(options.path === undefined ? {} : { path: options.path }),
        hint: 'Check that the file exists and is readable.',
      });
    }
    if (bytesRead === 0) throw invalid(options, position + done, 'the file is shorter than its headers say');
    done += bytesRead;
  }
}

function check<T>(result: Decoded<T>, options: { path?: string }, offset: number): T {
  if (!result.ok) throw invalid(options, offset, result.reason);
  return result.value;
}

function invalid(options: { path?: string }, offset: number, reason: string): NotsotufError {
  return new NotsotufError(
    'ARCHIVE_INVALID',
    `The archive${where(options)} is not a valid tar file: ${reason} (at byte ${offset}).`,
    {
      ...(options.path === undefined ? {} : { path: options.path }),
      details: { offset, reason },
      hint: 'The archive is damaged or was not made by a tar writer; download it again or restore the published copy.',
    },
  );
}

function where(options: { path?: string }): string {
  return options.path === undefined ? '' : ` ${options.path}`;
}
