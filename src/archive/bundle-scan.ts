/**
 * Walks a bundle directory and describes what goes into its archive, refusing anything that could hurt whoever
 * extracts it: links that leave the bundle, device files, names that do not survive a trip through tar.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkAborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { checkLinkTargets } from './link-safety.js';

/** One member of a bundle archive. */
export interface BundleEntry {
  /** Archive path: `.` for the bundle root, else `./a/b` (no trailing slash, also for directories). */
  path: string;
  type: 'dir' | 'file' | 'symlink';
  /** The normalised archive mode: dirs 0o755, files 0o755 if any execute bit is set else 0o644, symlinks 0o777. */
  mode: number;
  /** Byte size of a file at scan time; 0 for dirs and symlinks. */
  size: number;
  /** The link target exactly as stored in the symlink (only for symlinks). */
  linkTarget?: string;
  /** Where the entry lives on disk. */
  absPath: string;
}

/** Options for {@link scanBundle}. */
export interface ScanOptions {
  signal?: AbortSignal;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Lists the bundle in `dir`, in archive order, without following any link inside it.
 *
 * Order: depth-first, each directory's children sorted by the bytes of their UTF-8 names. That is what GNU tar's
 * `--sort=name` and tufup (Python's `sorted(os.listdir())`) produce, and it never depends on the file system or
 * locale. The root itself may be reached through a symlink (the caller chose that path); nothing below it is followed.
 *
 * @throws NotsotufError BUNDLE_INVALID (missing, not a directory, bad name), BUNDLE_UNSAFE_LINK,
 *   BUNDLE_SPECIAL_FILE, IO_ERROR, ABORTED.
 */
export async function scanBundle(dir: string, options: ScanOptions = {}): Promise<BundleEntry[]> {
  const root = resolve(dir);
  await checkRoot(root);
  const entries: BundleEntry[] = [{ path: '.', type: 'dir', mode: 0o755, size: 0, absPath: root }];
  await walk(root, '.', entries, options.signal);
  checkLinkTargets(entries);
  return entries;
}

async function checkRoot(root: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new NotsotufError(
      missing ? 'BUNDLE_INVALID' : 'IO_ERROR',
      missing ? `Bundle directory ${root} does not exist.` : `Could not read bundle directory ${root}.`,
      { path: root, cause: err, hint: 'Pass the directory that holds the built app (the bundle).' },
    );
  }
  if (!stats.isDirectory()) {
    throw new NotsotufError('BUNDLE_INVALID', `Bundle ${root} is not a directory.`, {
      path: root,
      hint: 'Pass the directory that holds the built app, not a file or archive.',
    });
  }
}

async function walk(
  dirAbs: string,
  dirPath: string,
  out: BundleEntry[],
  signal?: AbortSignal,
): Promise<void> {
  checkAborted(signal, 'Scanning the bundle was aborted.');
  const raw = await io(() => readdir(dirAbs, { encoding: 'buffer' }), dirAbs);
  // Sort on the raw bytes: byte order of UTF-8 equals code point order, independent of locale.
  raw.sort(Buffer.compare);
  for (const rawName of raw) {
    const name = decodeName(rawName, dirAbs);
    const absPath = join(dirAbs, name);
    const path = `${dirPath}/${name}`;
    const stats = await io(() => lstat(absPath), absPath);
    if (stats.isDirectory()) {
      out.push({ path, type: 'dir', mode: 0o755, size: 0, absPath });
      await walk(absPath, path, out, signal);
    } else if (stats.isFile()) {
      // Hard links land here too: they are archived as independent regular files.
      const mode = (stats.mode & 0o111) !== 0 ? 0o755 : 0o644;
      out.push({ path, type: 'file', mode, size: stats.size, absPath });
    } else if (stats.isSymbolicLink()) {
      const linkTarget = await readLinkTarget(absPath);
      out.push({ path, type: 'symlink', mode: 0o777, size: 0, linkTarget, absPath });
    } else {
      throw new NotsotufError('BUNDLE_SPECIAL_FILE', `Bundle contains a ${specialKind(stats)}: ${absPath}.`, {
        path: absPath,
        hint: 'Archives may only hold directories, regular files and symlinks; remove it from the bundle.',
      });
    }
  }
}

async function readLinkTarget(absPath: string): Promise<string> {
  const raw = await io(() => readlink(absPath, { encoding: 'buffer' }), absPath);
  let target: string;
  try {
    target = utf8.decode(raw);
  } catch {
    throw badName(absPath, 'has a link target that is not valid UTF-8');
  }
  if (target.includes('\0')) throw badName(absPath, 'has a link target containing a NUL byte');
  return target;
}

function decodeName(raw: Buffer, dirAbs: string): string {
  let name: string;
  try {
    name = utf8.decode(raw);
  } catch {
    // Show the name lossily so the user can find it; the archive itself never gets a lossy name.
    throw badName(join(dirAbs, raw.toString('latin1')), 'has a name that is not valid UTF-8');
  }
  if (name.includes('\0')) throw badName(join(dirAbs, name), 'has a name containing a NUL byte');
  // A backslash is a path separator on Windows, so the same member would extract differently there.
  if (name.includes('\\')) throw badName(join(dirAbs, name), 'has a name containing a backslash');
  return name;
}

function badName(path: string, what: string): NotsotufError {
  return new NotsotufError('BUNDLE_INVALID', `Bundle entry ${path} ${what}.`, {
    path,
    hint: 'Rename it: archive names must be valid UTF-8 without NUL bytes or backslashes.',
  });
}

function specialKind(stats: Stats): string {
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isSocket()) return 'socket';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isCharacterDevice()) return 'character device';
  return 'special file';
}

async function io<T>(op: () => Promise<T>, path: string): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new NotsotufError('IO_ERROR', `Could not read ${path}.`, {
      path,
      cause: err,
      hint: 'Check that the bundle is readable and is not being changed while it is archived.',
    });
  }
}
