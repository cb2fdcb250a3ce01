import { hashAlignedMatcher } from './aligned-matcher.js';
import { hashMatcher } from './hash-matcher.js';
import type { Matcher } from './matcher.js';

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
 * bsdiff's alignment rule follows best; text gains from the hash matcher's long-match rule, which keeps edited
 * source from splintering into short matches (numbers: docs/patch-formats.md, measurements).
 */
export const adaptiveMatcher: Matcher = (old, neu) =>
  looksBinary(neu) && looksBinary(old) ? hashAlignedMatcher(old, neu) : hashMatcher(old, neu);
