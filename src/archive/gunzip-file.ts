import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { aborted, isAbortError } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';

/**
 * Decompresses a `.tar.gz` to a plain tar file, hashing the output as it passes. Stops with TARGET_FILE_MISMATCH
 * once the output exceeds `maxSize` (a gzip bomb never fills the disk) or the gzip data is invalid; a file-system
 * failure reading or writing is IO_ERROR. With `hashInput`, the compressed bytes are hashed in the same pass too
 * (`input`), so a caller that must check both does not read the archive twice.
 */
export async function gunzipToFile(
  src: string,
  dst: string,
  options: { maxSize?: number; signal?: AbortSignal; hashInput?: boolean } = {},
): Promise<{ size: number; sha256: string; input?: { size: number; sha256: string } }> {
  const hash = createHash('sha256');
  const inputHash = options.hashInput ? createHash('sha256') : undefined;
  let inputSize = 0;
  const inputMeter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      inputSize += chunk.length;
      inputHash?.update(chunk);
      done(null, chunk);
    },
  });
  let size = 0;
  const max = options.maxSize ?? Number.MAX_SAFE_INTEGER;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > max) {
        done(
          new NotsotufError('TARGET_FILE_MISMATCH', `${src} decompresses to more than ${max} bytes.`, {
            path: src,
            hint: 'The archive does not match its metadata; restore it from the published copy.',
          }),
        );
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const out = createWriteStream(dst, { flags: 'wx' });
  try {
    await pipeline(
      createReadStream(src),
      inputMeter,
      createGunzip(),
      meter,
      out,
      ...(options.signal ? [{ signal: options.signal }] : []),
    );
  } catch (err) {
    // The file may still be opening when an early error ends the pipeline: remove it only once it is closed,
    // or the open would create it again after the removal.
    if (!out.closed) await once(out, 'close').catch(() => {});
    await rm(dst, { force: true });
    if (err instanceof NotsotufError) throw err;
    if (isAbortError(err)) throw aborted('Decompression was aborted.', { cause: err });
    // A file-system failure (disk full, file too large, permissions) says nothing about the archive's bytes.
    if (typeof (err as NodeJS.ErrnoException).syscall === 'string') {
      throw new NotsotufError('IO_ERROR', `Could not decompress ${src} to ${dst}.`, {
        path: dst,
        cause: err,
        hint: 'Check that the directory is writable and the disk is not full.',
      });
    }
    throw new NotsotufError('TARGET_FILE_MISMATCH', `${src} is not a valid gzip file.`, {
      path: src,
      cause: err,
      hint: 'The archive is damaged; restore it from the published copy.',
    });
  }
  const result = { size, sha256: hash.digest('hex') };
  return inputHash ? { ...result, input: { size: inputSize, sha256: inputHash.digest('hex') } } : result;
}
