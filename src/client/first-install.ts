/**
 * The first install of an app in the versioned layout, what an installer does once: into a new or empty install
 * root, the newest release of the channel (or the one asked for) is downloaded through tuf-js, verified, installed
 * as the first version with `versionedStrategy`, and the entry point is written beside it. The client cache it
 * fills (metadata, the archive as the base of the first patch) is the one later updates use.
 *
 * Every byte comes through the verified path: the archive is written under its final name only once tuf-js has
 * checked its signed length and hashes, its tar is checked against the signed tar hash, and only then extracted.
 * The install is all or nothing: until the last step is done, a failure removes everything it made.
 */
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { extractTar } from '../archive/index.js';
import { checkAborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { wrapForeignError } from '../core/foreign-error.js';
import { groupReleases } from '../core/releases.js';
import { parseVersion, type Version } from '../core/version.js';
import {
  claimFreshRoot,
  discardFreshRoot,
  type EntryPoint,
  type EntryPointOptions,
  type FreshRoot,
  type InstallStrategy,
  planEntryPoint,
  versionDir,
  versionedStrategy,
  writeEntryPoint,
} from '../install/index.js';
import type { ResilientFetcher } from '../transport/index.js';
import { renameRetrying, writeFileAtomic } from '../util/durable-fs.js';
import { acquireLock } from '../util/lock-file.js';
import { CacheDir } from './cache-dir.js';
import { ClientEvents } from './events.js';
import { type ClientOptions, DEFAULT_CLIENT_OPTIONS, type Mirror } from './options.js';
import { type InstallableRelease, selectFirstRelease } from './plan/select-first-release.js';
import { ProgressMeter } from './progress-meter.js';
import { inspectCachedTar, unpackArchive, type VerifiedTar } from './rebuild.js';
import { fetcherFor, mirrorsOf, readTrustedRoot } from './repository-access.js';
import { parseTrustedRoot } from './root-chain.js';
import { refreshTrustedMetadata, type TrustedMetadata } from './trusted-metadata.js';

/** Where the install root keeps the trusted root it was installed with, for the client's later updates. */
export const TRUSTED_ROOT_FILE = 'root.json';
/** The client cache of a first install, relative to the install root, unless `cacheDir` says otherwise. */
export const DEFAULT_CACHE_SUBDIR = 'cache';

export interface FirstInstallOptions
  extends Pick<
    ClientOptions,
    | 'appName'
    | 'metadataUrl'
    | 'targetsUrl'
    | 'mirrors'
    | 'channel'
    | 'headers'
    | 'fetch'
    | 'maxUnsignedTarSize'
  > {
  /** The install root: created when missing; an existing one must be an empty directory. */
  readonly installRoot: string;
  /** The root.json the app trusts (bytes or a path); a copy is kept as `<installRoot>/root.json`. */
  readonly trustedRoot: Uint8Array | string | { readonly path: string };
  /** The client cache for this and later updates. Default `<installRoot>/cache`. */
  readonly cacheDir?: string;
  /** The version to install (any channel). Default: the newest release in `channel`. */
  readonly version?: string;
  /** What the entry point starts inside a release, e.g. `bin/my-app` or `app.mjs` (versionedStrategy's `entry`). */
  readonly entry: string;
  /** How the entry point is written (writeEntryPoint's options); its name defaults to `appName`. */
  readonly entryPoint?: Omit<EntryPointOptions, 'appName'> & { readonly appName?: string };
}

export interface FirstInstallResult {
  readonly version: string;
  readonly installRoot: string;
  /** `<installRoot>/versions/<version>`. */
  readonly versionDir: string;
  readonly entryPoint: EntryPoint;
  /** The copy of the trusted root in the install root. */
  readonly trustedRoot: string;
  readonly cacheDir: string;
  /** The archive installed (kept in the cache as the base of the first patch). */
  readonly archive: { readonly name: string; readonly length: number };
  /** Bytes downloaded (0 when the cache held the verified archive already). */
  readonly downloadedBytes: number;
}

const STEPS = 6;

/** IO_ERROR for an errno error, ABORTED, else INTERNAL_ERROR (a bug): see `core/foreign-error.ts`. */
function wrap(err: unknown, signal: AbortSignal | undefined): NotsotufError {
  return wrapForeignError(err, 'The install', { signal });
}

/**
 * Installs the first version of an app into a new install root (versioned layout) and writes its entry point. It
 * emits the Client's events (`installing` for each numbered step, `download-progress`, `verifying`, `extracting`,
 * `warning`, `done`, `error`), so an installer shows progress the same way as an update.
 *
 * @example
 * const installer = new FirstInstaller({ appName: 'my_app', installRoot: '/opt/my_app', entry: 'bin/my-app',
 *   metadataUrl: 'https://updates.example.com/metadata/', targetsUrl: 'https://updates.example.com/targets/',
 *   trustedRoot: { path: 'root.json' } });
 * const { entryPoint } = await installer.install(); // users start entryPoint.path
 * @throws NotsotufError (constructor) INVALID_ARGUMENT (no repository location, unsafe entry, a cache dir that is
 *   the root), VERSION_INVALID, APP_NAME_INVALID.
 */
export class FirstInstaller extends ClientEvents {
  readonly #options: FirstInstallOptions;
  readonly #root: string;
  readonly #cache: CacheDir;
  readonly #mirrors: readonly Mirror[];
  readonly #version: Version | undefined;
  readonly #strategy: InstallStrategy;
  readonly #entryPoint: EntryPointOptions;
  /** Bytes downloaded by the running install. */
  #downloaded = 0;

  constructor(options: FirstInstallOptions) {
    super();
    this.#options = options;
    this.#root = resolve(options.installRoot);
    const cacheDir = resolve(options.cacheDir ?? join(this.#root, DEFAULT_CACHE_SUBDIR));
    if (cacheDir === this.#root) {
      throw new NotsotufError('INVALID_ARGUMENT', 'The cache directory cannot be the install root itself.', {
        hint: `Leave it out (the default is ${join(this.#root, DEFAULT_CACHE_SUBDIR)}) or name another directory.`,
      });
    }
    this.#cache = new CacheDir(cacheDir);
    this.#mirrors = mirrorsOf(options);
    this.#version = options.version === undefined ? undefined : parseVersion(options.version);
    // Checked now, before anything is made: an unsafe entry, a bad app name or trial limit fails at once.
    this.#strategy = versionedStrategy({ entry: options.entry });
    this.#entryPoint = { ...options.entryPoint, appName: options.entryPoint?.appName ?? options.appName };
    planEntryPoint(this.#root, this.#entryPoint);
  }

  /**
   * Runs the six steps, each announced (`installing`) before it runs. Nothing is final before the last one: a
   * failure or abort removes the root (or, for one that existed empty, what was put in it) and a cache directory
   * the install created outside the root.
   *
   * @throws NotsotufError ALREADY_INSTALLED (a versioned root: update it instead), INSTALL_ROOT_NOT_EMPTY, APP_NOT_FOUND,
   *   RELEASE_NOT_FOUND, METADATA_* (the repository did not verify against the trusted root), DOWNLOAD_*, TARGET_*,
   *   ARCHIVE_*, INSTALL_FAILED (e.g. the release lacks the entry), CACHE_LOCKED, INSTALL_LOCKED, IO_ERROR, ABORTED,
   *   INTERNAL_ERROR.
   */
  async install(options: { readonly signal?: AbortSignal } = {}): Promise<FirstInstallResult> {
    const { signal } = options;
    let claim: FreshRoot | undefined;
    let cacheCreated: string | undefined;
    this.#downloaded = 0;
    try {
      checkAborted(signal, 'The install was aborted.');
      // Read first: a missing trust anchor must not leave a root behind. These bytes are the ones verified with
      // and the ones kept, whatever happens to the file meanwhile.
      const trustedRoot = await readTrustedRoot(this.#options.trustedRoot);
      parseTrustedRoot(trustedRoot); // not a root.json at all: say so before a root is made
      this.#step(1, `Check the install root ${this.#root}`);
      claim = await claimFreshRoot(this.#root);
      cacheCreated = await this.#createCache();
      const release = await this.#locked(() => this.#downloadAndInstall(trustedRoot, signal));
      this.#step(6, 'Write the entry point and the trusted root');
      const entryPoint = await writeEntryPoint(this.#root, this.#entryPoint);
      const trustedCopy = join(this.#root, TRUSTED_ROOT_FILE);
      await writeFileAtomic(trustedCopy, trustedRoot);
      // Done: from here on the install root is the app's.
      const result: FirstInstallResult = {
        version: release.version.raw,
        installRoot: this.#root,
        versionDir: versionDir(this.#root, release.version.raw),
        entryPoint,
        trustedRoot: trustedCopy,
        cacheDir: this.#cache.dir,
        archive: { name: release.archive.name, length: release.archive.length },
        downloadedBytes: this.#downloaded,
      };
      this.emit('done', { version: result.version, outcome: 'installed' });
      return result;
    } catch (err) {
      const e = wrap(err, signal);
      await this.#undo(claim, cacheCreated);
      this.emit('error', e);
      throw e;
    }
  }

  async #downloadAndInstall(trustedRoot: Uint8Array, signal?: AbortSignal): Promise<InstallableRelease> {
    this.#step(2, 'Refresh the trusted metadata and select the release');
    await this.#cache.clearWork();
    const fetcher = fetcherFor(this.#mirrors, this.#options, this.#cache.partialDir, signal);
    const meta = await refreshTrustedMetadata({
      metadataDir: this.#cache.metadataDir,
      workDir: this.#cache.workDir,
      trustedRoot,
      fetcher,
      onWarning: (message) => this.emit('warning', { message }),
    });
    try {
      const release = selectFirstRelease({
        grouped: groupReleases(meta.targets),
        appName: this.#options.appName,
        channel: this.#options.channel ?? DEFAULT_CLIENT_OPTIONS.channel,
        ...(this.#version ? { version: this.#version } : {}),
      });
      const tar = await this.#downloadVerified(meta, fetcher, release, signal);
      await this.#extractAndInstall(tar, release.version.raw, signal);
      await this.#keepBase(tar, release);
      await this.#cache.clearWork().catch(() => undefined);
      return release;
    } finally {
      fetcher.onProgress = undefined;
      await meta.close();
    }
  }

  /** Step 3: the release's archive, downloaded unless the cache holds it, and its tar checked. */
  async #downloadVerified(
    meta: TrustedMetadata,
    fetcher: ResilientFetcher,
    release: InstallableRelease,
    signal: AbortSignal | undefined,
  ): Promise<VerifiedTar> {
    const { archive } = release;
    this.#step(3, `Download and verify ${archive.name} (${release.version.raw})`);
    // A tar an earlier install or update kept in this cache, when it matches the signed tar hash (without one it
    // is only `unverifiable`, and not used).
    const kept = await this.#cache.findBaseTar(this.#options.appName, release.version);
    const inspected = kept === undefined ? undefined : await inspectCachedTar(kept, archive, signal);
    if (inspected?.state === 'verified' && inspected.tar) return inspected.tar;
    const archivePath = this.#cache.targetPath(archive.name);
    if (!(await meta.findCachedTarget(archive.name, archivePath))) {
      const meter = new ProgressMeter(archive.length);
      fetcher.onProgress = (p) => {
        const rate = meter.add(p.delta);
        this.#downloaded = meter.bytes;
        this.emit('download-progress', {
          bytes: meter.bytes,
          total: meter.total,
          rate,
          file: archive.name,
        });
      };
      // tuf-js checks the signed length and hashes before the file appears under this name.
      await meta.downloadTarget(archive.name, archivePath);
    }
    this.emit('verifying', { name: archive.name });
    const maxTar = this.#options.maxUnsignedTarSize ?? DEFAULT_CLIENT_OPTIONS.maxUnsignedTarSize;
    return unpackArchive(archivePath, archive, join(this.#cache.workDir, 'first.tar'), maxTar, signal);
  }

  /**
   * Keeps the verified tar as the base of the first patch update, in place of the archive, as an update does
   * (CacheDir.baseTarPath). The version is installed by now: a failure here only warns (the first update then
   * downloads the full archive).
   */
  async #keepBase(tar: VerifiedTar, release: InstallableRelease): Promise<void> {
    try {
      await renameRetrying(tar.path, this.#cache.baseTarPath(this.#options.appName, release.version));
      await rm(this.#cache.targetPath(release.archive.name), { force: true });
    } catch (err) {
      this.emit('warning', {
        message: 'Could not keep the verified tar for the first patch update.',
        cause: err,
      });
    }
  }

  /** Steps 4 and 5: extract the tar into a staging tree and install it as the first version. */
  async #extractAndInstall(
    tar: VerifiedTar,
    version: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.#step(4, `Extract ${version}`);
    this.emit('extracting', { version });
    const staging = join(this.#cache.workDir, 'first-staging');
    await extractTar(tar.path, staging, { maxTarSize: tar.size, ...(signal ? { signal } : {}) });

    this.#step(5, `Install ${version} as the first version into versions/`);
    await this.#strategy.install({
      sourceDir: staging,
      installDir: this.#root,
      version,
      ...(signal ? { signal } : {}),
      onWarning: (message, cause) => this.emit('warning', { message, cause }),
    });
  }

  #step(index: number, title: string): void {
    this.emit('installing', { index, total: STEPS, title });
  }

  /** Creates the cache; returns the topmost directory made outside the root (removed again on failure). */
  async #createCache(): Promise<string | undefined> {
    const made = await mkdir(this.#cache.dir, { recursive: true });
    await this.#cache.create();
    if (made === undefined) return undefined;
    const inRoot = relative(this.#root, made);
    return inRoot !== '' && !inRoot.startsWith('..') && !isAbsolute(inRoot) ? undefined : made;
  }

  async #locked<T>(body: () => Promise<T>): Promise<T> {
    const release = await acquireLock(
      this.#cache.lockPath,
      `The update cache ${this.#cache.dir}`,
      undefined,
      'CACHE_LOCKED',
    );
    try {
      return await body();
    } finally {
      await release();
    }
  }

  /** Removes what the failed install made; a failure here is a warning, the install's own error is what counts. */
  async #undo(claim: FreshRoot | undefined, cacheCreated: string | undefined): Promise<void> {
    const warn = (err: unknown) =>
      this.emit('warning', {
        message: err instanceof NotsotufError ? `${err.message} ${err.hint ?? ''}`.trim() : String(err),
        cause: err,
      });
    if (cacheCreated !== undefined) {
      await rm(cacheCreated, { recursive: true, force: true }).catch(warn);
    }
    if (claim !== undefined) await discardFreshRoot(claim).catch(warn);
  }
}
