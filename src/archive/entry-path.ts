/**
 * Path checks for tar members being extracted: no I/O, just string checking (like node-tar's CHECKPATH). They run
 * before any file-system call for a member, so a hostile name is refused before it can touch the disk.
 *
 * Archive paths use `/` only. A backslash, a drive letter or a colon means something else on Windows (a second
 * separator, an absolute path, an alternate data stream), so such names are refused on every platform: an archive
 * must extract to the same tree everywhere.
 */

/** The outcome of a path check: the normalised path, or why it was refused. */
export type EntryPathResult = { ok: true; path: string } | { ok: false; reason: string };

/** Most path segments a member may have; deeper nesting is refused (bounds the work per member). */
export const MAX_ENTRY_DEPTH = 1024;
/** Longest member path or link target, in characters: Linux's PATH_MAX. */
export const MAX_ENTRY_PATH_LENGTH = 4096;

/** The normalised path of the extraction root itself (members named `.`, `./`, `.//`). */
export const ROOT_PATH = '.';

/**
 * Normalises a tar member name to a relative path with `/` separators, or refuses it.
 *
 * `./a/b/` becomes `a/b`, `a//b` and `a/./b` become `a/b`, and `.`, `./` become {@link ROOT_PATH}. Refused:
 * empty names, NUL, absolute paths (`/x`, `C:\x`, `C:/x`, `\\server\x`), backslashes, colons, any `..` segment
 * (even one that would stay inside: `a/../b` never appears in a genuine archive), and absurd length or depth.
 */
export function normalizeEntryPath(name: string): EntryPathResult {
  const bad = commonProblem(name);
  if (bad !== undefined) return { ok: false, reason: bad };
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { ok: false, reason: 'contains a ".." segment' };
    parts.push(part);
  }
  if (parts.length > MAX_ENTRY_DEPTH) {
    return { ok: false, reason: `is nested more than ${MAX_ENTRY_DEPTH} levels deep` };
  }
  return { ok: true, path: parts.length === 0 ? ROOT_PATH : parts.join('/') };
}

/**
 * Checks the target of a symlink member at `linkPath` (already normalised by {@link normalizeEntryPath}). The
 * target is resolved against the link's own directory with POSIX path semantics; a `..` that climbs above the
 * extraction root at any point is refused, even if later segments come back down (the kernel would have left
 * the root by then). Absolute targets are refused. Returns the resolved path relative to the root.
 *
 * This check is lexical: a target that goes through another symlink is only fully checked once every link of
 * the archive is known (see `linkProblem` in link-safety.ts).
 */
export function checkSymlinkTarget(linkPath: string, target: string): EntryPathResult {
  const bad = commonProblem(target);
  if (bad !== undefined) return { ok: false, reason: `has a target that ${bad}` };
  const stack = linkPath === ROOT_PATH ? [] : linkPath.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return { ok: false, reason: 'points outside the extraction directory' };
      stack.pop();
      continue;
    }
    stack.push(part);
  }
  return { ok: true, path: stack.length === 0 ? ROOT_PATH : stack.join('/') };
}

/** The parent paths of a normalised path, outermost first (`a/b/c` gives `a`, `a/b`; the root is not listed). */
export function parentPaths(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

function commonProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.includes('\0')) return 'contains a NUL character';
  // `/x`, `\x`, `\\server\share`, `C:x`, `C:\x`, `C:/x`: absolute, or relative to a drive's current directory.
  if (/^(?:[A-Za-z]:|[\\/])/.test(name)) return 'is an absolute path';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.includes(':')) return 'contains a colon (a Windows drive or alternate data stream)';
  if (name.length > MAX_ENTRY_PATH_LENGTH) return `is longer than ${MAX_ENTRY_PATH_LENGTH} characters`;
  return undefined;
}
