/**
 * Lists a directory tree as {@link Entry} values for the in-place plan. Uses lstat only: a symlink is reported
 * as a link (with its text) and never followed, so a link in the install directory cannot make the installer
 * read or write outside it.
 */
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import type { Entry } from './in-place-plan.js';

/** Options for {@link scanTree}. */
export interface ScanTreeOptions {
  readonly signal?: AbortSignal;
  /**
   * What to do with sockets, FIFOs and devices. `reject` (for a release: it never ships them) throws;
   * `as-file` (for the install dir, where an app may keep a socket) lists them as files, which the installer
   * can still move aside by rename.
   */
  readonly special: 'reject' | 'as-file';
  /** What to do when `root` is missing or not a directory (the hint of the INSTALL_FAILED error). */
  readonly missingHint: string;
  /** Names of root-level entries to leave out (the installer's own backup directory). */
  readonly skipRootNames?: (name: string) => boolean;
}

function io(err: unknown, path: string, what: string): NotsotufError {
  return new NotsotufError('IO_ERROR', `Could not read ${what} ${path}.`, { path, cause: err });
}

/**
 * Every entry below `root` (not the root itself), parents before children, siblings sorted by name.
 * The root may itself be a symlink to a directory (the caller chose that path).
 *
 * @throws NotsotufError INSTALL_FAILED (root missing or not a directory, or a special file with `reject`),
 *   IO_ERROR, ABORTED.
 */
export async function scanTree(root: string, options: ScanTreeOptions): Promise<Entry[]> {
  const rootStats = await stat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw io(err, root, 'directory');
  });
  if (!rootStats?.isDirectory()) {
    throw new NotsotufError('INSTALL_FAILED', `${root} is not an existing directory.`, {
      path: root,
      hint: options.missingHint,
    });
  }
  const out: Entry[] = [];
  async function walk(abs: string, rel: string): Promise<void> {
    checkAborted(options.signal, 'The install was aborted.');
    const names = await readdir(abs).catch((err: unknown) => {
      throw io(err, abs, 'directory');
    });
    for (const name of names.sort()) {
      if (rel === '' && options.skipRootNames?.(name)) continue;
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const info = await lstat(childAbs).catch((err: unknown) => {
        throw io(err, childAbs, 'entry');
      });
      const mode = info.mode & 0o7777;
      if (info.isSymbolicLink()) {
        const linkTarget = await readlink(childAbs).catch((err: unknown) => {
          throw io(err, childAbs, 'symlink');
        });
        out.push({ path: childRel, type: 'symlink', mode, linkTarget });
      } else if (info.isDirectory()) {
        out.push({ path: childRel, type: 'dir', mode });
        await walk(childAbs, childRel);
      } else if (info.isFile() || options.special === 'as-file') {
        out.push({ path: childRel, type: 'file', mode, size: info.size });
      } else {
        throw new NotsotufError('INSTALL_FAILED', `${childAbs} is not a file, directory or symlink.`, {
          path: childAbs,
          hint: 'A release holds only files, directories and symlinks: extract and verify the update again.',
        });
      }
    }
  }
  await walk(root, '');
  return out;
}
