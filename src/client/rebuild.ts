/**
 * Turning downloaded, TUF-verified files into the new release's tar, and checking it against the signed size and
 * sha256 before anything is extracted. Patches are applied in version order to the tar of the installed version;
 * a full archive is decompressed with its size capped by the signed tar size (a gzip bomb stops there).
 */
import { constants } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import { gunzipToFile } from '../archive/index.js';
import { NotsotufError } from '../core/errors.js';
import type { ReleaseFile } from '../core/releases.js';
import { applyPatchFile } from '../patch/registry.js';
import { digestsEqual, hashFile } from '../util/hash-file.js';
import type { CachedArchiveFacts, CachedArchiveState } from './plan/plan-update.js';

/** The tar of a verified archive, ready to patch or extract. */
export interface VerifiedTar {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Whether `tar` has the size and sha256 the metadata signs for it (false when no tar hash is signed). */
function matchesSignedTar(
  tar: { readonly size: number; readonly sha256: string },
  signed: { readonly tarSize?: number; readonly tarHash?: string },
): boolean {
  return (
    signed.tarHash !== undefined && tar.size === signed.tarSize && digestsEqual(tar.sha256, signed.tarHash)
  );
}

/**
 * Checks the cached archive of the installed version against the signed metadata: the published `.tar.gz` bytes,
 * or (for an archive rebuilt from patches) the signed tar inside. Returns the state and, unless it is `missing` or
 * `mismatch`, its tar decompressed to `tarPath`.
 */
export async function inspectCachedArchive(
  archivePath: string | undefined,
  facts: CachedArchiveFacts,
  tarPath: string,
  maxTarSize: number,
  signal?: AbortSignal,
): Promise<{ state: CachedArchiveState; tar?: VerifiedTar }> {
  if (!archivePath) return { state: 'missing' };
  // One pass over the archive: it is decompressed (and the tar hashed) here anyway, as the base to patch. The
  // compressed bytes need hashing only when no tar hash is signed; then they are hashed in the same pass.
  //
  // Security: when the release signs its tar, the decompressed tar is what is checked (size and sha256 against the
  // signed facts) before it is returned as `verified`; the .tar.gz hash adds nothing to that check (gzip is not
  // canonical: a tar rebuilt from patches is gzipped here at another level and never matches the published
  // archive's hash), so it is not computed. Whatever this check concludes, a patched result is trusted only after
  // it matches the size and sha256 its patch signs (applyPatchFile), so a wrong base can cost a failed patch and
  // a full download, never an unverified install.
  const hashInput = facts.tarHash === undefined && facts.archive?.sha256 !== undefined;
  let tar: { size: number; sha256: string; input?: { size: number; sha256: string } };
  try {
    tar = await gunzipToFile(archivePath, tarPath, {
      maxSize: facts.tarSize ?? maxTarSize,
      hashInput,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    // A local write failure says nothing about the archive; only bad gzip data means it is not what was published.
    if (err instanceof NotsotufError && (err.code === 'ABORTED' || err.code === 'IO_ERROR')) {
      // The archive vanished or cannot be read: treat it as missing, as before (a full download follows).
      if (err.code === 'IO_ERROR' && (await unreadable(archivePath))) return { state: 'missing' };
      throw err;
    }
    return { state: 'mismatch' };
  }
  const gzipMatches =
    facts.archive?.sha256 !== undefined &&
    tar.input !== undefined &&
    tar.input.size === facts.archive.length &&
    digestsEqual(tar.input.sha256, facts.archive.sha256);
  const verified: VerifiedTar = { path: tarPath, size: tar.size, sha256: tar.sha256 };
  if (facts.tarHash !== undefined) {
    const ok = matchesSignedTar(tar, facts);
    if (!ok) await rm(tarPath, { force: true });
    return ok ? { state: 'verified', tar: verified } : { state: 'mismatch' };
  }
  return { state: gzipMatches ? 'verified' : 'unverifiable', tar: verified };
}

/**
 * Checks the kept verified tar of the installed version (`<app>-<version>.tar`, see CacheDir.baseTarPath) against
 * the signed tar size and sha256: one hashing pass, nothing decompressed or copied; the tar itself is the base.
 * Without a signed tar hash (tufup's metadata) it is `unverifiable`. Either way a patched result is trusted only
 * once it matches the size and sha256 its patch signs, so a wrong base costs a failed patch, never a bad install.
 */
export async function inspectCachedTar(
  tarPath: string,
  facts: CachedArchiveFacts,
  signal?: AbortSignal,
): Promise<{ state: CachedArchiveState; tar?: VerifiedTar }> {
  const size = await stat(tarPath).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) return { state: 'missing' };
  if (facts.tarSize !== undefined && size !== facts.tarSize) return { state: 'mismatch' };
  let tar: { size: number; sha256: string };
  try {
    tar = await hashFile(tarPath, signal);
  } catch (err) {
    if (err instanceof NotsotufError && err.code === 'ABORTED') throw err;
    return { state: 'missing' };
  }
  const verified: VerifiedTar = { path: tarPath, ...tar };
  if (facts.tarHash === undefined) return { state: 'unverifiable', tar: verified };
  return matchesSignedTar(tar, facts) ? { state: 'verified', tar: verified } : { state: 'mismatch' };
}

async function unreadable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(
    () => false,
    () => true,
  );
}

/** Decompresses a TUF-verified full archive and checks its tar against the signed size and hash when published. */
export async function unpackArchive(
  archivePath: string,
  archive: ReleaseFile,
  tarPath: string,
  maxTarSize: number,
  signal?: AbortSignal,
): Promise<VerifiedTar> {
  const tar = await gunzipToFile(archivePath, tarPath, {
    maxSize: archive.tarSize ?? maxTarSize,
    ...(signal ? { signal } : {}),
  });
  if (archive.tarHash !== undefined && !matchesSignedTar(tar, archive)) {
    await rm(tarPath, { force: true });
    throw new NotsotufError(
      'TARGET_FILE_MISMATCH',
      `The tar inside ${archive.name} does not match its signed hash.`,
      {
        path: archivePath,
        hint: 'The repository is inconsistent; report it to the publisher. Nothing was installed.',
        details: { expected: { size: archive.tarSize, sha256: archive.tarHash }, actual: tar },
      },
    );
  }
  return { path: tarPath, ...tar };
}

/** A patch of the chain: the signed file and where it was downloaded. */
export interface DownloadedPatch {
  readonly file: ReleaseFile;
  readonly path: string;
}

/**
 * Applies `patches` in order, starting from `base`; each result must match the size and sha256 its patch entry
 * signs. On failure the error's `details.patch` names the patch that failed. Intermediate tars are removed.
 */
export async function applyPatchChain(options: {
  base: VerifiedTar;
  patches: readonly DownloadedPatch[];
  outPath: string;
  signal?: AbortSignal;
  onPatch?: (index: number, patch: ReleaseFile) => void;
}): Promise<VerifiedTar> {
  let current = options.base;
  for (const [i, patch] of options.patches.entries()) {
    options.onPatch?.(i + 1, patch.file);
    const last = i === options.patches.length - 1;
    const out = last ? options.outPath : `${options.outPath}.step${i + 1}`;
    try {
      const result = await applyPatchFile({
        oldPath: current.path,
        patchPath: patch.path,
        outPath: out,
        // planUpdate only chains patches that sign their result.
        expected: { size: patch.file.tarSize ?? -1, sha256: patch.file.tarHash ?? '' },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (current !== options.base) await rm(current.path, { force: true });
      current = { path: out, size: result.size, sha256: result.sha256 };
    } catch (err) {
      if (current !== options.base) await rm(current.path, { force: true });
      if (err instanceof NotsotufError) {
        throw new NotsotufError(err.code, err.message, {
          cause: err,
          ...(err.hint ? { hint: err.hint } : {}),
          details: { ...err.details, patch: patch.file.name },
        });
      }
      throw err;
    }
  }
  return current;
}
