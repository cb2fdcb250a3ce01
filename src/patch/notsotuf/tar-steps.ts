import type { TarMember } from './tar-index.js';

/** What becomes of one member's content in the patch. */
export type ContentStep =
  /** The same bytes are in the old tar (same path, or moved or renamed): one COPY. */
  | { readonly kind: 'copy'; readonly from: TarMember }
  /** Changed: matched against the old member of the same path. */
  | { readonly kind: 'diff'; readonly base: TarMember }
  /** New content with nothing to match against (or empty): literal bytes. */
  | { readonly kind: 'insert' };

export interface MemberStep {
  readonly member: TarMember;
  /** The old member of the same path, whose header blocks this member's are expressed against. */
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

/**
 * Tar-aware planning: each member of the new tar is matched against the member of the old tar with the same
 * path (or, for moved and renamed files, the same content). Unchanged content costs one COPY; a changed file is
 * diffed only against its old version, which bounds the matcher's time and memory by the largest file instead
 * of the whole tar. Header blocks are expressed against the old member's headers (they differ in a few bytes).
 * `oldHashes` and `newHashes` are the contents' sha256 where membersToHash asked for them, else undefined.
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
  return newMembers.map((member, i) => {
    const base = byPath.get(member.path);
    const hash = newHashes[i];
    const same = hash === undefined ? undefined : byHash.get(hash);
    let content: ContentStep;
    if (same) content = { kind: 'copy', from: same };
    else if (base && base.dataSize > 0 && member.dataSize > 0) content = { kind: 'diff', base };
    else content = { kind: 'insert' };
    return { member, base, content };
  });
}
