import { createReadStream } from 'node:fs';
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

/** Decompresses one stream from a byte range of the patch file, chunk by chunk. */
export async function* streamRange(
  path: string,
  start: number,
  length: number,
  method: StreamMethod,
): AsyncGenerator<Buffer> {
  if (length === 0) throw invalidPatch('an empty compressed stream');
  const source = createReadStream(path, { start, end: start + length - 1 });
  if (method === METHOD_LZMA) {
    try {
      for await (const chunk of lzmaDecompressStream(source as AsyncIterable<Buffer>, {
        maxDictSize: MAX_LZMA_DICT,
        maxOutputLength: MAX_FILE_SIZE,
      }))
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    } finally {
      source.destroy();
    }
    return;
  }
  if (method === METHOD_BZIP2) {
    try {
      for await (const chunk of bzip2DecompressStream(source as AsyncIterable<Buffer>, {
        reuseBuffers: true,
      }))
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    } finally {
      source.destroy();
    }
    return;
  }
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
