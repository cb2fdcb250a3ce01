/**
 * The Client an app embeds: check → download (patch chain or full archive, through tuf-js) → rebuild and verify →
 * extract → install. Every decision is made by the pure functions in `plan/`; this class gathers their inputs and
 * executes their result, holding the cache lock while it works. It never prints, prompts or exits.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { extractTar } from '../archive/index.js';
import { checkAborted } from '../core/aborted.js';
import { isNotsotufError, NotsotufError } from '../core/errors.js';
import { wrapForeignError } from '../core/foreign-error.js';
import { groupReleases, type Release, type ReleaseFile } from '../core/releases.js';
import { compareVersions, parseVersion, tryParseVersion, type Version } from '../core/version.js';
import type { CleanupResult, InstallOutcome, InstallStrategy, LastResult } from '../install/index.js';
import { codecNames } from '../patch/registry.js';
import type { ResilientFetcher } from '../transport/index.js';
import { acquireLock } from '../util/lock-file.js';
import { CacheDir } from './cache-dir.js';
import { readDownloadRate, recordDownloadRate } from './download-rate.js';
import { ClientEvents, type ClientPhase } from './events.js';
import { InstalledApp, type RestartOptions } from './installed-app.js';
import { type ClientOptions, DEFAULT_CLIENT_OPTIONS, type Mirror } from './options.js';
import { cachedArchiveFacts, planUpdate, type UpdatePlan } from './plan/plan-update.js';
import { selectOffered } from './plan/select-release.js';
import { ProgressMeter } from './progress-meter.js';
import {
  applyPatchChain,
  type DownloadedPatch,
  inspectCachedArchive,
  unpackArchive,
  type VerifiedTar,
} from './rebuild.js';
import { fetcherFor } from './repository-access.js';
import { refreshTrustedMetadata, type TrustedMetadata } from './trusted-metadata.js';
import { describePlan, type UpdateInfo } from './update-info.js';

type PlannedUpdate = UpdatePlan & { kind: 'update' };

/** A downloaded, verified update waiting to be installed. */
export interface DownloadedUpdate {
  readonly version: string;
  /** The release's archive in the cache (rebuilt from patches, or as published). */
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

/** How long the metadata of a check may be used for the download that follows it. */
const SESSION_REUSE_MS = 5 * 60 * 1000;

// Failures of the patch route after which the full archive is worth a try; anything else (abort, lock, disk)
// would fail the same way again.
const FALLBACK_CODES = new Set([
  'PATCH_INVALID',
  'PATCH_RESULT_MISMATCH',
  'PATCH_CODEC_UNKNOWN',
  'TARGET_VERIFY_FAILED',
  'TARGET_FILE_MISMATCH',
  'DOWNLOAD_FAILED',
  'DOWNLOAD_TOO_LARGE',
]);
// A patch that verified against the signed metadata and still gave a wrong result will never work: remember it.
const PATCH_BROKEN_CODES = new Set(['PATCH_INVALID', 'PATCH_RESULT_MISMATCH']);

/** IO_ERROR for an errno error, ABORTED, else INTERNAL_ERROR (a bug): see `core/foreign-error.ts`. */
function asNotsotufError(err: unknown, signal: AbortSignal | undefined): NotsotufError {
  return wrapForeignError(err, 'The update', { signal });
}

/** The trusted root option, checked: bytes, or a file path (a string or `{ path }`). */
function trustedRootOf(root: unknown): Uint8Array | { readonly path: string } {
  if (root instanceof Uint8Array) return root;
  if (typeof root === 'string' && root !== '') return { path: root };
  const path = (root as { path?: unknown } | null)?.path;
  if (typeof path === 'string' && path !== '') return { path };
  throw new NotsotufError('INVALID_ARGUMENT', 'trustedRoot must be the root.json the app bundles.', {
    hint: "Pass its path (trustedRoot: 'root.json' or { path: 'root.json' }) or its bytes (a Uint8Array).",
  });
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
  readonly #mirrors: readonly Mirror[];
  readonly #installed: InstalledApp;
  readonly #trustedRoot: Uint8Array | { readonly path: string };
  #checked: { plan: PlannedUpdate; info: UpdateInfo } | undefined;
  #session: { meta: TrustedMetadata; fetcher: ResilientFetcher; at: number } | undefined;
  #downloaded:
    | { release: Release; archivePath: string; tar: VerifiedTar; result: DownloadedUpdate }
    | undefined;
  /**
   * The cached archive inspected by the last plan, and the files it was, so that the download right after a check
   * does not decompress and hash it again (183 MB: about 2 s here). Reused only while neither file changed.
   */
  #inspectedBase:
    | {
        key: string;
        inspected: Awaited<ReturnType<typeof inspectCachedArchive>>;
      }
    | undefined;

  /** Throws INVALID_ARGUMENT (no repository location) and VERSION_INVALID. */
  constructor(options: ClientOptions) {
    super();
    this.#options = options;
    this.appName = options.appName;
    this.currentVersion = parseVersion(options.currentVersion);
    this.installDir = options.installDir;
    this.cacheDir = options.cacheDir;
    this.#cache = new CacheDir(options.cacheDir);
    const mirrors =
      options.mirrors ??
      (options.metadataUrl && options.targetsUrl
        ? [{ metadataUrl: options.metadataUrl, targetsUrl: options.targetsUrl }]
        : []);
    if (mirrors.length === 0) {
      throw new NotsotufError('INVALID_ARGUMENT', 'The client needs a repository location.', {
        hint: 'Pass metadataUrl and targetsUrl, or mirrors.',
      });
    }
    this.#mirrors = mirrors;
    this.#trustedRoot = trustedRootOf(options.trustedRoot);
    this.#installed = new InstalledApp(options.installDir, this.currentVersion.raw, options.appName);
  }

  /**
   * Refreshes the trusted metadata and decides whether and how to update. Returns null when the installed version
   * is the newest in the channel. Throws METADATA_* (the repository did not verify), DOWNLOAD_*, CACHE_LOCKED.
   */
  async checkForUpdates(options: OperationOptions = {}): Promise<UpdateInfo | null> {
    return this.#run(options, async (signal) => {
      this.emit('checking', { currentVersion: this.currentVersion.raw });
      await this.#closeSession();
      this.#inspectedBase = undefined;
      await this.#cache.clearWork();
      this.#checked = undefined;
      this.#downloaded = undefined;
      const { meta } = await this.#openSession(signal, false);
      {
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
      }
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
      const { meta, fetcher } = await this.#openSession(signal, true);
      try {
        // The metadata may have moved on since the check: plan again.
        const { plan, baseTar } = await this.#plan(meta, signal);
        if (
          plan.kind === 'none' ||
          compareVersions(plan.release.version, checked.plan.release.version) !== 0
        ) {
          throw new NotsotufError('UPDATE_NOT_CHECKED', 'The repository changed since the last check.', {
            hint: 'Check for updates again.',
          });
        }
        const meter = new ProgressMeter(plan.method.bytes);
        fetcher.onProgress = (p) => {
          const rate = meter.add(p.delta);
          // The target name, without the hash prefix of consistent-snapshot URLs.
          const file = p.url.slice(p.url.lastIndexOf('/') + 1).replace(/^[0-9a-f]{64}\./, '');
          this.emit('download-progress', { bytes: meter.bytes, total: meter.total, rate, file });
          options.onProgress?.({ bytes: meter.bytes, total: meter.total, rate });
        };
        const work = join(this.#cache.workDir, `new-${plan.release.version.normalized}.tar`);
        let fellBack = false;
        let tar: VerifiedTar | undefined;
        let archivePath = this.#cache.targetPath(plan.archive.name);
        if (plan.method.kind === 'patch' && baseTar) {
          try {
            // The rebuilt tar is gzipped into the cache while it is produced (the next update's base).
            tar = await this.#viaPatches(meta, plan.method.patches, baseTar, work, archivePath, signal);
          } catch (err) {
            const e = asNotsotufError(err, signal);
            if (!FALLBACK_CODES.has(e.code)) throw e;
            const failed = plan.method.patches.find((p) => p.name === e.details['patch']);
            if (failed && PATCH_BROKEN_CODES.has(e.code)) await this.#cache.markPatchFailed(failed);
            this.emit('warning', {
              message: `The patch update failed (${e.code}); downloading the full archive.`,
              cause: e,
            });
            fellBack = true;
          }
        }
        if (!tar) {
          if (fellBack) meter.extend(plan.archive.length);
          archivePath = this.#cache.targetPath(plan.archive.name);
          await this.#download(meta, plan.archive, archivePath);
          this.emit('verifying', { name: plan.archive.name });
          tar = await this.#timed('unpack', () =>
            unpackArchive(archivePath, plan.archive, work, this.#maxTarSize(), signal),
          );
        }
        const result: DownloadedUpdate = {
          version: plan.release.version.raw,
          archivePath,
          method: fellBack || plan.method.kind === 'full' ? 'full' : 'patch',
          fellBack,
          bytes: meter.bytes,
        };
        this.#downloaded = { release: plan.release, archivePath, tar, result };
        return result;
      } finally {
        fetcher.onProgress = undefined;
        await this.#closeSession();
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
      this.emit('extracting', { version });
      const staging = join(this.#cache.workDir, `staging-${downloaded.release.version.normalized}`);
      // Never reuse a staging tree: a failed attempt may have left one behind.
      await rm(staging, { recursive: true, force: true });
      await this.#timed('extract', () =>
        extractTar(downloaded.tar.path, staging, {
          maxTarSize: downloaded.tar.size,
          ...(signal ? { signal } : {}),
        }),
      );
      const strategy =
        options.strategy ?? this.#options.installStrategy ?? (await this.#installed.defaultStrategy());
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
      this.#emitTiming('install', performance.now() - installStarted);
      // A handover keeps the staging tree: the helper copies from it after the app quits.
      // Past the point of no return: cache housekeeping is best effort.
      if (outcome.kind === 'installed') {
        const keep = basename(downloaded.archivePath);
        // The versioned layout keeps the previous version for a rollback; after one, that version runs again and
        // its archive is the base of the next patch. So the archives of every version the root keeps stay.
        await this.#installed
          .keptVersions()
          .then((versions) =>
            this.#cache.prune(
              this.appName,
              keep,
              versions.flatMap((v) => tryParseVersion(v) ?? []),
            ),
          )
          .catch((err) => this.emit('warning', { message: 'Could not clean the update cache.', cause: err }));
        await this.#cache.clearWork().catch(() => {});
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

  /**
   * The trusted metadata of the last refresh. A download right after its check reuses it (no second round of
   * requests); after SESSION_REUSE_MS the metadata is refreshed again, since tuf-js checks expiry against the time
   * of the refresh.
   */
  async #openSession(
    signal: AbortSignal | undefined,
    reuse: boolean,
  ): Promise<{ meta: TrustedMetadata; fetcher: ResilientFetcher }> {
    const open = this.#session;
    if (reuse && open && Date.now() - open.at < SESSION_REUSE_MS) {
      open.fetcher.signal = signal;
      return open;
    }
    await this.#closeSession();
    const fetcher = this.#fetcher(signal);
    const meta = await this.#refresh(fetcher);
    this.#session = { meta, fetcher, at: Date.now() };
    return this.#session;
  }

  async #closeSession(): Promise<void> {
    const open = this.#session;
    this.#session = undefined;
    await open?.meta.close();
  }

  #maxTarSize(): number {
    return this.#options.maxUnsignedTarSize ?? DEFAULT_CLIENT_OPTIONS.maxUnsignedTarSize;
  }

  #fetcher(signal: AbortSignal | undefined): ResilientFetcher {
    return fetcherFor(this.#mirrors, this.#options, this.#cache.partialDir, signal);
  }

  async #refresh(fetcher: ResilientFetcher): Promise<TrustedMetadata> {
    const root = this.#trustedRoot;
    const trustedRoot =
      root instanceof Uint8Array
        ? root
        : await readFile(root.path).catch((err) => {
            throw new NotsotufError('INVALID_ARGUMENT', `Cannot read the trusted root ${root.path}.`, {
              cause: err,
              path: root.path,
              hint: 'Bundle the repository’s root.json with the app and pass its path.',
            });
          });
    return this.#timed('refresh', () =>
      refreshTrustedMetadata({
        metadataDir: this.#cache.metadataDir,
        workDir: this.#cache.workDir,
        trustedRoot,
        fetcher,
        onWarning: (message) => this.emit('warning', { message }),
      }),
    );
  }

  /** Runs `body` and reports its duration as a `timing` event (also when it fails). */
  async #timed<T>(phase: ClientPhase, body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await body();
    } finally {
      this.#emitTiming(phase, performance.now() - started);
    }
  }

  #emitTiming(phase: ClientPhase, ms: number): void {
    this.emit('timing', { phase, ms });
  }

  /**
   * Downloads one target through tuf-js (verified against its signed length and hashes) and adds the transfer to
   * this client's measured download rate, which the next plan weighs patch apply time against.
   */
  async #download(meta: TrustedMetadata, file: ReleaseFile, path: string): Promise<void> {
    const started = performance.now();
    await meta.downloadTarget(file.name, path);
    const ms = performance.now() - started;
    this.#emitTiming('download', ms);
    await recordDownloadRate(this.#cache.dir, file.length, ms / 1000);
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
    let inspected: Awaited<ReturnType<typeof inspectCachedArchive>> = { state: 'missing' };
    if (allowPatches && selectOffered(base).release) {
      const cached = await this.#cache.findArchive(this.appName, this.currentVersion);
      const tarPath = join(this.#cache.workDir, `base-${this.currentVersion.normalized}.tar`);
      const facts = cachedArchiveFacts(releases, this.currentVersion);
      const key = await fileKey([cached, tarPath], facts);
      const memo = this.#inspectedBase;
      if (memo && key !== undefined && memo.key === key) inspected = memo.inspected;
      else {
        this.#inspectedBase = undefined;
        await rm(tarPath, { force: true });
        inspected = await this.#timed('inspect-base', () =>
          inspectCachedArchive(cached, facts, tarPath, this.#maxTarSize(), signal),
        );
        const after = await fileKey([cached, tarPath], facts);
        if (after !== undefined) this.#inspectedBase = { key: after, inspected };
      }
      if (inspected.state === 'mismatch') {
        this.emit('warning', {
          message:
            'The cached archive of the installed version does not match the metadata; it will not be used.',
        });
      }
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

  async #viaPatches(
    meta: TrustedMetadata,
    patches: readonly ReleaseFile[],
    base: VerifiedTar,
    outPath: string,
    archivePath: string,
    signal: AbortSignal | undefined,
  ): Promise<VerifiedTar> {
    const downloaded: DownloadedPatch[] = [];
    for (const file of patches) {
      const path = this.#cache.targetPath(file.name);
      try {
        await this.#download(meta, file, path);
      } catch (err) {
        throw isNotsotufError(err)
          ? new NotsotufError(err.code, err.message, {
              cause: err,
              details: { ...err.details, patch: file.name },
            })
          : err;
      }
      downloaded.push({ file, path });
    }
    return this.#timed('apply', () =>
      applyPatchChain({
        base,
        patches: downloaded,
        outPath,
        storeTo: archivePath,
        ...(signal ? { signal } : {}),
        onPatch: (index, file) => {
          this.emit('patching', { index, count: patches.length, name: file.name });
        },
        onStoreWait: (ms) => this.#emitTiming('store-archive', ms),
      }),
    );
  }
}

/**
 * Identifies the current content of `paths` (size and modification time of each; undefined for a missing one)
 * together with the signed facts they were checked against. undefined when a path is not given.
 */
async function fileKey(paths: readonly (string | undefined)[], facts: unknown): Promise<string | undefined> {
  const parts: unknown[] = [facts];
  for (const path of paths) {
    if (path === undefined) return undefined;
    const s = await stat(path).catch(() => undefined);
    parts.push(path, s ? [s.size, s.mtimeMs, s.ino] : null);
  }
  return JSON.stringify(parts);
}
