import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/** Size and hex digests of a file in one streamed read, e.g. `digestFile(p, ['sha256', 'md5'])`. */
export async function digestFile<A extends string>(
  path: string,
  algorithms: readonly A[],
  signal?: AbortSignal,
): Promise<{ size: number } & Record<A, string>> {
  const hashes = algorithms.map((a) => createHash(a));
  let size = 0;
  await pipeline(
    createReadStream(path),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        size += chunk.length;
        for (const h of hashes) h.update(chunk);
      }
    },
    ...(signal ? [{ signal }] : []),
  );
  const digests = Object.fromEntries(algorithms.map((a, i) => [a, hashes[i]!.digest('hex')]));
  return { size, ...digests } as { size: number } & Record<A, string>;
}

/** Size and sha256 (hex) of a file, streamed. */
export function hashFile(path: string, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  return digestFile(path, ['sha256'], signal);
}

/** Compares two hex digests in constant time (node:crypto), false for malformed or different-length input. */
export function digestsEqual(a: string, b: string): boolean {
  if (!/^[0-9a-f]+$/i.test(a) || !/^[0-9a-f]+$/i.test(b) || a.length !== b.length || a.length % 2 !== 0)
    return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
