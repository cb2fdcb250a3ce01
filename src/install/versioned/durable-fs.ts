/**
 * The few file-system operations the versioned layout builds on, made durable: a rename or a new file is only
 * safe across a power loss once its directory has been fsynced too, and Windows needs its renames retried.
 */
import { chmod, lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when `err` is a Node system error with one of `codes`. */
export function hasErrno(err: unknown, ...codes: string[]): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}

/**
 * fsyncs a directory so that the entries created, renamed or removed in it survive a crash. Windows cannot open
 * a directory for fsync (EISDIR/EPERM; NTFS journals its directory changes anyway), and some file systems reject
 * it with EINVAL; both are not errors here.
 */
export async function fsyncDir(path: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (process.platform === 'win32' && hasErrno(err, 'EISDIR', 'EPERM', 'EACCES')) return;
    throw err;
  }
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
