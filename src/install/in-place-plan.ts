/**
 * What an in-place install must do, decided from two directory listings: the new release and the install
 * directory. Pure: lists in, plan out; `in-place.ts` executes it.
 *
 * tufup's in-place install purges first (`purge_dst_dir` deletes everything not excluded) and then copies over
 * the top, so a failure half-way leaves a broken app. This plan only says what goes where; the executor makes
 * every step reversible.
 */
import { NotsotufError } from '../core/errors.js';
import { ALWAYS_EXCLUDED, createExcludeMatcher } from './exclude-pattern.js';

/** One directory entry, by posix path relative to its root (no `.`, `..` or empty segments, no leading `/`). */
export interface Entry {
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  /** Permission bits (`stat.mode & 0o7777`); ignored for symlinks. */
  readonly mode: number;
  readonly size?: number;
  /** The link text, exactly as stored (symlinks only). */
  readonly linkTarget?: string;
}

/** Options for {@link planInPlace}. */
export interface InPlacePlanOptions {
  /** Remove installed entries that the new release does not have. */
  readonly purge: boolean;
  /** Patterns of installed entries that purge must keep (see `exclude-pattern.ts`). */
  readonly exclude: readonly string[];
}

/** A source file or symlink to place. */
export interface PlannedWrite {
  readonly entry: Entry;
  /** An installed entry of the same type is at this path: it is moved into the backup just before. */
  readonly replaces: boolean;
}

/** An installed entry (with its whole subtree) to move out of the install directory. */
export interface Removal {
  readonly entry: Entry;
  /** `type-change`: the release has another type at this path (done before any write); `purge`: not in the release. */
  readonly reason: 'type-change' | 'purge';
}

export interface InPlacePlan {
  /** Source directories to create, parents first. */
  readonly mkdirs: readonly Entry[];
  /** Every source file: files are always written (the listing has no content hashes to prove them equal). */
  readonly writeFiles: readonly PlannedWrite[];
  /** Source symlinks, except those already installed with the same link text. */
  readonly writeLinks: readonly PlannedWrite[];
  /** Topmost entries only: what lies below a removed directory goes with it and is not listed again. */
  readonly remove: readonly Removal[];
  /** Installed entries left as they are. */
  readonly keep: readonly Entry[];
}

function invalid(message: string, path: string): NotsotufError {
  return new NotsotufError('INVALID_ARGUMENT', message, {
    hint: 'Pass listings made by scanning a directory: relative posix paths, each parent listed as a directory.',
    details: { entry: path },
  });
}

function parentOf(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? undefined : path.slice(0, slash);
}

function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let p = parentOf(path); p !== undefined; p = parentOf(p)) out.push(p);
  return out;
}

/** Parents before children, siblings by name; independent of the order the caller listed them in. */
function compareEntries(a: Entry, b: Entry): number {
  const as = a.path.split('/');
  const bs = b.path.split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    if (as[i] !== bs[i]) return (as[i] as string) < (bs[i] as string) ? -1 : 1;
  }
  return as.length - bs.length;
}

/** Checks a listing (fail closed: a bad path must never reach the file system) and indexes it by path. */
function indexListing(entries: readonly Entry[], what: string): Map<string, Entry> {
  const byPath = new Map<string, Entry>();
  for (const entry of [...entries].sort(compareEntries)) {
    const { path, type } = entry;
    const segments = path.split('/');
    if (path === '' || path.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw invalid(`The ${what} listing has an invalid path ${JSON.stringify(path)}.`, path);
    }
    if (type !== 'file' && type !== 'dir' && type !== 'symlink') {
      throw invalid(`The ${what} listing has ${path} of unknown type ${String(type)}.`, path);
    }
    if (type === 'symlink' && typeof entry.linkTarget !== 'string') {
      throw invalid(`The ${what} listing has symlink ${path} without its link text.`, path);
    }
    if (byPath.has(path)) throw invalid(`The ${what} listing has ${path} twice.`, path);
    const parent = parentOf(path);
    if (parent !== undefined && byPath.get(parent)?.type !== 'dir') {
      throw invalid(`The ${what} listing has ${path} but not its parent directory.`, path);
    }
    byPath.set(path, entry);
  }
  return byPath;
}

/**
 * Plans installing `source` (the new release) over `installed` (the install directory).
 *
 * Every source entry ends up installed: files and changed symlinks are replaced, missing directories created.
 * An installed entry whose type differs from the source's is removed first, with its subtree (the release wins,
 * even over excluded paths: exclusion only protects from purge). With `purge`, installed entries not in the source
 * are removed unless an exclude pattern, or {@link ALWAYS_EXCLUDED}, protects them; a directory holding a protected
 * entry is kept (its other contents are purged). Without `purge`, nothing else is removed.
 *
 * @throws NotsotufError INVALID_ARGUMENT for an invalid listing or exclude pattern.
 */
export function planInPlace(
  source: readonly Entry[],
  installed: readonly Entry[],
  options: InPlacePlanOptions,
): InPlacePlan {
  const isProtected = createExcludeMatcher([...ALWAYS_EXCLUDED, ...options.exclude]);
  const src = indexListing(source, 'source');
  const inst = indexListing(installed, 'installed');

  // Directories that hold a protected entry, so purge must not take them away as a whole.
  const guarded = new Set<string>();
  for (const path of inst.keys()) {
    if (!src.has(path) && isProtected(path)) for (const a of ancestorsOf(path)) guarded.add(a);
  }

  const removedRoots = new Set<string>();
  const isGone = (path: string) =>
    removedRoots.has(path) || ancestorsOf(path).some((a) => removedRoots.has(a));
  const remove: Removal[] = [];
  const keep: Entry[] = [];
  for (const entry of inst.values()) {
    if (isGone(entry.path)) continue;
    const wanted = src.get(entry.path);
    if (wanted !== undefined && wanted.type !== entry.type) {
      remove.push({ entry, reason: 'type-change' });
      removedRoots.add(entry.path);
    } else if (wanted !== undefined) {
      const sameLink = entry.type === 'symlink' && entry.linkTarget === wanted.linkTarget;
      if (entry.type === 'dir' || sameLink) keep.push(entry);
    } else if (options.purge && !isProtected(entry.path) && !guarded.has(entry.path)) {
      remove.push({ entry, reason: 'purge' });
      removedRoots.add(entry.path);
    } else {
      keep.push(entry);
    }
  }

  const installedAs = (path: string) => (isGone(path) ? undefined : inst.get(path)?.type);
  const mkdirs: Entry[] = [];
  const writeFiles: PlannedWrite[] = [];
  const writeLinks: PlannedWrite[] = [];
  for (const entry of src.values()) {
    const present = installedAs(entry.path) === entry.type;
    if (entry.type === 'dir') {
      if (!present) mkdirs.push(entry);
    } else if (entry.type === 'file') {
      writeFiles.push({ entry, replaces: present });
    } else if (!(present && inst.get(entry.path)?.linkTarget === entry.linkTarget)) {
      writeLinks.push({ entry, replaces: present });
    }
  }
  return { mkdirs, writeFiles, writeLinks, remove, keep };
}
