/**
 * File-system steps of extract-tar.ts that work on the whole staging tree: applying directory modes once all
 * contents exist, and removing the tree after a failure.
 */
import { chmod, readdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { NotsotufError } from '../core/errors.js';

/**
 * Applies the final mode (and mtime, when given) of each directory, deepest first: a directory's mtime changes
 * whenever an entry is added to it, and a read-only mode applied early would block its own contents.
 * Keys are normalised archive paths (`.` for the root), relative to `root`.
 *
 * @throws NotsotufError IO_ERROR.
 */
export async function applyDirModes(
  root: string,
  dirs: ReadonlyMap<string, { mode: number; mtime?: number }>,
): Promise<void> {
  const depth = (path: string) => (path === '.' ? 0 : path.split('/').length);
  const ordered = [...dirs].sort(([a], [b]) => depth(b) - depth(a));
  for (const [path, { mode, mtime }] of ordered) {
    const abs = path === '.' ? root : join(root, ...path.split('/'));
    try {
      await chmod(abs, mode);
      if (mtime !== undefined) await utimes(abs, mtime, mtime);
    } catch (err) {
      throw new NotsotufError('IO_ERROR', `Could not set the mode and time of the directory ${abs}.`, {
        cause: err,
        path: abs,
        hint: 'Check that the staging directory is writable.',
      });
    }
  }
}

/**
 * Removes a staging tree, best effort: if a read-only directory (a final mode already applied) blocks removal,
 * the tree is made writable and removal tried once more. A tree that still cannot be removed is left; callers
 * never reuse a staging directory, so leftovers are only wasted space.
 */
export async function removeTree(root: string): Promise<void> {
  try {
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    try {
      await makeWritable(root);
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Nothing more to try; the caller reports the error that caused the cleanup.
    }
  }
}

/** Gives the owner full access to every directory below `dir` (symlinks are not followed). */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeWritable(join(dir, entry.name));
  }
}
