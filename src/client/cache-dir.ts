/**
 * The client's cache directory:
 * ```
 * <cacheDir>/metadata/   trusted metadata (root.json … timestamp.json; root-history/N.root.json)
 * <cacheDir>/targets/    the verified tar of the installed version, `<app>-<version>.tar` (base of the next
 *                        patch; in the versioned layout also those of the versions kept for a rollback), or
 *                        its published `.tar.gz` when an installer put that there; downloaded patches,
 *                        `<patch>.failed` markers
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
import { formatTargetName, parseTargetName, type TargetName } from '../core/target-name.js';
import { compareVersions, type Version } from '../core/version.js';
import { writeFileAtomic } from '../util/durable-fs.js';
import { failedPatchKey } from './plan/plan-update.js';

const FAILED_SUFFIX = '.failed';
const TAR_SUFFIX = '.tar';

/**
 * A cache file name as an archive name: `<app>-<version>.tar` (a kept verified tar) parses as the archive it was
 * unpacked or rebuilt from.
 */
function parseCachedName(name: string): TargetName | undefined {
  return parseTargetName(name.endsWith(TAR_SUFFIX) ? `${name}.gz` : name);
}
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

  /**
   * Where the verified tar of `app` at `version` is kept as the base of the next patch update. Kept uncompressed:
   * the next update then only hashes it, where a gzipped copy had to be compressed while the patch was applied and
   * decompressed again before the next one (5 s of a 11 s patch update of a 183 MB app; bench/results).
   */
  baseTarPath(app: string, version: Version): string {
    return join(this.targetsDir, formatTargetName(app, version, 'archive').slice(0, -'.gz'.length));
  }

  /** The kept verified tar of `app` at `version` (see baseTarPath), whatever spelling of the version its name uses. */
  findBaseTar(app: string, version: Version): Promise<string | undefined> {
    return this.#find(app, version, (name) => name.endsWith(TAR_SUFFIX));
  }

  /** The cached `.tar.gz` archive of `app` at `version`, whatever spelling of the version its name uses. */
  findArchive(app: string, version: Version): Promise<string | undefined> {
    return this.#find(app, version, (name) => !name.endsWith(TAR_SUFFIX));
  }

  async #find(app: string, version: Version, wanted: (name: string) => boolean): Promise<string | undefined> {
    for (const name of await readdir(this.targetsDir).catch(() => [])) {
      const parsed = parseCachedName(name);
      if (
        wanted(name) &&
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
   * After an install: keep `keep` (the tar or archive of the installed version, base of the next patch) and the
   * tars or archives of `keepVersions` (the versions a versioned install root keeps for a rollback: after one, the
   * next patch starts from them); other archives, tars, patches and failed markers of `app` go, as do partial
   * downloads. A `.tar.gz` goes too when the verified tar of its version is kept (the tar is the base).
   */
  async prune(app: string, keep: string, keepVersions: readonly Version[] = []): Promise<void> {
    const names = await readdir(this.targetsDir).catch(() => []);
    const isKept = (name: string, parsed: TargetName | undefined) =>
      name === keep ||
      (parsed?.kind === 'archive' &&
        parsed.app === app &&
        keepVersions.some((v) => compareVersions(parsed.version, v) === 0));
    const keptTars = names.flatMap((name) => {
      const parsed = parseCachedName(name);
      return name.endsWith(TAR_SUFFIX) && parsed && isKept(name, parsed) ? [parsed.version] : [];
    });
    for (const name of names) {
      const base = name.endsWith(FAILED_SUFFIX) ? name.slice(0, -FAILED_SUFFIX.length) : name;
      const parsed = parseCachedName(base);
      const superseded =
        !name.endsWith(TAR_SUFFIX) &&
        parsed?.kind === 'archive' &&
        keptTars.some((v) => compareVersions(parsed.version, v) === 0);
      if (base === name && isKept(name, parsed) && !superseded) continue;
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
