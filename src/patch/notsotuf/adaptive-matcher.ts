import type { Matcher } from './create.js';
import { hashMatcher } from './hash-matcher.js';
import { suffixMatcher } from './suffix-matcher.js';

/**
 * Largest base file the suffix-array matcher takes: it needs ~9 bytes of memory per base byte and about a second
 * per MB (a 98 MB node binary: 108 s, 940 MB), where the hash matcher needs 3.5 s.
 */
const SUFFIX_LIMIT = 48 << 20;
/** Bytes looked at to tell text from binary (git's heuristic: a NUL byte early on means binary). */
const SNIFF = 8000;

/** True for content with a NUL byte in its first 8000 bytes: executables, libraries, images, archives. */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, SNIFF);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/**
 * Picks the matcher per file, by measurement: native code keeps its structure with shifted addresses, which
 * the suffix-array (bsdiff) alignment follows best (esbuild binary: 221 KB vs 265 KB); text gains from the hash
 * matcher's long-match rule, which keeps edited source from splintering into short matches (typescript: 166 KB
 * vs 230 KB), and is 3–30 times faster — so it also takes binaries too large for the suffix array.
 */
export const adaptiveMatcher: Matcher = (old, neu) =>
  old.length <= SUFFIX_LIMIT && looksBinary(neu) && looksBinary(old)
    ? suffixMatcher(old, neu)
    : hashMatcher(old, neu);
