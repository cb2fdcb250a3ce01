/**
 * The file-system steps every part of notsotuf builds on, made durable and portable in one place: the client's
 * metadata cache, install.json, the repository and the installer all write through these, so none is less safe
 * than another.
 *
 * - A new file is written beside its target, fsynced, then renamed over it: a reader sees the old file or the
 *   whole new one, never a torn write.
 * - A rename (or a new file) only survives a power loss once its directory is fsynced too.
 * - On Windows a virus scanner or indexer briefly holding a file makes a rename fail; renames are retried there.
 * - `removeTree` has one behaviour: it throws. A caller for which removal is best-effort catches explicitly.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, type FileHandle, lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotsotufError } from '../core/errors.js';

/** True when `err` is a Node system error with one of `codes`. */
export function hasErrno(err: unknown, ...codes: string[]): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}

/**
 * A temp path beside `target` (`.<name>.<12 hex>.tmp`), so the final rename stays on one file system and so is
 * atomic. Recovery and the repository's sweep recognise leftovers by this spelling.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
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

/** Delays between rename attempts on Windows (1.55 s in all); elsewhere a rename is tried once. */
const WINDOWS_RENAME_DELAYS_MS = [50, 100, 200, 400, 800];

/**
 * Renames, retrying a few times on Windows, where a virus scanner or indexer briefly holding a file makes the
 * rename fail with EPERM/EACCES/EBUSY. Elsewhere those codes are real and fail at once.
 */
export async function renameRetrying(from: string, to: string): Promise<void> {
  const delays = process.platform === 'win32' ? WINDOWS_RENAME_DELAYS_MS : [];
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
 * `rm -rf` that also works on a tree with read-only directories (a release's modes, which copy-tree and the tar
 * extractor keep): root ignores the mode, but any other user cannot delete the entries of such a directory. On
 * EACCES/EPERM every directory below `path` (symlinks never followed) gets `u+rwx` and the removal is tried once
 * more. A missing `path` is not an error.
 *
 * Throws what the second removal throws: a caller for which removal is best-effort (cleanup after another error)
 * catches it and says so.
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

export interface AtomicWriteOptions {
  /**
   * Called when the file is in place but its directory could not be fsynced (so it may not survive a power
   * loss). Without it that failure throws IO_ERROR, although the new content is already what readers see.
   */
  readonly onWarning?: (message: string, cause?: unknown) => void;
}

/** fsyncs `dir` after a rename into it: reported to `onWarning`, or thrown as IO_ERROR without one. */
async function flushDirAfterRename(dir: string, target: string, options: AtomicWriteOptions): Promise<void> {
  try {
    await fsyncDir(dir);
  } catch (err) {
    const message = `${target} was written, but ${dir} could not be fsynced; it may not survive a power loss.`;
    if (options.onWarning) return options.onWarning(message, err);
    throw new NotsotufError('IO_ERROR', message, { path: dir, cause: err });
  }
}

/**
 * Writes `data` to `target` atomically and durably: a temp file beside it, fsync, rename over the target
 * (retried on Windows), fsync of the directory. A reader sees either the old file or the whole new one; when it
 * resolves, both the bytes and the name survive a crash. On failure the temp file is removed.
 *
 * @throws NotsotufError IO_ERROR (the target is unchanged, unless only the directory fsync failed: see
 *   {@link AtomicWriteOptions.onWarning}).
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync(); // the bytes are on disk before the name points at them
    } finally {
      await fh.close();
    }
    await renameRetrying(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new NotsotufError('IO_ERROR', `Could not write ${target}.`, {
      path: target,
      cause: err,
      hint: 'Check that the directory exists, is writable and that the disk is not full.',
    });
  }
  await flushDirAfterRename(dirname(target), target, options);
}

/**
 * Copies `from` to `to` atomically and durably, like {@link writeFileAtomic}. Errors of the copy are thrown as
 * they are (the temp file removed); callers give them their code.
 */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const tmp = tempPathFor(to);
  try {
    await copyFile(from, tmp);
    const fh = await openForFlush(tmp);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await renameRetrying(tmp, to);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(to));
}

/**
 * Moves a file: a rename (retried on Windows) when both paths share a file system, otherwise a durable copy
 * beside the target (so the target still appears atomically) and removal of the source. The target's directory
 * is fsynced. Errors are thrown as they are.
 */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await renameRetrying(from, to);
  } catch (err) {
    if (!hasErrno(err, 'EXDEV')) throw err;
    await copyFileAtomic(from, to);
    await rm(from, { force: true });
    return;
  }
  await fsyncDir(dirname(to));
}
