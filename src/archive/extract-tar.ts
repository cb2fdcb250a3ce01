/**
 * Extracts a release archive (an uncompressed tar) into a fresh staging directory, refusing anything that could
 * write outside it. The tar's hash was checked against signed metadata before this runs; these checks are the
 * defence in depth against a rogue signing key or a compromised build machine.
 *
 * Order per member: first, every pure check (path, type, duplicates, parents, link targets) against what was
 * extracted so far; second, create missing parent directories; third, create the member. Nothing is ever written
 * through a link: a member whose parent is a symlink or file is refused, files are created with O_EXCL (which
 * fails on any existing name, dangling symlinks included), and any name clash the file system reports (a case-
 * or Unicode-insensitive alias of an earlier entry) is refused too.
 */
import { type FileHandle, link, lutimes, mkdir, open, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { aborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { wrapForeignError } from '../core/foreign-error.js';
import { removeTree } from '../util/durable-fs.js';
import { checkSymlinkTarget, normalizeEntryPath, parentPaths, ROOT_PATH } from './entry-path.js';
import { applyDirModes } from './extract-fs.js';
import { linkProblem } from './link-safety.js';
import { BLOCK_SIZE } from './tar-format.js';
import { readTarEntries, readTarEntryData, type TarEntry } from './tar-reader.js';

/** Options for {@link extractTar}. */
export interface ExtractTarOptions {
  /** The signed size of the tar (tufup's `tar_size`): a larger file is refused before anything is read. */
  maxTarSize?: number;
  signal?: AbortSignal;
  /** Called as the archive is read: `bytes` of the tar's `total` bytes are done. */
  onProgress?: (progress: ExtractProgress) => void;
}

/** Progress of {@link extractTar}, in bytes of the tar file. */
export interface ExtractProgress {
  bytes: number;
  total: number;
}

/** What {@link extractTar} created. */
export interface ExtractResult {
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  /** Bytes of file content written. */
  bytes: number;
}

/** Mode of directories not listed in the archive, and of the root unless the archive has a `./` member. */
const IMPLICIT_DIR_MODE = 0o755;
/** Modes while extracting: private and writable whatever the archive says; final modes are applied at the end. */
const STAGING_DIR_MODE = 0o700;
const STAGING_FILE_MODE = 0o600;

const UNSAFE_HINT =
  'Do not install this archive: it could write outside its directory or create unsafe files. Keep the current ' +
  'version and report the archive to the publisher.';

/** What an archive path holds so far: an entry of the archive, or a directory created for its children. */
type Seen = 'file' | 'dir' | 'symlink' | 'implicit';

/**
 * Extracts the tar at `tarPath` into `destDir`, which must not exist yet (its parent must). Checks run before any
 * file-system call for a member and refuse: unsafe paths (absolute, `..`, backslash, colon, NUL), symlinks that
 * are absolute or lead outside `destDir` (also through other links), hardlinks to anything but a regular file
 * extracted earlier from this archive, devices, FIFOs and unknown types, any duplicate path, and members below a
 * symlink or a file. Files get `mode & 0o777` (no setuid, setgid or sticky bits) and their mtime; directory modes
 * and mtimes are applied last, deepest first, so a read-only directory cannot block its own contents.
 *
 * On any failure or abort `destDir` is removed completely, then the error is thrown.
 *
 * @example
 * ```ts
 * await gunzipToFile(archive, tarFile, { maxSize: tarSize });
 * const result = await extractTar(tarFile, stagingDir, { maxTarSize: tarSize, signal });
 * ```
 * @throws NotsotufError INVALID_ARGUMENT (`destDir` exists or its parent does not, `tarPath` is not a file,
 *   bad `maxTarSize`), ARCHIVE_UNSAFE (details `{ entry, reason }`; reason `too large` for a tar over
 *   `maxTarSize`), ARCHIVE_INVALID (malformed or truncated tar), IO_ERROR, ABORTED.
 */
export async function extractTar(
  tarPath: string,
  destDir: string,
  options: ExtractTarOptions = {},
): Promise<ExtractResult> {
  const { maxTarSize, signal } = options;
  if (maxTarSize !== undefined && !(Number.isSafeInteger(maxTarSize) && maxTarSize >= 0)) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      `maxTarSize must be a whole number of bytes, not ${maxTarSize}.`,
    );
  }
  const root = resolve(destDir);
  let file: FileHandle | undefined;
  let created = false;
  try {
    signal?.throwIfAborted();
    file = await open(tarPath, 'r');
    const stats = await file.stat();
    if (!stats.isFile()) {
      throw new NotsotufError('INVALID_ARGUMENT', `${tarPath} is not a regular file.`, {
        path: tarPath,
        hint: 'Pass the path of the uncompressed tar file.',
      });
    }
    const { size } = stats;
    if (maxTarSize !== undefined && size > maxTarSize) {
      throw new NotsotufError(
        'ARCHIVE_UNSAFE',
        `The archive ${tarPath} is ${size} bytes, more than the ${maxTarSize} bytes its signed metadata allow.`,
        { path: tarPath, details: { reason: 'too large', size, maxTarSize }, hint: UNSAFE_HINT },
      );
    }
    await createRoot(root);
    created = true;
    return await new Extraction(file, tarPath, root, size, options).run();
  } catch (err) {
    // destDir was created by this call (never a directory the caller had), so all of it goes. Best effort: the
    // error to report is the one that stopped the extraction, and a leftover staging tree is only wasted space
    // (callers never reuse one).
    if (created) await removeTree(root).catch(() => undefined);
    throw toExtractError(err, tarPath, signal);
  } finally {
    await file?.close();
  }
}

