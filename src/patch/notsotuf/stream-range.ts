import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createBrotliDecompress } from 'node:zlib';
import { bzip2DecompressStream } from '../bzip2/decoder.js';
import { lzmaDecompressStream } from '../lzma/decoder.js';
import {
  invalidPatch,
  MAX_FILE_SIZE,
  MAX_LZMA_DICT,
  METHOD_BZIP2,
  METHOD_LZMA,
  type StreamMethod,
} from './format.js';

/** Bytes of compressed input read at a time. */
const READ_CHUNK = 1 << 16;

/**
 * path[start, start + length) in chunks read into one buffer, each valid until the next is asked for (it may end
 * early on a truncated file; the decoder then reports the stream truncated). The LZMA and bzip2 decoders copy what
 * they keep, so no buffer is allocated per chunk: a read stream allocated a fresh 64 KiB one per read (155 of them
 * on turbo's apply), garbage until the next collection.
 */
async function* readRange(path: string, start: number, length: number): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, length));
    for (let done = 0; done < length; ) {
      const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, length - done), start + done);
      if (bytesRead === 0) return;
      done += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Decompresses one stream from a byte range of the patch file, chunk by chunk. */
export async function* streamRange(
  path: string,
  start: number,
  length: number,
  method: StreamMethod,
): AsyncGenerator<Buffer> {
  if (length === 0) throw invalidPatch('an empty compressed stream');
  if (method === METHOD_LZMA || method === METHOD_BZIP2) {
    const source = readRange(path, start, length);
    const chunks =
      method === METHOD_LZMA
        ? lzmaDecompressStream(source, { maxDictSize: MAX_LZMA_DICT, maxOutputLength: MAX_FILE_SIZE })
        : bzip2DecompressStream(source, { reuseBuffers: true });
    try {
      for await (const chunk of chunks) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    } finally {
      await source.return(undefined);
    }
    return;
  }
  // zlib may hold several written chunks at once: a read stream's own buffers.
  const source = createReadStream(path, { start, end: start + length - 1 });
  const decoder = createBrotliDecompress();
  source.on('error', (err) => decoder.destroy(err));
  source.pipe(decoder);
  try {
    for await (const chunk of decoder) yield chunk as Buffer;
  } catch (err) {
    throw invalidPatch('a compressed stream is corrupt or truncated', err);
  } finally {
    source.destroy();
    decoder.destroy();
  }
  // Brotli stops at its end marker and ignores what follows (bytesWritten counts only what it consumed). A patch
  // has one encoding: bytes after the marker inside the stream's declared length are refused, as LZMA and bzip2
  // refuse them.
  if (decoder.bytesWritten !== length) throw invalidPatch('data after the end of a brotli stream');
}
