/**
 * The Client an app embeds: check → download (patch chain or full archive, through tuf-js) → rebuild and verify →
 * extract → install. Every decision is made by the pure functions in `plan/`; this class gathers their inputs and
 * executes their result, holding the cache lock while it works. It never prints, prompts or exits.
 *
 * Its parts: `metadata-session.ts` (the trusted metadata a check and its download share), `cached-base.ts` (the
 * installed version's archive as a patch base), `download-route.ts` (patches or full archive, and the fallback),
 * `cache-housekeeping.ts` (after an install).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { extractTar } from '../archive/index.js';
import { checkAborted } from '../core/aborted.js';
import { NotsotufError } from '../core/errors.js';
import { groupReleases, type Release } from '../core/releases.js';
import { compareVersions, parseVersion, type Version } from '../core/version.js';
import type { CleanupResult, InstallOutcome, InstallStrategy, LastResult } from '../install/index.js';
import { codecNames } from '../patch/registry.js';
import { acquireLock } from '../util/lock-file.js';
import { CacheDir } from './cache-dir.js';
import { tidyCacheAfterInstall } from './cache-housekeeping.js';
import { CachedBase, type InspectedBase } from './cached-base.js';
import { asNotsotufError, type ClientContext, emitTiming, timed } from './client-context.js';
import { readDownloadRate } from './download-rate.js';
import { downloadAlongRoute, type PlannedUpdate, reportProgress } from './download-route.js';
import { ClientEvents } from './events.js';
import { InstalledApp, type RestartOptions } from './installed-app.js';
import { MetadataSession } from './metadata-session.js';
import { type ClientOptions, DEFAULT_CLIENT_OPTIONS } from './options.js';
import { planUpdate, type UpdatePlan } from './plan/plan-update.js';
import { selectOffered } from './plan/select-release.js';
import { ProgressMeter } from './progress-meter.js';
import type { VerifiedTar } from './rebuild.js';
import { mirrorsOf, trustedRootOf } from './repository-access.js';
import type { TrustedMetadata } from './trusted-metadata.js';
import { describePlan, type UpdateInfo } from './update-info.js';

/** A downloaded, verified update waiting to be installed. */
export interface DownloadedUpdate {
  readonly version: string;
  /**
   * The release's verified tar in the cache (`<app>-<version>.tar`, rebuilt from patches or unpacked from the
   * archive), kept as the base of the next patch update.
   */
  readonly archivePath: string;
  /** How it was obtained; `full` after a patch failed says so in `fellBack`. */
  readonly method: 'patch' | 'full';
  readonly fellBack: boolean;
  /** Bytes downloaded. */
  readonly bytes: number;
}

export interface InstallResult {
  readonly version: string;
  readonly outcome: InstallOutcome;
}

export interface OperationOptions {
  readonly signal?: AbortSignal;
}

/** What `downloadUpdate` leaves for `installUpdate`. */
interface Downloaded {
  release: Release;
  /** The verified tar, kept in the cache (its path is also `result.archivePath`). */
  tar: VerifiedTar;
  result: DownloadedUpdate;
}

/**
 * The app's releases. A repository that has releases, but none of this app, was most likely given the wrong app
 * name: saying "no update" would hide that forever, so it is an error naming the apps the repository has.
 */
function releasesOf(grouped: ReadonlyMap<string, Release[]>, appName: string): Release[] {
  const releases = grouped.get(appName);
  if (releases || grouped.size === 0) return releases ?? [];
  const apps = [...grouped.keys()].sort();
  throw new NotsotufError(
    'APP_NOT_FOUND',
    `The repository has no releases of the app "${appName}"; it has releases of: ${apps.join(', ')}.`,
    {
      hint: `Use the app name the repository publishes (appName, --app), e.g. ${JSON.stringify(apps[0])}; a platform build is named <app>-<os>-<arch>.`,
      details: { app: appName, apps },
    },
  );
}

