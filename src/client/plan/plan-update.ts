/**
 * How to get from the installed version to the selected release: a chain of patches or the full archive.
 * Pure: the caller gathers the facts (trusted releases, state of the cached archive, patches that failed before)
 * and executes the plan. Improves on tufup by detecting a broken chain before anything is downloaded.
 */
import { inLine } from '../../core/release-policy.js';
import type { Release, ReleaseFile } from '../../core/releases.js';
import { compareVersions, type Version } from '../../core/version.js';
import type { WithheldRelease } from './offer.js';
import {
  DEFAULT_ROUTE_COSTS,
  estimateRoutes,
  type RouteCostTable,
  type RouteEstimate,
} from './route-cost.js';
import { type SelectReleaseInput, selectOffered } from './select-release.js';

/**
 * tufup's rule: patches are used while their total size is at most this fraction of the full archive. notsotuf
 * keeps it as an upper bound, and below it also weighs the time to apply them (see {@link estimateRoutes}).
 */
export const DEFAULT_MAX_PATCH_RATIO = 0.8;

/**
 * What the client knows about its cached archive of the installed version: `verified` (hash matches the signed
 * metadata), `unverifiable` (present, but the metadata gives no hash to check it against; the patch results are
 * still verified), `mismatch` (present but not what was published) or `missing`.
 */
export type CachedArchiveState = 'verified' | 'unverifiable' | 'mismatch' | 'missing';

/** Why a plan downloads the full archive instead of patches. */
export type FullReason =
  | 'patches-disabled'
  | 'no-cached-archive'
  | 'cached-archive-mismatch'
  | 'chain-gap'
  | 'patch-codec-unknown'
  | 'patch-failed'
  | 'patches-too-large'
  | 'patch-slower'
  | 'recall';

/**
 * `estimate` (both routes' expected seconds) is there when the choice came down to time: a usable chain within the
 * size ratio.
 */
export type UpdateMethod =
  | {
      readonly kind: 'patch';
      readonly patches: readonly ReleaseFile[];
      readonly bytes: number;
      readonly estimate?: RouteEstimate;
    }
  | {
      readonly kind: 'full';
      readonly archive: ReleaseFile;
      readonly bytes: number;
      readonly reason: FullReason;
      readonly estimate?: RouteEstimate;
    };

/** Why this install gets the update, beyond "it is newer". */
export interface UpdateReason {
  /** The install is below the release's minimum version: it must update. */
  readonly critical: boolean;
  /** Offered by a staged rollout: the share now and this install's bucket. */
  readonly rollout?: { readonly percent: number; readonly bucket: number };
  /** The installed release was recalled; this is the release the publisher moves it to (may be lower). */
  readonly recall?: { readonly from: string; readonly reason?: string };
}

export type UpdatePlan =
  | {
      readonly kind: 'none';
      /** Newer releases the signed policies withhold from this install, and why. */
      readonly withheld?: readonly WithheldRelease[];
    }
  | {
      readonly kind: 'update';
      readonly release: Release;
      /** The archive of `release`, the fallback when a patch fails. */
      readonly archive: ReleaseFile;
      readonly method: UpdateMethod;
      readonly reason?: UpdateReason;
      readonly withheld?: readonly WithheldRelease[];
    };

/** Which release (see SelectReleaseInput: releases, current, channel, ignoreRequired, failedVersions), and how. */
export interface PlanInput extends SelectReleaseInput {
  /** False forces the full archive (tufup's `patch=False`). */
  readonly allowPatches: boolean;
  readonly cachedArchive: CachedArchiveState;
  /** Keys (see {@link failedPatchKey}) of patches that produced a wrong result before. */
  readonly failedPatches: ReadonlySet<string>;
  /** Patch codecs this client can apply. */
  readonly knownCodecs: ReadonlySet<string>;
  /** Default {@link DEFAULT_MAX_PATCH_RATIO}. */
  readonly maxPatchRatio?: number;
  /** This client's measured download rate (bytes per second); absent: the cost table's default. */
  readonly downloadRate?: number;
  /** Default {@link DEFAULT_ROUTE_COSTS}, measured with `npm run bench`. */
  readonly routeCosts?: RouteCostTable;
}

/**
 * Identifies one published patch: the name and its hash, so a patch re-published under the same name gets a
 * new chance.
 */
export function failedPatchKey(file: Pick<ReleaseFile, 'name' | 'sha256'>): string {
  return `${file.name}@${file.sha256 ?? ''}`;
}

/** The patch codec of a release file; tufup patches carry none and are bsdiff4. */
export function patchCodecOf(file: ReleaseFile): string {
  return file.patchCodec ?? 'bsdiff4';
}

/**
 * The patches leading from `current` to `target`, in the order to apply them, or `undefined` when the chain is
 * broken: every release after `current` up to `target` (pre-releases included, whatever the channel: the chain is
 * linear over all releases) must have a patch with the signed size and hash of its result, and `current` itself must be a known release, since the first
 * patch was made against the release just before it.
 */
