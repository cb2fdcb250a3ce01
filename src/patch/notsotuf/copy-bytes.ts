/** Copies shorter than this run as a plain loop. */
const SHORT_COPY = 512;

/**
 * Copies src[from, from + length) to dst[at, …) without allocating for short copies. Node 20's `Buffer#copy`
 * and `subarray().set()` both make a view object per call; applying a patch of native code copies millions of
 * short runs, and those views were most of apply's garbage (70 MB allocated on the 183 MB benchmark pair), which
 * V8 promoted and kept until a full collection: 10 MB of apply's peak memory.
 */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, at: number, length: number): void {
  if (length < SHORT_COPY) {
    for (let i = 0; i < length; i++) dst[at + i] = src[from + i]!;
  } else {
    dst.set(src.subarray(from, from + length), at);
  }
}
