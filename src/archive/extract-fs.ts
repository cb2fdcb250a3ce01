/**
 * The file-system step of extract-tar.ts that works on the whole staging tree: applying directory modes once all
 * contents exist. (Removing the tree after a failure is util/durable-fs.ts's removeTree.)
 */
import { chmod, utimes } from 'node:fs/promises';
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