export function patchChain(
  releases: readonly Release[],
  current: Version,
  target: Version,
): ReleaseFile[] | undefined {
  // Patches chain along one line: maintenance releases of the target's line, or the main line (no `line`).
  const line = releases.find((r) => compareVersions(r.version, target) === 0)?.policy?.line;
  const chainOf = releases.filter((r) =>
    line === undefined ? r.policy?.line === undefined : inLine(r.version, line),
  );
  const index = chainOf.findIndex((r) => compareVersions(r.version, current) === 0);
  if (index < 0) return undefined;
  const chain: ReleaseFile[] = [];
  for (const release of chainOf.slice(index + 1)) {
    if (compareVersions(release.version, target) > 0) break;
    // A patch without the signed size and hash of its result could not be verified: unusable.
    const patch = release.patch;
    if (!patch || patch.tarSize === undefined || patch.tarHash === undefined) return undefined;
    chain.push(patch);
  }
  return chain.length > 0 ? chain : undefined;
}

function full(archive: ReleaseFile, reason: FullReason): UpdateMethod {
  return { kind: 'full', archive, bytes: archive.length, reason };
}

/** Chooses the release and the cheapest safe way to it; a recalled install goes to the release it is recalled to. */
export function planUpdate(input: PlanInput): UpdatePlan {
  const selection = selectOffered(input);
  const withheld = selection.withheld.length > 0 ? { withheld: selection.withheld } : {};
  const release = selection.release;
  if (release?.archive) {
    const archive = release.archive;
    const decision = selection.decision;
    const reason: UpdateReason = {
      critical: decision?.critical ?? false,
      ...(decision?.rollout ? { rollout: decision.rollout } : {}),
    };
    return {
      kind: 'update',
      release,
      archive,
      method: chooseMethod(input, release, archive),
      reason,
      ...withheld,
    };
  }
  const recalled = recallTarget(input);
  if (recalled) {
    const { release: good, recall } = recalled;
    const archive = good.archive as ReleaseFile;
    return {
      kind: 'update',
      release: good,
      archive,
      // Patches only go up a chain; going back takes the full archive.
      method: full(archive, 'recall'),
      reason: { critical: true, recall },
      ...withheld,
    };
  }
  return { kind: 'none', ...withheld };
}

/** The release a recall of the installed release points to, when there is one to install. */
function recallTarget(
  input: PlanInput,
): { release: Release; recall: { from: string; reason?: string } } | undefined {
  const current = input.releases.find((r) => compareVersions(r.version, input.current) === 0);
  const recall = input.offer ? current?.policy?.recall : undefined;
  if (!current || !recall) return undefined;
  const release = input.releases.find((r) => r.version.normalized === recall.to);
  if (!release?.archive || release.policy?.recall) return undefined;
  if (input.failedVersions?.has(release.version.normalized)) return undefined;
  return {
    release,
    recall: { from: current.version.normalized, ...(recall.reason ? { reason: recall.reason } : {}) },
  };
}

function chooseMethod(input: PlanInput, release: Release, archive: ReleaseFile): UpdateMethod {
  if (!input.allowPatches) return full(archive, 'patches-disabled');
  if (input.cachedArchive === 'missing') return full(archive, 'no-cached-archive');
  if (input.cachedArchive === 'mismatch') return full(archive, 'cached-archive-mismatch');
  const chain = patchChain(input.releases, input.current, release.version);
  if (!chain) return full(archive, 'chain-gap');
  if (chain.some((p) => !input.knownCodecs.has(patchCodecOf(p)))) return full(archive, 'patch-codec-unknown');
  if (chain.some((p) => input.failedPatches.has(failedPatchKey(p)))) return full(archive, 'patch-failed');
  const bytes = chain.reduce((sum, p) => sum + p.length, 0);
  const ratio = input.maxPatchRatio ?? DEFAULT_MAX_PATCH_RATIO;
  if (bytes > ratio * archive.length) return full(archive, 'patches-too-large');
  // Below tufup's bound, time decides: on a fast link, applying a chain can take longer than the bytes it saves.
  const estimate = estimateRoutes({
    patches: chain,
    archive,
    ...(input.downloadRate !== undefined ? { rate: input.downloadRate } : {}),
    ...(input.routeCosts ? { costs: input.routeCosts } : {}),
  });
  const minSaved = (input.routeCosts ?? DEFAULT_ROUTE_COSTS).minSecondsSaved;
  if (estimate.patchSeconds > estimate.fullSeconds + minSaved) {
    return { ...full(archive, 'patch-slower'), estimate };
  }
  return { kind: 'patch', patches: chain, bytes, estimate };
}

/** What the signed metadata says the cached archive of `current` must be; fields are absent when not published. */
export interface CachedArchiveFacts {
  /** The published `.tar.gz` (a cached copy downloaded in full has exactly these bytes). */
  readonly archive?: ReleaseFile;
  /** The uncompressed tar (a cached copy rebuilt from patches has this tar, in different gzip bytes). */
  readonly tarSize?: number;
  readonly tarHash?: string;
}

/** The facts to check a cached archive of `current` against: its archive entry, else the patch that produced it. */
export function cachedArchiveFacts(releases: readonly Release[], current: Version): CachedArchiveFacts {
  const release = releases.find((r) => compareVersions(r.version, current) === 0);
  if (!release) return {};
  const tar = release.archive?.tarHash !== undefined ? release.archive : release.patch;
  return {
    ...(release.archive ? { archive: release.archive } : {}),
    ...(tar?.tarSize !== undefined && tar.tarHash !== undefined
      ? { tarSize: tar.tarSize, tarHash: tar.tarHash }
      : {}),
  };
}