export class Client extends ClientEvents {
  readonly appName: string;
  readonly currentVersion: Version;
  /** Where the app is installed (`options.installDir`). */
  readonly installDir: string;
  /** The client's cache directory (`options.cacheDir`). */
  readonly cacheDir: string;
  readonly #options: ClientOptions;
  readonly #cache: CacheDir;
  readonly #ctx: ClientContext;
  readonly #installed: InstalledApp;
  readonly #session: MetadataSession;
  readonly #base: CachedBase;
  #checked: { plan: PlannedUpdate; info: UpdateInfo } | undefined;
  #downloaded: Downloaded | undefined;

  /** Throws INVALID_ARGUMENT (no repository location) and VERSION_INVALID. */
  constructor(options: ClientOptions) {
    super();
    this.#options = options;
    this.appName = options.appName;
    this.currentVersion = parseVersion(options.currentVersion);
    this.installDir = options.installDir;
    this.cacheDir = options.cacheDir;
    this.#cache = new CacheDir(options.cacheDir);
    this.#ctx = { options, cache: this.#cache, emit: (event, payload) => this.emit(event, payload) };
    this.#session = new MetadataSession(this.#ctx, mirrorsOf(options), trustedRootOf(options.trustedRoot));
    this.#base = new CachedBase(this.#ctx);
    this.#installed = new InstalledApp(options.installDir, this.currentVersion.raw, options.appName);
  }

