import { randomBytes } from 'node:crypto';
import { copyFile, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NotsotufError } from '../core/errors.js';

/** A temp path beside `target`, so the final rename stays on one file system (and so is atomic). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `target` atomically: a temp file beside it, fsync, then rename over the target.
 * A reader sees either the old file or the whole new one, never a torn write.
 */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new NotsotufError('IO_ERROR', `Could not write ${target}.`, {
      path: target,
      cause: err,
      hint: 'Check that the directory exists, is writable and that the disk is not full.',
    });
  }
}

/**
 * Copies `from` to `to` atomically: a copy beside the target, fsync, rename. A reader of `to` sees the old file or
 * the whole new one. Errors are thrown as they are (the temp file removed); callers give them their code.
 */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const tmp = tempPathFor(to);
  try {
    await copyFile(from, tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Moves a file. A rename when both paths share a file system; otherwise copy beside the target, then rename
 * (so the target still appears atomically) and remove the source.
 */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFileAtomic(from, to);
    await rm(from, { force: true });
  }
}
