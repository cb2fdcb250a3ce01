/**
 * The client's cache directory:
 * ```
 * <cacheDir>/metadata/   trusted metadata (root.json … timestamp.json; root-history/N.root.json)
 * <cacheDir>/targets/    the archive of the installed version (base of the next patch; in the versioned layout
 *                        also those of the versions kept for a rollback), downloaded patches, `<patch>.failed`
 *                        markers
 * <cacheDir>/partial/    interrupted downloads, resumed next time
 * <cacheDir>/work/       scratch space of one operation (tars, staging); leftovers are removed
 * <cacheDir>/lock        held while the client works, so two processes never share the cache
 * <cacheDir>/install-id  this install's random id, for staged rollouts; it never leaves the machine
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReleaseFile } from '../core/releases.js';
import { parseTargetName } from '../core/target-name.js';
import { compareVersions, type Version } from '../core/version.js';
import { writeFileAtomic } from '../util/durable-fs.js';
import { failedPatchKey } from './plan/plan-update.js';

const FAILED_SUFFIX = '.failed';
const INSTALL_ID_RE = /^[0-9a-f]{32}$/;

export class CacheDir {
  readonly metadataDir: string;
  readonly targetsDir: string;
  readonly partialDir: string;
  readonly workDir: string;
  readonly lockPath: string;

  constructor(readonly dir: string) {
    this.metadataDir = join(dir, 'metadata');
    this.targetsDir = join(dir, 'targets');
    this.partialDir = join(dir, 'partial');
    this.workDir = join(dir, 'work');
    this.lockPath = join(dir, 'lock');
  }

  async create(): Promise<void> {
    for (const d of [this.metadataDir, this.targetsDir, this.partialDir, this.workDir]) {
      await mkdir(d, { recursive: true });
    }
  }

  /**
   * This install's stable random id (128 bits, made on first use): the seed of its rollout buckets. Only hashes
   * of it are compared with signed shares, on this machine. A damaged file is replaced by a new id.
   */
  async installId(): Promise<string> {
    const path = join(this.dir, 'install-id');
    const text = await readFile(path, 'utf8').catch(() => '');
    const id = text.trim();
    if (INSTALL_ID_RE.test(id)) return id;
    const fresh = randomBytes(16).toString('hex');
    await writeFileAtomic(path, `${fresh}\n`, 0o600);
    return fresh;
  }

  targetPath(name: string): string {
    return join(this.targetsDir, name);
  }

  /** The cached archive of `app` at `version`, whatever spelling of the version its name uses. */
  async findArchive(app: string, version: Version): Promise<string | undefined> {
    for (const name of await readdir(this.targetsDir).catch(() => [])) {
      const parsed = parseTargetName(name);
      if (
        parsed?.kind === 'archive' &&
        parsed.app === app &&
        compareVersions(parsed.version, version) === 0
      ) {
        return join(this.targetsDir, name);
      }
    }
    return undefined;
  }

  /** Keys of patches that produced a wrong result before (see failedPatchKey). */
  async failedPatches(): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const name of await readdir(this.targetsDir).catch(() => [])) {
      if (!name.endsWith(FAILED_SUFFIX)) continue;
      const sha256 = (await readFile(join(this.targetsDir, name), 'utf8').catch(() => '')).trim();
      keys.add(failedPatchKey({ name: name.slice(0, -FAILED_SUFFIX.length), sha256 }));
    }
    return keys;
  }

  async markPatchFailed(file: ReleaseFile): Promise<void> {
    await writeFileAtomic(join(this.targetsDir, `${file.name}${FAILED_SUFFIX}`), `${file.sha256 ?? ''}\n`);
  }

  /**
   * After an install: keep `keep` (the archive of the installed version, base of the next patch) and the archives
   * of `keepVersions` (the versions a versioned install root keeps for a rollback: after one, the next patch starts
   * from them); other archives, patches and failed markers of `app` go, as do partial downloads.
   */
  async prune(app: string, keep: string, keepVersions: readonly Version[] = []): Promise<void> {
    for (const name of await readdir(this.targetsDir).catch(() => [])) {
      if (name === keep) continue;
      const base = name.endsWith(FAILED_SUFFIX) ? name.slice(0, -FAILED_SUFFIX.length) : name;
      const parsed = parseTargetName(base);
      const kept =
        base === name &&
        parsed?.kind === 'archive' &&
        parsed.app === app &&
        keepVersions.some((v) => compareVersions(parsed.version, v) === 0);
      if (kept) continue;
      if (parsed?.app === app || name.startsWith('.')) {
        await rm(join(this.targetsDir, name), { force: true, recursive: true });
      }
    }
    await rm(this.partialDir, { recursive: true, force: true });
    await mkdir(this.partialDir, { recursive: true });
  }

  /** Removes scratch leftovers of earlier runs (a crash mid-update); call with the lock held. */
  async clearWork(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true });
    await mkdir(this.workDir, { recursive: true });
  }
}
