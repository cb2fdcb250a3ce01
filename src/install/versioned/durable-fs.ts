/**
 * The few file-system operations the versioned layout builds on, made durable: a rename or a new file is only
 * safe across a power loss once its directory has been fsynced too, and Windows needs its renames retried.
 */
import { chmod, type FileHandle, lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when `err` is a Node system error with one of `codes`. */
export function hasErrno(err: unknown, ...codes: string[]): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}

/**
 * Opens a file to flush it (and change its mode through the handle). POSIX: read-only, which fsync and fchmod
 * accept whatever the file's mode. Windows: FlushFileBuffers and attribute changes through a handle need write
 * access (a read-only handle fails with EPERM), so the file is opened for writing, after its read-only attribute
 * is cleared: a copy of a read-only file carries it, and would refuse the open.
 */
export async function openForFlush(path: string): Promise<FileHandle> {
  if (process.platform !== 'win32') return open(path, 'r');
  await chmod(path, 0o666);
  return open(path, 'r+');
}

/**
 * fsyncs a directory so that the entries created, renamed or removed in it survive a crash. Some file systems
 * reject it (EINVAL, ENOTSUP, EPERM); that is not an error here. Windows has no directory fsync: Node opens a
 * directory there, but FlushFileBuffers refuses its read-only handle, and NTFS journals directory changes itself.
 */
export async function fsyncDir(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } catch (err) {
    if (!hasErrno(err, 'EINVAL', 'ENOTSUP', 'EPERM')) throw err;
  } finally {
    await fh.close();
  }
}

/**
 * Renames, retrying a few times on Windows, where a virus scanner or indexer briefly holding a file makes the
 * rename fail with EPERM/EACCES/EBUSY. Elsewhere those codes are real and fail at once.
 */
export async function renameRetrying(from: string, to: string): Promise<void> {
  const delays = process.platform === 'win32' ? [50, 100, 200, 400, 800] : [];
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (err) {
      const delay = delays[attempt];
      if (delay === undefined || !hasErrno(err, 'EPERM', 'EACCES', 'EBUSY')) throw err;
      await sleep(delay);
    }
  }
}

/**
 * `rm -rf` that also works on a release with read-only directories (a mode without `u+w`, which copy-tree keeps):
 * root ignores the mode, but any other user cannot delete the entries of such a directory. On EACCES/EPERM every
 * directory below `path` (symlinks never followed) gets `u+rwx` and the removal is tried once more.
 */
export async function removeTree(path: string): Promise<void> {
  const remove = () => rm(path, { recursive: true, force: true, maxRetries: 3 });
  try {
    await remove();
  } catch (err) {
    if (!hasErrno(err, 'EACCES', 'EPERM')) throw err;
    await makeDirsWritable(path);
    await remove();
  }
}

async function makeDirsWritable(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isDirectory()) return;
  await chmod(path, (info.mode & 0o777) | 0o700).catch(() => undefined);
  for (const name of await readdir(path).catch(() => [])) await makeDirsWritable(join(path, name));
}
