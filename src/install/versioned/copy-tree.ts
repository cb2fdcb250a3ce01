/**
 * Copies a release into a staging directory durably: every file and directory is fsynced before the caller
 * renames the staging directory into place, so after a crash a version directory is complete or absent, never a
 * directory of empty files (rename is atomic, but only fsync orders the data before it).
 *
 * A copy, not a rename: the extracted release lives in the client's cache, which may be on another file system,
 * and the client may still need it (a retry after a failed install).
 */
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAborted } from '../../core/aborted.js';
import { openForFlush } from '../../util/durable-fs.js';
import { scanTree } from '../tree-scan.js';

/** The mode of a version directory itself: the entry point may run as another user than the installer. */
export const VERSION_DIR_MODE = 0o755;

const RELEASE_MISSING = 'The extracted release is gone: download and extract the update again.';

/**
 * Gives a directory its final mode, then fsyncs it (through one handle, so a mode without `r` cannot stop it).
 * Windows has no directory fsync (see fsyncDir), and its directory handles are read-only, which cannot change
 * attributes: only the mode is set there, by path.
 */
async function finishDir(path: string, mode: number): Promise<void> {
  if (process.platform === 'win32') return chmod(path, mode);
  const fh = await open(path, 'r');
  try {
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Copies the tree below `from` into the existing, empty directory `to`: files with their mode (setuid/setgid
 * dropped) and contents, symlinks with their text (never followed), directories with their mode. Sockets, FIFOs
 * and devices are refused: a release never holds them.
 *
 * @throws NotsotufError INSTALL_FAILED (source missing, special file), IO_ERROR, ABORTED; or a Node system error.
 */
export async function copyTreeDurably(from: string, to: string, signal?: AbortSignal): Promise<void> {
  const entries = await scanTree(from, { signal, special: 'reject', missingHint: RELEASE_MISSING });
  const abs = (root: string, rel: string) => join(root, ...rel.split('/'));
  // Parents come before children in the scan; directories stay writable (0o700) until they are filled.
  for (const entry of entries) {
    checkAborted(signal, 'The install was aborted.');
    const dest = abs(to, entry.path);
    if (entry.type === 'dir') await mkdir(dest, { mode: 0o700 });
    else if (entry.type === 'symlink') await symlink(entry.linkTarget as string, dest);
    else {
      await copyFile(abs(from, entry.path), dest, constants.COPYFILE_EXCL);
      const fh = await openForFlush(dest);
      try {
        await fh.chmod(entry.mode & 0o777);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
  // Deepest first, so each directory is final and synced after everything in it is.
  for (const entry of [...entries].reverse()) {
    if (entry.type === 'dir') await finishDir(abs(to, entry.path), entry.mode & 0o777);
  }
  await finishDir(to, VERSION_DIR_MODE);
}
