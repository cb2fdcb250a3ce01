/**
 * Decides whether a bundle's symlinks stay inside the bundle. A link that escapes would let an archive write or
 * expose files outside the install directory on every machine that extracts it, so such bundles are refused.
 */
import { NotsotufError } from '../core/errors.js';

/** The fields of a scanned entry that the link check needs. */
export interface LinkCheckEntry {
  path: string;
  type: 'dir' | 'file' | 'symlink';
  linkTarget?: string;
  absPath: string;
}

/** Same limit as Linux's MAXSYMLINKS: more hops than this is treated as a loop. */
const MAX_HOPS = 40;

/**
 * Throws BUNDLE_UNSAFE_LINK for the first symlink whose target is absolute or climbs out of the bundle.
 *
 * The target is resolved relative to the link's directory the way the kernel would, inside the bundle: a `..` may
 * never pop above the root at any point, and a symlink met on the way (inside the bundle) is replaced by its own
 * target before going on. The latter matters: with `a -> .`, the target `a/../x` is lexically inside but really
 * means `<bundle>/../x`.
 */
export function checkLinkTargets(entries: readonly LinkCheckEntry[]): void {
  const links = new Map<string, string>();
  for (const e of entries)
    if (e.type === 'symlink' && e.linkTarget !== undefined) links.set(e.path, e.linkTarget);
  for (const e of entries) {
    if (e.type !== 'symlink' || e.linkTarget === undefined) continue;
    const problem = linkProblem(e.path, e.linkTarget, links);
    if (problem !== undefined) {
      throw new NotsotufError(
        'BUNDLE_UNSAFE_LINK',
        `Symlink ${e.path} points to ${JSON.stringify(e.linkTarget)}, which ${problem}.`,
        {
          path: e.absPath,
          details: { link: e.path, target: e.linkTarget },
          hint: 'Symlinks in a bundle must be relative and stay inside it; fix the link or replace it with a copy of what it points to.',
        },
      );
    }
  }
}

/** Why `target` (of the link at archive path `linkPath`) is unsafe, or undefined when it is fine. */
export function linkProblem(
  linkPath: string,
  target: string,
  links: ReadonlyMap<string, string> = new Map(),
): string | undefined {
  const absolute = absoluteProblem(target);
  if (absolute !== undefined) return absolute;
  // Components of the link's directory, relative to the bundle root ('./a/b/link' -> ['a', 'b']).
  const stack = linkPath.split('/').slice(1, -1);
  const queue = target.split('/');
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return 'leads outside the bundle';
      stack.pop();
      continue;
    }
    stack.push(part);
    const inner = queue.length > 0 ? links.get(`./${stack.join('/')}`) : undefined;
    if (inner === undefined) continue;
    // The path goes on through another link: the kernel would follow it, so do the same.
    if (++hops > MAX_HOPS) return 'goes through a symlink loop';
    if (absoluteProblem(inner) !== undefined) return 'goes through a link to an absolute path';
    stack.pop();
    queue.unshift(...inner.split('/'));
  }
  return undefined;
}

function absoluteProblem(target: string): string | undefined {
  if (target === '') return 'is empty';
  if (target.startsWith('/')) return 'is an absolute path';
  // Backslashes and drive letters make a path absolute or different on Windows.
  if (target.includes('\\')) return 'contains a backslash';
  if (/^[A-Za-z]:/.test(target)) return 'starts with a drive letter';
  return undefined;
}
