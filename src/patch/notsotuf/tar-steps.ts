import { HashedRenames, sizesAlike } from './hashed-renames.js';
import type { TarMember } from './tar-index.js';

/** What becomes of one member's content in the patch. */
export type ContentStep =
  /** The same bytes are in the old tar (same path, or moved or renamed): one COPY. */
  | { readonly kind: 'copy'; readonly from: TarMember }
  /**
   * Changed: matched against the old member of the same path or, when that path is new, against a renamed
   * earlier version of the file (renamedFrom).
   */
  | { readonly kind: 'diff'; readonly base: TarMember }
  /** New content with nothing to match against (or empty): literal bytes. */
  | { readonly kind: 'insert' };

export interface MemberStep {
  readonly member: TarMember;
  /** The old member of the same path (or the renamed file), whose header blocks this member's are expressed against. */
  readonly base: TarMember | undefined;
  readonly content: ContentStep;
}

/** Which members' contents must be hashed: only sizes found in both tars can be the same bytes. */
export function membersToHash(
  oldMembers: readonly TarMember[],
  newMembers: readonly TarMember[],
): { old: boolean[]; new: boolean[] } {
  const oldSizes = new Set(oldMembers.map((m) => m.dataSize));
  const newSizes = new Set(newMembers.map((m) => m.dataSize));
  return {
    old: oldMembers.map((m) => m.dataSize > 0 && newSizes.has(m.dataSize)),
    new: newMembers.map((m) => m.dataSize > 0 && oldSizes.has(m.dataSize)),
  };
}

/** A path with each run of digits replaced by `#`: the versioned names of one file in two releases agree. */
function nameShape(path: string): string {
  return path.replace(/[0-9]+/g, '#');
}

/**
 * The earlier version of a file whose path is new, when it was renamed with a version number in its name or
 * directory (`libvips-cpp.so.8.17.2` → `libvips-cpp.so.8.17.3`, `lib/1.2/x.js` → `lib/1.3/x.js`): an old member
 * whose path is gone from the new tar, with the same name but for its digits, and a size within a factor of 2; the
 * closest in size when there are several. Without this such a file, often the largest of a release (a shared
 * library), was stored whole.
 */
function renamedFrom(
  member: TarMember,
  gone: ReadonlyMap<string, readonly TarMember[]>,
): TarMember | undefined {
  let best: TarMember | undefined;
  for (const old of gone.get(nameShape(member.path)) ?? []) {
    if (!sizesAlike(old.dataSize, member.dataSize)) continue;
    if (!best || Math.abs(old.dataSize - member.dataSize) < Math.abs(best.dataSize - member.dataSize))
      best = old;
  }
  return best;
}

/**
 * Tar-aware planning: each member of the new tar is matched against the member of the old tar with the same
 * path (for moved and renamed files, the same content; for a file renamed with its version, see renamedFrom).
 * Unchanged content costs one COPY; a changed file is diffed only against its old version, which bounds the
 * matcher's time and memory by the largest file instead of the whole tar. Header blocks are expressed against the
 * old member's headers (they differ in a few bytes). `oldHashes` and `newHashes` are the contents' sha256 where
 * membersToHash asked for them, else undefined.
 */
export function planMembers(
  oldMembers: readonly TarMember[],
  newMembers: readonly TarMember[],
  oldHashes: readonly (string | undefined)[],
  newHashes: readonly (string | undefined)[],
): MemberStep[] {
  const byPath = new Map(oldMembers.map((m) => [m.path, m]));
  const byHash = new Map<string, TarMember>();
  oldMembers.forEach((m, i) => {
    const hash = oldHashes[i];
    if (hash !== undefined) byHash.set(hash, m);
  });
  const newPaths = new Set(newMembers.map((m) => m.path));
  const gone = new Map<string, TarMember[]>();
  for (const m of oldMembers) {
    if (m.dataSize === 0 || newPaths.has(m.path)) continue;
    const shape = nameShape(m.path);
    gone.set(shape, [...(gone.get(shape) ?? []), m]);
  }
  const hashed = new HashedRenames([...gone.values()].flat());
  return newMembers.map((member, i) => {
    const samePath = byPath.get(member.path);
    const base =
      samePath ??
      (member.dataSize > 0 ? (renamedFrom(member, gone) ?? hashed.earlierVersionOf(member)) : undefined);
    const hash = newHashes[i];
    const same = hash === undefined ? undefined : byHash.get(hash);
    let content: ContentStep;
    if (same) content = { kind: 'copy', from: same };
    else if (base && base.dataSize > 0 && member.dataSize > 0) content = { kind: 'diff', base };
    else content = { kind: 'insert' };
    return { member, base, content };
  });
}
