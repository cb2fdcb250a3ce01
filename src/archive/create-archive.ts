/**
 * Builds the reproducible `.tar.gz` of a bundle: the same bundle gives the same bytes on any machine, whatever
 * the file times, umask or directory order there.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw } from 'node:zlib';
import { aborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { wrapForeignError } from '../core/foreign-error.js';
import { tempPathFor } from '../util/durable-fs.js';
import { resolveArchiveMtime } from './archive-mtime.js';
import { scanBundle } from './bundle-scan.js';
import { GZIP_HEADER, GZIP_LEVEL, GzipChecksum } from './gzip-frame.js';
import { type ArchiveProgress, tarChunks } from './tar-stream.js';

/** Options for {@link createArchive}. */
export interface CreateArchiveOptions {
  /** The bundle directory to archive. */
  bundleDir: string;
  /** Where the `.tar.gz` goes; replaced atomically if it exists. Must not be inside the bundle. */
  outFile: string;
  /** Member mtime (seconds or Date); default `SOURCE_DATE_EPOCH`, else 2000-01-01T00:00:00Z. */
  mtime?: number | Date;
  signal?: AbortSignal;
  /** Called after each file with the content bytes archived so far. */
  onProgress?: (progress: ArchiveProgress) => void;
}

/** What {@link createArchive} wrote. */
export interface ArchiveResult {
  /** Size of the `.tar.gz` in bytes. */
  size: number;
  /** SHA-256 (hex) of the `.tar.gz`. */
  sha256: string;
  /** Size of the uncompressed tar (what tufup patches are computed against). */
  tarSize: number;
  /** SHA-256 (hex) of the uncompressed tar. */
  tarSha256: string;
  /** Number of tar members (PAX extended headers not counted). */
  entries: number;
}

/**
 * Archives `bundleDir` into `outFile` as a gzip'd PAX/ustar tar, reproducibly:
 * - members in {@link scanBundle} order, named `./`, `./file`, `./dir/`;
 * - every member has the same mtime, uid/gid 0, owner `root:root`, and a normalised mode
 *   (dirs 0755, files 0755 or 0644, symlinks 0777);
 * - gzip level 9 with a fixed header (no name, mtime 0, OS unknown).
 *
 * The file is written beside `outFile` under a temp name and renamed into place, so `outFile` is either absent,
 * the old file, or the complete new archive. On any failure the temp file is removed.
 *
 * @throws NotsotufError BUNDLE_INVALID, BUNDLE_UNSAFE_LINK, BUNDLE_SPECIAL_FILE, INVALID_ARGUMENT (bad mtime,
 *   output inside the bundle), IO_ERROR, ABORTED.
 */
export async function createArchive(options: CreateArchiveOptions): Promise<ArchiveResult> {
  const { signal, onProgress } = options;
  const mtime = resolveArchiveMtime(options.mtime);
  const bundleDir = resolve(options.bundleDir);
  const outFile = resolve(options.outFile);
  checkOutsideBundle(bundleDir, outFile);
  const entries = await scanBundle(bundleDir, signal === undefined ? {} : { signal });
  const tmp = tempPathFor(outFile);
  try {
    const result = await writeArchive(tmp, tarChunks(entries, { mtime, signal, onProgress }), signal);
    await rename(tmp, outFile);
    return { ...result, entries: entries.length };
  } catch (err) {
    await rm(tmp, { force: true });
    throw toArchiveError(err, outFile, signal);
  }
}

async function writeArchive(
  tmp: string,
  tar: AsyncGenerator<Buffer>,
  signal?: AbortSignal,
): Promise<Omit<ArchiveResult, 'entries'>> {
  const tarHash = createHash('sha256');
  const checksum = new GzipChecksum();
  const outHash = createHash('sha256');
  let tarSize = 0;
  let size = 0;
  await pipeline(
    tar,
    async function* hashTar(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        tarHash.update(chunk);
        checksum.update(chunk);
        tarSize += chunk.length;
        yield chunk;
      }
    },
    createDeflateRaw({ level: GZIP_LEVEL }),
    async function* frameAndHash(source: AsyncIterable<Buffer>) {
      for await (const chunk of frame(source, checksum)) {
        outHash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    // 'wx': never write through a file (or link) someone placed at the temp name. flush: fsync before close, so
    // the rename never publishes a file whose data is still only in the page cache.
    createWriteStream(tmp, { flags: 'wx', mode: 0o644, flush: true }),
    signal === undefined ? {} : { signal },
  );
  return { size, sha256: outHash.digest('hex'), tarSize, tarSha256: tarHash.digest('hex') };
}

/** The raw deflate stream wrapped in the fixed gzip header and the trailer. */
async function* frame(deflated: AsyncIterable<Buffer>, checksum: GzipChecksum): AsyncGenerator<Buffer> {
  yield GZIP_HEADER;
  for await (const chunk of deflated) yield chunk;
  // The deflate stream has ended, so every tar byte has gone through the checksum.
  yield checksum.trailer();
}

function checkOutsideBundle(bundleDir: string, outFile: string): void {
  const rel = relative(bundleDir, outFile);
  const inside = rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  if (inside) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `The archive ${outFile} would be written inside the bundle.`,
      {
        path: outFile,
        hint: 'Write the archive outside the bundle directory, or it would end up in the next archive.',
      },
    );
  }
}

function toArchiveError(err: unknown, outFile: string, signal?: AbortSignal): NotsotufError {
  if (signal?.aborted) {
    if (err instanceof NotsotufError && err.code === 'ABORTED') return err;
    return aborted('Archiving was aborted.', { cause: signal.reason });
  }
  return wrapForeignError(err, `Writing the archive ${outFile}`, {
    ioMessage: `Could not write the archive ${outFile}.`,
    path: outFile,
  });
}
