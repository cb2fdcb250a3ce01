import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';
import { tempPathFor } from '../util/durable-fs.js';
import { digestsEqual, hashFile } from '../util/hash-file.js';
import type { PatchCodec, PatchProgress } from './codec.js';

const codecs = new Map<string, PatchCodec>();

/** Makes a codec available by name (for creation) and by magic (for application). */
export function registerCodec(codec: PatchCodec): void {
  codecs.set(codec.name, codec);
}

/** Names of the registered codecs. */
export function codecNames(): string[] {
  return [...codecs.keys()];
}

/** The codec called `name`. Throws PATCH_CODEC_UNKNOWN. */
export function codecByName(name: string): PatchCodec {
  const codec = codecs.get(name);
  if (!codec) {
    throw new NotsotufError('PATCH_CODEC_UNKNOWN', `Unknown patch codec "${name}".`, {
      hint: `Known codecs: ${codecNames().join(', ')}.`,
      details: { codec: name },
    });
  }
  return codec;
}

/** Identifies a patch file's codec from its first bytes. Throws PATCH_CODEC_UNKNOWN, IO_ERROR. */
export async function identifyPatch(patchPath: string): Promise<PatchCodec> {
  let head: Buffer;
  try {
    const fh = await open(patchPath, 'r');
    try {
      const buf = Buffer.alloc(64);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new NotsotufError('IO_ERROR', `Could not read the patch ${patchPath}.`, {
      path: patchPath,
      cause: err,
    });
  }
  for (const codec of codecs.values()) if (codec.identify(head)) return codec;
  throw new NotsotufError('PATCH_CODEC_UNKNOWN', `${patchPath} is not a patch in any known format.`, {
    path: patchPath,
    hint: `Known codecs: ${codecNames().join(', ')}.`,
  });
}

/** Creates a patch file atomically (temp file beside it, renamed when complete). */
export async function createPatchFile(options: {
  codec: string;
  oldPath: string;
  newPath: string;
  outPath: string;
  signal?: AbortSignal;
  onProgress?: (p: PatchProgress) => void;
}): Promise<{ size: number; sha256: string; codec: string }> {
  const codec = codecByName(options.codec);
  const tmp = tempPathFor(options.outPath);
  try {
    await codec.create({
      oldPath: options.oldPath,
      newPath: options.newPath,
      outPath: tmp,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const { size, sha256 } = await hashFile(tmp);
    await rename(tmp, options.outPath);
    return { size, sha256, codec: codec.name };
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Applies a patch (codec identified from the file) and checks the result against the size and sha256 the signed
 * metadata promises. The output appears at `outPath` only when it matches; otherwise nothing is left and
 * PATCH_RESULT_MISMATCH (or the codec's PATCH_INVALID) is thrown. The result is hashed as the codec writes it
 * (`onOutput`), not read back; `onOutput` also passes it on to the caller.
 */
export async function applyPatchFile(options: {
  oldPath: string;
  patchPath: string;
  outPath: string;
  expected?: { size: number; sha256: string };
  signal?: AbortSignal;
  onProgress?: (p: PatchProgress) => void;
  onOutput?: (bytes: Uint8Array) => void | Promise<void>;
}): Promise<{ size: number; sha256: string; codec: string }> {
  const codec = await identifyPatch(options.patchPath);
  const tmp = tempPathFor(options.outPath);
  const hash = createHash('sha256');
  let seen = 0;
  const forward = options.onOutput;
  try {
    const { size } = await codec.apply({
      oldPath: options.oldPath,
      patchPath: options.patchPath,
      outPath: tmp,
      ...(options.expected ? { expectedSize: options.expected.size } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      onOutput: (bytes) => {
        hash.update(bytes);
        seen += bytes.length;
        return forward?.(bytes);
      },
    });
    // A codec that does not report its output (or not all of it) is hashed from the file it wrote.
    const result = seen === size ? { size, sha256: hash.digest('hex') } : await hashFile(tmp);
    if (forward && seen !== size) {
      throw new NotsotufError('INTERNAL_ERROR', `The ${codec.name} codec did not report all of its output.`);
    }
    const { expected } = options;
    if (expected && (result.size !== expected.size || !digestsEqual(result.sha256, expected.sha256))) {
      throw new NotsotufError(
        'PATCH_RESULT_MISMATCH',
        `Applying ${options.patchPath} gave ${result.size} bytes with sha256 ${result.sha256}, expected ${expected.size} bytes with sha256 ${expected.sha256}.`,
        {
          path: options.patchPath,
          hint: 'The patch does not fit this base file; download the full archive instead.',
          details: { expected, actual: result },
        },
      );
    }
    await rename(tmp, options.outPath);
    return { ...result, codec: codec.name };
  } finally {
    await rm(tmp, { force: true });
  }
}