class Extraction {
  private readonly seen = new Map<string, Seen>([[ROOT_PATH, 'implicit']]);
  /** Final mode (and mtime, for listed directories) of every directory, applied after all contents. */
  private readonly dirModes = new Map<string, { mode: number; mtime?: number }>([
    [ROOT_PATH, { mode: IMPLICIT_DIR_MODE }],
  ]);
  /** Every symlink, keyed `./path` as linkProblem expects, for the check through other links at the end. */
  private readonly links = new Map<string, string>();
  private readonly result: ExtractResult = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, bytes: 0 };

  constructor(
    private readonly file: FileHandle,
    private readonly tarPath: string,
    private readonly root: string,
    private readonly size: number,
    private readonly options: ExtractTarOptions,
  ) {}

  async run(): Promise<ExtractResult> {
    const { signal } = this.options;
    for await (const entry of readTarEntries(this.file, { size: this.size, path: this.tarPath })) {
      signal?.throwIfAborted();
      const path = this.check(entry);
      await this.makeParents(entry, path);
      await this.create(entry, path);
      this.progress(entry.dataOffset + Math.ceil(entry.size / BLOCK_SIZE) * BLOCK_SIZE);
    }
    this.checkLinkChains();
    await applyDirModes(this.root, this.dirModes);
    return this.result;
  }

  /** Every pure check for one member; returns its normalised path or throws ARCHIVE_UNSAFE. */
  private check(entry: TarEntry): string {
    const normal = normalizeEntryPath(entry.path);
    if (!normal.ok) throw this.unsafe(entry, normal.reason);
    const { path } = normal;
    if (entry.type === 'other') throw this.unsafe(entry, typeProblem(entry.typeflag));
    if (path === ROOT_PATH && entry.type !== 'dir')
      throw this.unsafe(entry, 'is the root but not a directory');
    const prior = this.seen.get(path);
    // A directory listed after its contents is fine; anything else at a taken path could replace a link or file.
    if (prior === 'implicit' && entry.type !== 'dir') {
      throw this.unsafe(entry, 'would replace a directory created for earlier entries');
    }
    if (prior !== undefined && prior !== 'implicit') throw this.unsafe(entry, 'duplicates an earlier entry');
    for (const parent of parentPaths(path)) {
      const kind = this.seen.get(parent);
      if (kind === 'symlink' || kind === 'file') {
        throw this.unsafe(entry, `is inside ${JSON.stringify(parent)}, which is a ${kind}, not a directory`);
      }
    }
    if (entry.type === 'symlink') {
      const target = checkSymlinkTarget(path, entry.linkname);
      if (!target.ok) throw this.unsafe(entry, target.reason);
    } else if (entry.type === 'hardlink') {
      const target = normalizeEntryPath(entry.linkname);
      if (!target.ok) throw this.unsafe(entry, `is a hard link whose target ${target.reason}`);
      if (this.seen.get(target.path) !== 'file') {
        throw this.unsafe(
          entry,
          `is a hard link to ${JSON.stringify(entry.linkname)}, which is not a regular file extracted earlier from this archive`,
        );
      }
    }
    return path;
  }

  /** Creates parent directories the archive does not list, outermost first. */
  private async makeParents(entry: TarEntry, path: string): Promise<void> {
    for (const parent of parentPaths(path)) {
      if (this.seen.has(parent)) continue;
      await this.fs(entry, parent, 'create the directory', (abs) => mkdir(abs, { mode: STAGING_DIR_MODE }));
      this.seen.set(parent, 'implicit');
      this.dirModes.set(parent, { mode: IMPLICIT_DIR_MODE });
    }
  }

  private async create(entry: TarEntry, path: string): Promise<void> {
    switch (entry.type) {
      case 'dir':
        if (this.seen.get(path) === undefined) {
          await this.fs(entry, path, 'create the directory', (abs) => mkdir(abs, { mode: STAGING_DIR_MODE }));
        }
        this.seen.set(path, 'dir');
        this.dirModes.set(path, { mode: entry.mode & 0o777, mtime: entry.mtime });
        this.result.dirs++;
        return;
      case 'file':
        await this.fs(entry, path, 'write the file', (abs) => this.writeFile(entry, abs));
        this.seen.set(path, 'file');
        this.result.files++;
        return;
      case 'symlink':
        await this.fs(entry, path, 'create the symlink', async (abs) => {
          await symlink(entry.linkname, abs);
          await lutimes(abs, entry.mtime, entry.mtime).catch(ignoreUnsupported);
        });
        this.seen.set(path, 'symlink');
        this.links.set(`./${path}`, entry.linkname);
        this.result.symlinks++;
        return;
      case 'hardlink': {
        // check() made sure the target is a regular file this extraction created. Mode and mtime are the
        // target's: both names share one inode.
        const target = normalizeEntryPath(entry.linkname) as { ok: true; path: string };
        await this.fs(entry, path, 'create the hard link', (abs) => link(this.abs(target.path), abs));
        this.seen.set(path, 'file');
        this.result.hardlinks++;
        return;
      }
      default:
        throw this.unsafe(entry, typeProblem(entry.typeflag));
    }
  }

  /** Streams a member's data into a new file: O_EXCL, private while written, then its mode and mtime. */
  private async writeFile(entry: TarEntry, abs: string): Promise<void> {
    const out = await open(abs, 'wx', STAGING_FILE_MODE);
    try {
      let position = 0;
      await pipeline(
        readTarEntryData(this.file, entry, { path: this.tarPath }),
        async (source: AsyncIterable<Buffer>) => {
          for await (const chunk of source) {
            for (let done = 0; done < chunk.length; ) {
              const { bytesWritten } = await out.write(chunk, done, chunk.length - done, position);
              done += bytesWritten;
              position += bytesWritten;
            }
            this.result.bytes += chunk.length;
            this.progress(entry.dataOffset + position);
          }
        },
        ...(this.options.signal ? [{ signal: this.options.signal }] : []),
      );
      await out.chmod(entry.mode & 0o777);
      await out.utimes(entry.mtime, entry.mtime);
    } finally {
      await out.close();
    }
  }

  /**
   * Links were each checked lexically when met; a target that goes through another link (`a -> .` then
   * `b -> a/../x`) can only be judged once all links are known, so every link is resolved again here.
   */
  private checkLinkChains(): void {
    for (const [key, target] of this.links) {
      const problem = linkProblem(key, target, this.links);
      if (problem !== undefined) {
        throw this.unsafe(
          { path: key.slice(2), linkname: target },
          `is a symlink to ${JSON.stringify(target)}, which ${problem}`,
        );
      }
    }
  }

  /** Runs one file-system step for `path`; a name clash becomes ARCHIVE_UNSAFE, other errors IO_ERROR. */
  private async fs(
    entry: TarEntry,
    path: string,
    action: string,
    run: (abs: string) => Promise<void>,
  ): Promise<void> {
    const abs = this.abs(path);
    try {
      await run(abs);
    } catch (err) {
      if (err instanceof NotsotufError || this.options.signal?.aborted) throw err;
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw this.unsafe(
          entry,
          `collides with another entry at ${JSON.stringify(path)} on this file system`,
        );
      }
      const windowsLink = process.platform === 'win32' && entry.type === 'symlink';
      throw new NotsotufError('IO_ERROR', `Could not ${action} ${abs} while extracting ${this.tarPath}.`, {
        cause: err,
        path: abs,
        details: { entry: entry.path },
        hint: windowsLink
          ? 'Creating symlinks on Windows needs Developer Mode or administrator rights.'
          : 'Check that the staging directory is writable and that the disk is not full.',
      });
    }
  }

  private abs(path: string): string {
    return path === ROOT_PATH ? this.root : join(this.root, ...path.split('/'));
  }

  private progress(bytes: number): void {
    this.options.onProgress?.({ bytes, total: this.size });
  }

  private unsafe(entry: Pick<TarEntry, 'path' | 'linkname'>, reason: string): NotsotufError {
    return new NotsotufError(
      'ARCHIVE_UNSAFE',
      `The archive ${this.tarPath} was refused: its entry ${JSON.stringify(entry.path)} ${reason}.`,
      { path: this.tarPath, details: { entry: entry.path, reason }, hint: UNSAFE_HINT },
    );
  }
}

