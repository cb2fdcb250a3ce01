import type { TarMember } from './tar-index.js';

/** A renamed file's old and new sizes are at most this factor apart. */
const RENAME_SIZE_FACTOR = 2;

/** True when two sizes are close enough for one file's two versions (within RENAME_SIZE_FACTOR). */
export function sizesAlike(a: number, b: number): boolean {
  return a <= b * RENAME_SIZE_FACTOR && b <= a * RENAME_SIZE_FACTOR;
}

/** The longest part of a path that differs in a file renamed with a content hash or build id. */
const MAX_HASH_PART = 64;
/** Characters that end a name's parts: what two paths share is counted up to one of them. */
const SEPARATORS = '/.-_';
/** Neighbours looked at on each side of a path, in path order and in reversed-path order. */
const NEIGHBOURS = 8;

/** The extension of a path's last segment ('' for none): a file renamed with its hash keeps it. */
function extension(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1) : '';
}

/**
 * A part that reads as a hash or build id rather than a word: 6 or more characters of hex or base64url, with a
 * digit or a capital after its first character (`_g5qy0bI`, `3f2a9c`, `D_ryMEPs`; not `button` or `Slider`).
 */
function hashLike(part: string): boolean {
  return /^[A-Za-z0-9_-]{6,}$/.test(part) && /[0-9]|.[A-Z]/.test(part);
}

/**
 * How much of two paths is shared when they differ in one hash-like part only (at most MAX_HASH_PART characters
 * on each side) and what is shared still names the file: a stem before the hash in the file's name
 * (`assets/index-_g5qy0bI.js` → `assets/index-D_ryMEPs.js`), or the whole name after a hashed directory
 * (`static/<build id>/_buildManifest.js`). −1 otherwise: chunks named by their hash alone have nothing in
 * common but their directory, and pairing them by size would be a guess.
 */
export function sharedAroundHash(a: string, b: string): number {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end])
    end++;
  // Two hashes may begin or end with the same characters by chance: the shared parts end at separators.
  while (start > 0 && !SEPARATORS.includes(a[start - 1]!)) start--;
  while (end > 0 && !SEPARATORS.includes(a[a.length - end]!)) end--;
  const partA = a.slice(start, a.length - end);
  const partB = b.slice(start, b.length - end);
  if (partA.length > MAX_HASH_PART || partB.length > MAX_HASH_PART) return -1;
  if (!hashLike(partA) || !hashLike(partB)) return -1;
  const namesFile = (start > 0 && a[start - 1] !== '/') || a.slice(a.length - end).includes('/');
  return namesFile ? start + end : -1;
}

const reversed = (path: string) => [...path].reverse().join('');

/** Members sorted by a key of their path, to find those whose keys sort next to a given one. */
class PathOrder {
  private readonly members: TarMember[];
  private readonly keys: string[];

  constructor(members: readonly TarMember[], key: (path: string) => string) {
    const keyed = members.map((m) => ({ m, key: key(m.path) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.members = keyed.map((k) => k.m);
    this.keys = keyed.map((k) => k.key);
  }

  /** Adds to `into` the NEIGHBOURS members on each side of where `key` sorts. */
  addNeighbours(key: string, into: Set<TarMember>): void {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    for (let i = Math.max(0, lo - NEIGHBOURS); i < Math.min(this.members.length, lo + NEIGHBOURS); i++)
      into.add(this.members[i]!);
  }
}

/**
 * Finds the earlier version of a file renamed with a content hash or build id, as bundlers name their output
 * (`index-_g5qy0bI.js` → `index-D_ryMEPs.js`, `main.3f2a9c1e.js`, `static/<build id>/manifest.js`), among the old
 * members whose paths are gone from the new tar: one with the same extension, a path that differs in one hash-like
 * part (sharedAroundHash) and a size within a factor of 2; the one sharing the most of the path, then the closest
 * in size, then the first in the tar. Without this, a web app's main bundle, changed and renamed in every release,
 * was stored whole: 18 × bsdiff's patch on @vitest/ui 3.2.3 → 3.2.4. Such a partner shares a long start or a long
 * end with the new path, so only its neighbours in path order and in reversed-path order are compared: a bundle of
 * 10,000 renamed chunks is planned in 0.5 s instead of 16 s for comparing every pair. A wrong guess costs matching
 * time and bytes, never correctness.
 */
export class HashedRenames {
  private readonly byPath: PathOrder;
  private readonly byReversedPath: PathOrder;

  constructor(gone: readonly TarMember[]) {
    this.byPath = new PathOrder(gone, (path) => path);
    this.byReversedPath = new PathOrder(gone, reversed);
  }

  earlierVersionOf(member: TarMember): TarMember | undefined {
    const candidates = new Set<TarMember>();
    this.byPath.addNeighbours(member.path, candidates);
    this.byReversedPath.addNeighbours(reversed(member.path), candidates);
    const ext = extension(member.path);
    let best: TarMember | undefined;
    let bestShared = -1;
    for (const old of candidates) {
      if (extension(old.path) !== ext || !sizesAlike(old.dataSize, member.dataSize)) continue;
      const shared = sharedAroundHash(old.path, member.path);
      if (shared < 0 || shared < bestShared) continue;
      if (shared === bestShared) {
        const further = Math.abs(old.dataSize - member.dataSize) - Math.abs(best!.dataSize - member.dataSize);
        if (further > 0 || (further === 0 && old.headerStart > best!.headerStart)) continue;
      }
      best = old;
      bestShared = shared;
    }
    return best;
  }
}