  /**
   * Refreshes the trusted metadata and decides whether and how to update. Returns null when the installed version
   * is the newest in the channel. Throws METADATA_* (the repository did not verify), DOWNLOAD_*, CACHE_LOCKED.
   */
  async checkForUpdates(options: OperationOptions = {}): Promise<UpdateInfo | null> {
    return this.#run(options, async (signal) => {
      this.emit('checking', { currentVersion: this.currentVersion.raw });
      await this.#session.close();
      this.#base.forget();
      await this.#cache.clearWork();
      this.#checked = undefined;
      this.#downloaded = undefined;
      const { meta } = await this.#session.open(signal, false);
      const { plan } = await this.#plan(meta, signal);
      if (plan.kind === 'none') {
        this.emit('update-not-available', {
          currentVersion: this.currentVersion.raw,
          withheld: plan.withheld ?? [],
        });
        return null;
      }
      const info = describePlan(plan, this.currentVersion.raw);
      this.#checked = { plan, info };
      this.emit('update-available', info);
      return info;
    });
  }

  /**
   * Downloads the update found by the last check along the cheapest verified path, rebuilds the new release's
   * tar and checks it against the signed size and hash. A patch that fails is remembered and the full archive is
   * downloaded instead, in the same call. Throws UPDATE_NOT_CHECKED, METADATA_*, DOWNLOAD_*, TARGET_*, ABORTED.
   */
  async downloadUpdate(
    options: OperationOptions & {
      onProgress?: (p: { bytes: number; total: number; rate: number }) => void;
    } = {},
  ): Promise<DownloadedUpdate> {
    return this.#run(options, async (signal) => {
      const checked = this.#checked;
      if (!checked) {
        throw new NotsotufError('UPDATE_NOT_CHECKED', 'There is no update to download.', {
          hint: 'Call checkForUpdates() first; download only when it returned an update.',
        });
      }
      // Before any byte is downloaded: an update with nowhere to go would only be thrown away.
      await this.#installed.checkInstallDir();
      const { meta, fetcher } = await this.#session.open(signal, true);
      try {
        const { plan, baseTar } = await this.#planAgain(meta, checked.plan, signal);
        const meter = new ProgressMeter(plan.method.bytes);
        reportProgress(this.#ctx, fetcher, meter, options.onProgress);
        const { tar, fellBack } = await downloadAlongRoute(this.#ctx, {
          meta,
          plan,
          baseTar,
          meter,
          signal,
        });
        const result: DownloadedUpdate = {
          version: plan.release.version.raw,
          archivePath: tar.path,
          method: fellBack || plan.method.kind === 'full' ? 'full' : 'patch',
          fellBack,
          bytes: meter.bytes,
        };
        this.#downloaded = { release: plan.release, tar, result };
        return result;
      } finally {
        fetcher.onProgress = undefined;
        await this.#session.close();
      }
    });
  }

  /**
   * Extracts the downloaded update safely into a fresh staging directory and installs it with the install
   * strategy (default in place). Returns the outcome: `installed`, or `handover` when the app must quit for a
   * helper to finish (Windows). Throws UPDATE_NOT_CHECKED, ARCHIVE_UNSAFE, ARCHIVE_INVALID, INSTALL_FAILED, ABORTED.
   */
  async installUpdate(
    options: OperationOptions & { strategy?: InstallStrategy } = {},
  ): Promise<InstallResult> {
    return this.#run(options, async (signal) => {
      const downloaded = this.#downloaded;
      if (!downloaded) {
        throw new NotsotufError('UPDATE_NOT_CHECKED', 'There is no downloaded update to install.', {
          hint: 'Call checkForUpdates() and downloadUpdate() first.',
        });
      }
      const version = downloaded.release.version.raw;
      const staging = await this.#extract(downloaded, signal);
      const strategy =
        options.strategy ?? this.#options.installStrategy ?? (await this.#installed.defaultStrategy());
      const outcome = await this.#install(strategy, staging, version, signal);
      // A handover keeps the staging tree: the helper copies from it after the app quits.
      // Past the point of no return: cache housekeeping is best effort.
      if (outcome.kind === 'installed') {
        await tidyCacheAfterInstall(this.#ctx, this.#installed, downloaded.tar.path);
      }
      this.#checked = undefined;
      this.#downloaded = undefined;
      this.emit('done', { version, outcome: outcome.kind });
      return { version, outcome };
    });
  }

  /**
   * check → (confirm) → download → install in one call. Resolves to null when there is no update or `confirm`
   * declined it.
   */
  async update(
    options: OperationOptions & {
      confirm?: (info: UpdateInfo) => boolean | Promise<boolean>;
      onProgress?: (p: { bytes: number; total: number; rate: number }) => void;
    } = {},
  ): Promise<(InstallResult & { info: UpdateInfo; download: DownloadedUpdate }) | null> {
    const info = await this.checkForUpdates(options);
    if (!info) return null;
    if (options.confirm && !(await options.confirm(info))) return null;
    const download = await this.downloadUpdate(options);
    const result = await this.installUpdate(options);
    return { ...result, info, download };
  }

  /**
   * Tells the entry point that this version started properly, ending its trial (versioned layout; false and
   * nothing done otherwise). A version on trial that exits with an error or does not confirm in time is rolled
   * back. Throws INSTALL_FAILED when the install root cannot be written.
   */
  markHealthy(): Promise<boolean> {
    return this.#installed.markHealthy();
  }

  /** What happened at the last install or trial (installed, confirmed, rolled back and why); null when unknown. */
  lastUpdateResult(): Promise<LastResult | null> {
    return this.#installed.lastUpdateResult();
  }

  /** Removes versions the versioned layout no longer keeps (current, previous and a trial stay). */
  cleanup(): Promise<CleanupResult | null> {
    return this.#installed.cleanup();
  }

  /**
   * Quit-and-install for the versioned layout: starts the launcher with `args` (default: this process's
   * arguments) detached, exactly as the root's entry point starts it (its launcher flags: trial limits, `--quiet`;
   * see `RestartOptions.entryPoint`); it runs the version install.json selects. Exit right after. Throws
   * INVALID_ARGUMENT when the install dir is not a versioned install root, or when its entry point cannot be read
   * back (edited by hand).
   */
  restart(options: RestartOptions = {}): Promise<void> {
    return this.#installed.restart(options);
  }

  async #run<T>(
    options: OperationOptions,
    body: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    try {
      checkAborted(options.signal, 'The update was aborted.');
      await this.#cache.create();
      const release = await acquireLock(
        this.#cache.lockPath,
        `The update cache ${this.#cache.dir}`,
        undefined,
        'CACHE_LOCKED',
      );
      try {
        return await body(options.signal);
      } finally {
        await release();
      }
    } catch (err) {
      const e = asNotsotufError(err, options.signal);
      this.emit('error', e);
      throw e;
    }
  }

  async #plan(
    meta: TrustedMetadata,
    signal?: AbortSignal,
  ): Promise<{ plan: UpdatePlan; baseTar?: VerifiedTar }> {
    const releases = releasesOf(groupReleases(meta.targets), this.appName);
    const channel = this.#options.channel ?? DEFAULT_CLIENT_OPTIONS.channel;
    const ignoreRequired = this.#options.ignoreRequired ?? DEFAULT_CLIENT_OPTIONS.ignoreRequired;
    const allowPatches = this.#options.allowPatches ?? DEFAULT_CLIENT_OPTIONS.allowPatches;
    // Versions that failed their trial here (versioned layout) are not offered again.
    const failedVersions = await this.#installed.failedVersions();
    const offer = {
      app: this.appName,
      current: this.currentVersion,
      installId: this.#options.installId ?? (await this.#cache.installId()),
      now: (this.#options.now ?? Date.now)(),
    };
    const base = { releases, current: this.currentVersion, channel, ignoreRequired, failedVersions, offer };
    // Only look at the cached archive (which costs a decompression) when there is something to patch to.
    let inspected: InspectedBase = { state: 'missing' };
    if (allowPatches && selectOffered(base).release) {
      inspected = await this.#base.inspect(releases, this.currentVersion, signal);
    }
    const downloadRate =
      this.#options.downloadRate ?? (await readDownloadRate(this.#cache.dir))?.bytesPerSecond;
    const plan = planUpdate({
      ...base,
      allowPatches,
      cachedArchive: inspected.state,
      failedPatches: await this.#cache.failedPatches(),
      knownCodecs: new Set(codecNames()),
      ...(downloadRate !== undefined ? { downloadRate } : {}),
    });
    return inspected.tar ? { plan, baseTar: inspected.tar } : { plan };
  }

  /** The metadata may have moved on since the check: plans again, and insists on the release the check found. */
  async #planAgain(
    meta: TrustedMetadata,
    checked: PlannedUpdate,
    signal: AbortSignal | undefined,
  ): Promise<{ plan: PlannedUpdate; baseTar: VerifiedTar | undefined }> {
    const { plan, baseTar } = await this.#plan(meta, signal);
    if (plan.kind === 'none' || compareVersions(plan.release.version, checked.release.version) !== 0) {
      throw new NotsotufError('UPDATE_NOT_CHECKED', 'The repository changed since the last check.', {
        hint: 'Check for updates again.',
      });
    }
    return { plan, baseTar };
  }

  /** Extracts the downloaded tar into a fresh staging directory; returns its path. */
  async #extract(downloaded: Downloaded, signal: AbortSignal | undefined): Promise<string> {
    this.emit('extracting', { version: downloaded.release.version.raw });
    const staging = join(this.#cache.workDir, `staging-${downloaded.release.version.normalized}`);
    // Never reuse a staging tree: a failed attempt may have left one behind.
    await rm(staging, { recursive: true, force: true });
    await timed(this.#ctx.emit, 'extract', () =>
      extractTar(downloaded.tar.path, staging, {
        maxTarSize: downloaded.tar.size,
        ...(signal ? { signal } : {}),
      }),
    );
    return staging;
  }

  /** Installs the staging tree with `strategy`; a failed install removes the staging tree. */
  async #install(
    strategy: InstallStrategy,
    staging: string,
    version: string,
    signal: AbortSignal | undefined,
  ): Promise<InstallOutcome> {
    const installStarted = performance.now();
    const outcome = await strategy
      .install({
        sourceDir: staging,
        installDir: this.#options.installDir,
        version,
        ...(signal ? { signal } : {}),
        onStep: (step) => this.emit('installing', step),
        onWarning: (message, cause) => this.emit('warning', { message, cause }),
      })
      .catch(async (err: unknown) => {
        await rm(staging, { recursive: true, force: true });
        throw err;
      });
    emitTiming(this.#ctx.emit, 'install', performance.now() - installStarted);
    return outcome;
  }
}