function typeProblem(typeflag: string): string {
  if (typeflag === '3') return 'is a character device';
  if (typeflag === '4') return 'is a block device';
  if (typeflag === '6') return 'is a FIFO';
  return `has the unsupported type ${JSON.stringify(typeflag)}`;
}

/** Creates the staging root; it must be new, so leftovers of an earlier attempt are never reused. */
async function createRoot(root: string): Promise<void> {
  try {
    await mkdir(root, { mode: STAGING_DIR_MODE });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') {
      throw new NotsotufError(
        'INVALID_ARGUMENT',
        code === 'EEXIST'
          ? `The extraction directory ${root} already exists.`
          : `The parent of the extraction directory ${root} does not exist.`,
        {
          cause: err,
          path: root,
          hint: 'Extract into a new directory inside an existing one; remove leftovers of an earlier attempt first.',
        },
      );
    }
    throw err;
  }
}

/** A symlink's own mtime is cosmetic: a platform that cannot set it is no reason to fail. */
function ignoreUnsupported(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOSYS' && err.code !== 'ENOTSUP' && err.code !== 'EOPNOTSUPP') throw err;
}

function toExtractError(err: unknown, tarPath: string, signal?: AbortSignal): NotsotufError {
  if (signal?.aborted) {
    if (err instanceof NotsotufError && err.code === 'ABORTED') return err;
    return aborted(`Extracting ${tarPath} was aborted.`, { cause: signal.reason });
  }
  return wrapForeignError(err, `Extracting ${tarPath}`, {
    ioMessage: `Could not extract ${tarPath}.`,
    path: tarPath,
  });
}
