/**
 * Produces the bytes of an uncompressed tar from scanned bundle entries, streaming file contents so that no file
 * is ever held in memory whole.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { checkAborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import type { BundleEntry } from './bundle-scan.js';
import { encodeMemberHeader, endOfArchive, padding, tarNameFor } from './tar-format.js';

/** Progress after each archived file: content bytes written so far and in total. */
export interface ArchiveProgress {
  bytes: number;
  totalBytes: number;
}

/** Options for {@link tarChunks}. */
export interface TarChunksOptions {
  /** The mtime stamped on every member. */
  mtime: number;
  signal?: AbortSignal;
  onProgress?: (progress: ArchiveProgress) => void;
}

const READ_CHUNK = 64 * 1024;
// Do not follow a link that replaced a file since the scan, and do not hang on a FIFO that did.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Yields the whole tar for `entries`, in their order: headers, contents, padding and the end-of-archive blocks.
 *
 * @throws NotsotufError BUNDLE_INVALID when a file changed size since the scan, IO_ERROR, ABORTED.
 */
export async function* tarChunks(
  entries: readonly BundleEntry[],
  options: TarChunksOptions,
): AsyncGenerator<Buffer> {
  const { mtime, signal, onProgress } = options;
  const totalBytes = entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0);
  let written = 0;
  let bytes = 0;
  for (const entry of entries) {
    checkAborted(signal, 'Archiving was aborted.');
    const header = encodeMemberHeader({
      name: tarNameFor(entry.path, entry.type),
      type: entry.type,
      mode: entry.mode,
      size: entry.type === 'file' ? entry.size : 0,
      mtime,
      ...(entry.linkTarget === undefined ? {} : { linkname: entry.linkTarget }),
    });
    written += header.length;
    yield header;
    if (entry.type !== 'file') continue;
    for await (const chunk of fileContents(entry, signal)) {
      written += chunk.length;
      yield chunk;
    }
    const pad = padding(entry.size);
    written += pad.length;
    if (pad.length > 0) yield pad;
    bytes += entry.size;
    onProgress?.({ bytes, totalBytes });
  }
  yield endOfArchive(written);
}

/** The file's bytes, checked to be exactly the size the scan saw (a tar header cannot be changed afterwards). */
async function* fileContents(entry: BundleEntry, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const fh = await openRegular(entry);
  try {
    let read = 0;
    for (;;) {
      checkAborted(signal, 'Archiving was aborted.');
      const buffer = Buffer.alloc(READ_CHUNK);
      const { bytesRead } = await io(() => fh.read(buffer, 0, READ_CHUNK, null), entry.absPath);
      if (bytesRead === 0) break;
      read += bytesRead;
      if (read > entry.size) throw sizeChanged(entry);
      yield bytesRead === READ_CHUNK ? buffer : buffer.subarray(0, bytesRead);
    }
    if (read !== entry.size) throw sizeChanged(entry);
  } finally {
    await fh.close();
  }
}

async function openRegular(entry: BundleEntry): Promise<FileHandle> {
  const fh = await io(() => open(entry.absPath, OPEN_FLAGS), entry.absPath);
  try {
    const stats = await io(() => fh.stat(), entry.absPath);
    if (!stats.isFile()) {
      throw new NotsotufError('BUNDLE_INVALID', `Bundle file ${entry.path} was replaced while archiving.`, {
        path: entry.absPath,
        hint: 'Do not change the bundle while it is being archived; run the command again.',
      });
    }
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

function sizeChanged(entry: BundleEntry): NotsotufError {
  return new NotsotufError('BUNDLE_INVALID', `Bundle file ${entry.path} changed size while archiving.`, {
    path: entry.absPath,
    details: { expectedSize: entry.size },
    hint: 'Do not change the bundle while it is being archived (is a build still running?); run the command again.',
  });
}

async function io<T>(op: () => Promise<T>, path: string): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new NotsotufError(
        'BUNDLE_INVALID',
        `Bundle file ${path} was replaced by a symlink while archiving.`,
        {
          path,
          cause: err,
          hint: 'Do not change the bundle while it is being archived; run the command again.',
        },
      );
    }
    throw new NotsotufError('IO_ERROR', `Could not read ${path}.`, {
      path,
      cause: err,
      hint: 'Check that the bundle is readable.',
    });
  }
}
