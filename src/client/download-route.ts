/**
 * The download route the plan chose, executed: the patch chain applied to the verified cached base, or the full
 * archive; a patch chain that fails in a way the full archive may not is remembered (when the patch itself is
 * broken) and replaced by the full archive in the same call. Either way the result is the release's tar, checked
 * against the signed size and hash.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotsotufError, NotsotufError } from '../core/errors.js';
import { wrapForeignError } from '../core/foreign-error.js';
import type { ReleaseFile } from '../core/releases.js';
import type { Version } from '../core/version.js';
import type { ResilientFetcher } from '../transport/index.js';
import { renameRetrying } from '../util/durable-fs.js';
import { asNotsotufError, type ClientContext, emitTiming, maxTarSizeOf, timed } from './client-context.js';
import { recordDownloadRate } from './download-rate.js';
import type { UpdatePlan } from './plan/plan-update.js';
import type { ProgressMeter } from './progress-meter.js';
import { applyPatchChain, type DownloadedPatch, unpackArchive, type VerifiedTar } from './rebuild.js';
import type { TrustedMetadata } from './trusted-metadata.js';

export type PlannedUpdate = UpdatePlan & { kind: 'update' };

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

export interface RouteOptions {
  readonly meta: TrustedMetadata;
  readonly plan: PlannedUpdate;
  /** The verified tar of the installed version; without it the patch route is not taken. */
  readonly baseTar: VerifiedTar | undefined;
  readonly meter: ProgressMeter;
  readonly signal: AbortSignal | undefined;
}

export interface RoutedDownload {
  /** The verified tar, kept in the cache as the next patch update's base (CacheDir.baseTarPath). */
  readonly tar: VerifiedTar;
  /** The patch route failed and the full archive was downloaded instead. */
  readonly fellBack: boolean;
}

/** Downloads the release along the planned route, falling back to the full archive; see the module comment. */
export async function downloadAlongRoute(ctx: ClientContext, route: RouteOptions): Promise<RoutedDownload> {
  const { meta, plan, baseTar, meter, signal } = route;
  const work = join(ctx.cache.workDir, `new-${plan.release.version.normalized}.tar`);
  let fellBack = false;
  if (plan.method.kind === 'patch' && baseTar) {
    const patches = plan.method.patches;
    try {
      const tar = await viaPatches(ctx, meta, patches, baseTar, work, signal);
      return await keepTar(ctx, plan.release.version, tar, fellBack);
    } catch (err) {
      await fallBackFrom(ctx, patches, asNotsotufError(err, signal));
      fellBack = true;
    }
  }
  if (fellBack) meter.extend(plan.archive.length);
  const archivePath = ctx.cache.targetPath(plan.archive.name);
  await downloadTarget(ctx, meta, plan.archive, archivePath);
  ctx.emit('verifying', { name: plan.archive.name });
  const tar = await timed(ctx.emit, 'unpack', () =>
    unpackArchive(archivePath, plan.archive, work, maxTarSizeOf(ctx.options), signal),
  );
  return keepTar(ctx, plan.release.version, tar, fellBack);
}

/**
 * Moves the verified tar into the cache, where it is extracted from and then kept as the next patch update's
 * base: a rename, no copy and no compression (CacheDir.baseTarPath says why).
 */
async function keepTar(
  ctx: ClientContext,
  version: Version,
  tar: VerifiedTar,
  fellBack: boolean,
): Promise<RoutedDownload> {
  const kept = ctx.cache.baseTarPath(ctx.options.appName, version);
  try {
    await renameRetrying(tar.path, kept);
  } catch (err) {
    await rm(tar.path, { force: true });
    throw wrapForeignError(err, `Keeping the verified tar in ${kept}`, {
      ioMessage: `Could not move the verified tar into the update cache (${kept}).`,
      path: kept,
    });
  }
  return { tar: { ...tar, path: kept }, fellBack };
}

/**
 * Reports the fetcher's progress against the plan's byte total, as `download-progress` events and to
 * `onProgress`.
 */
export function reportProgress(
  ctx: ClientContext,
  fetcher: ResilientFetcher,
  meter: ProgressMeter,
  onProgress: ((p: { bytes: number; total: number; rate: number }) => void) | undefined,
): void {
  fetcher.onProgress = (p) => {
    const rate = meter.add(p.delta);
    // The target name, without the hash prefix of consistent-snapshot URLs.
    const file = p.url.slice(p.url.lastIndexOf('/') + 1).replace(/^[0-9a-f]{64}\./, '');
    ctx.emit('download-progress', { bytes: meter.bytes, total: meter.total, rate, file });
    onProgress?.({ bytes: meter.bytes, total: meter.total, rate });
  };
}

/** Rethrows a failure the full archive would not fix; else remembers a broken patch and warns. */
async function fallBackFrom(
  ctx: ClientContext,
  patches: readonly ReleaseFile[],
  e: NotsotufError,
): Promise<void> {
  if (!FALLBACK_CODES.has(e.code)) throw e;
  const failed = patches.find((p) => p.name === e.details['patch']);
  if (failed && PATCH_BROKEN_CODES.has(e.code)) await ctx.cache.markPatchFailed(failed);
  ctx.emit('warning', {
    message: `The patch update failed (${e.code}); downloading the full archive.`,
    cause: e,
  });
}

/**
 * Downloads one target through tuf-js (verified against its signed length and hashes) and adds the transfer to
 * this client's measured download rate, which the next plan weighs patch apply time against.
 */
async function downloadTarget(
  ctx: ClientContext,
  meta: TrustedMetadata,
  file: ReleaseFile,
  path: string,
): Promise<void> {
  const started = performance.now();
  await meta.downloadTarget(file.name, path);
  const ms = performance.now() - started;
  emitTiming(ctx.emit, 'download', ms);
  await recordDownloadRate(ctx.cache.dir, file.length, ms / 1000);
}

/** Downloads the patches of the chain (each failure names its patch), then applies them to `base`. */
async function viaPatches(
  ctx: ClientContext,
  meta: TrustedMetadata,
  patches: readonly ReleaseFile[],
  base: VerifiedTar,
  outPath: string,
  signal: AbortSignal | undefined,
): Promise<VerifiedTar> {
  const downloaded: DownloadedPatch[] = [];
  for (const file of patches) {
    const path = ctx.cache.targetPath(file.name);
    try {
      await downloadTarget(ctx, meta, file, path);
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
  return timed(ctx.emit, 'apply', () =>
    applyPatchChain({
      base,
      patches: downloaded,
      outPath,
      ...(signal ? { signal } : {}),
      onPatch: (index, file) => {
        ctx.emit('patching', { index, count: patches.length, name: file.name });
      },
    }),
  );
}
